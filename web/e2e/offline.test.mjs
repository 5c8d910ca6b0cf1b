// Issue: ticket desk, the visitor's side. With nobody online the widget takes a message that
// becomes a ticket; the agent's answer is shown in the widget on the visitor's next visit. A
// chat turned into a ticket keeps its transcript.
import {  test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshot, serverAndBrowser, setupAdmin, watchErrors } from './helpers.mjs';

const env = serverAndBrowser();

test('offline message becomes a ticket, the answer reaches the widget; chat to ticket keeps the transcript', async () => {
  const { server, browser } = env;
  const errors = [];
  // Nobody is online yet: the widget offers the form.
  const visitorCtx = await browser.newContext({ locale: 'en-US' });
  const visitor = await visitorCtx.newPage();
  watchErrors(visitor, errors);
  await visitor.goto(`${server.url}/demo`);
  await visitor.getByRole('button', { name: 'Chat' }).click();
  const w = visitor.frameLocator('iframe[title="Chat"]');
  await w.getByTestId('w-offline').waitFor();
  await w.getByTestId('w-offline-name').fill('Ola');
  await w.getByTestId('w-offline-email').fill('ola@example.pl');
  await w.getByTestId('w-offline-message').fill('Do you ship to Norway?');
  await w.getByTestId('w-offline-send').click();
  await w.getByTestId('w-offline-sent').waitFor();
  await screenshot(visitor, 'offline-sent');

  // The agent finds the ticket and answers it.
  const agentCtx = await browser.newContext({ locale: 'en-US' });
  const agent = await agentCtx.newPage();
  watchErrors(agent, errors);
  await setupAdmin(agent, server.setupLink);
  // The chat below is accepted from the Queue by hand: manual routing.
  const manual = await agent.request.patch(`${server.url}/api/v1/settings/routing`, { headers: { Origin: server.url }, data: { mode: 'manual' } });
  assert.equal(manual.status(), 200);
  const list = await (await agent.request.get(`${server.url}/api/v1/tickets?status=open`)).json();
  const offline = list.items.find((t) => t.source === 'offline');
  assert.ok(offline, 'the offline message is a ticket');
  assert.equal(offline.subject, 'Do you ship to Norway?');
  assert.equal(offline.contact.email, 'ola@example.pl');
  const reply = await agent.request.post(`${server.url}/api/v1/tickets/${offline.number}/reply`, {
    headers: { Origin: server.url },
    data: { body: 'Yes, we ship to Norway in 5 days.' },
  });
  assert.equal(reply.status(), 200);
  assert.ok((await reply.json()).outbox_id, 'the answer is also mailed');

  // Next visit: the answer is in the widget; agents are online now, so chat is offered again.
  await visitor.reload();
  // It was open before: the widget comes back open by itself (issue 14).
  await w.getByTestId('w-tickets').getByText('Yes, we ship to Norway in 5 days.').waitFor();
  await screenshot(visitor, 'offline-answer');

  // A chat, turned into a ticket from the console.
  await w.getByTestId('w-input').fill('My parcel arrived damaged');
  await w.getByTestId('w-send').click();
  await agent.getByTestId('nav-chats').click();
  await agent.getByTestId('queue').getByText('My parcel arrived damaged').waitFor();
  await agent.getByTestId('queue').getByRole('button', { name: 'Accept' }).click();
  await agent.getByTestId('transcript').getByText('My parcel arrived damaged').waitFor();
  await agent.getByTestId('chat-to-ticket').click();
  await agent.waitForURL(/\/tickets\/\d+$/);
  const number = agent.url().split('/').pop();
  const ticket = await (await agent.request.get(`${server.url}/api/v1/tickets/${number}`)).json();
  assert.equal(ticket.source, 'chat');
  assert.equal(ticket.messages[0].kind, 'transcript');
  assert.match(ticket.messages[0].body, /Ola: My parcel arrived damaged/);
  assert.deepEqual(errors, []);
  await agentCtx.close();
  await visitorCtx.close();
});
