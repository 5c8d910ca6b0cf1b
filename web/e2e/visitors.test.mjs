// Issue 12, part 1, in Chromium with three contexts: a visitor browsing /demo appears in the
// agent's live visitors list with page and referrer, moves pages and the list follows; the
// agent invites them, the widget shows the invitation from that agent, the visitor answers and
// the chat starts with that agent — not with the colleague routing would have picked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiAs, screenshot, serverAndBrowser, setupAdmin, watchErrors } from './helpers.mjs';

const env = serverAndBrowser();
/** Every wait has a deadline; none asserts how fast it came. */
const SOON = { timeout: 10_000 };

test('live visitors list, invitation and the chat it starts', async () => {
  const { server, browser } = env;
  const errors = [];

  // The agent (the admin, in the console) and a colleague with more free slots, accepting:
  // routing would give a new chat to Ben.
  const agentCtx = await browser.newContext({ locale: 'en-US' });
  const agent = await agentCtx.newPage();
  watchErrors(agent, errors, 'agent');
  await setupAdmin(agent, server.setupLink);
  const olga = await apiAs(server.url, 'olga@shop.example', 'correct horse battery');
  const me = await olga.call('GET', '/api/v1/me');
  await olga.call('POST', '/api/v1/agents', { email: 'ben@shop.example', name: 'Ben', role: 'agent', password: 'ben password 1', chat_limit: 10 });
  const ben = await apiAs(server.url, 'ben@shop.example', 'ben password 1');

  await agent.getByRole('link', { name: 'Visitors' }).click();
  await agent.getByRole('heading', { name: 'Visitors on the site' }).waitFor();

  // The visitor arrives from a search engine.
  const visitorCtx = await browser.newContext({ locale: 'en-US' });
  const visitor = await visitorCtx.newPage();
  watchErrors(visitor, errors, 'visitor');
  await visitor.goto(`${server.url}/demo`, { referer: 'https://www.google.com/search?q=hiking+boots' });
  const row = agent.getByRole('row').filter({ hasText: `${server.url}/demo` });
  await row.waitFor(SOON);
  await row.getByText('www.google.com').waitFor(SOON);
  await row.getByText('search: hiking boots').waitFor(SOON);
  await row.getByText('Browsing').waitFor(SOON);
  await agent.getByRole('button', { name: 'All (1)' }).waitFor(SOON);
  await screenshot(agent, 'visitors-list');

  // Another page: the same row follows (same visitor, new address).
  await visitor.getByRole('link', { name: 'Hiking boots' }).click();
  await visitor.waitForURL('**/demo?page=boots');
  const moved = agent.getByRole('row').filter({ hasText: 'page=boots' });
  await moved.waitFor(SOON);
  await moved.getByText('www.google.com').waitFor(SOON);
  assert.equal(await agent.getByRole('row').filter({ hasText: `${server.url}/demo` }).count(), 1, 'one row per visitor');

  // The agent invites them.
  await moved.getByRole('button', { name: 'Invite to chat' }).click();
  await agent.getByLabel('Invitation message').fill('Hi! Looking for boots? I can help with sizes.');
  await agent.getByRole('button', { name: 'Send invitation' }).click();
  await moved.getByText('Invited by Olga Admin').waitFor(SOON);
  await agent.getByRole('button', { name: 'Invited (1)' }).waitFor(SOON);

  // The widget opens with the invitation as a message from Olga.
  const w = visitor.frameLocator('iframe[title="Chat"]');
  const bubble = w.getByTestId('w-invitation');
  await bubble.waitFor(SOON);
  await bubble.getByText('Olga Admin').waitFor();
  await bubble.getByText('Hi! Looking for boots? I can help with sizes.').waitFor();
  await screenshot(visitor, 'visitors-invitation');

  // The visitor answers: the chat starts with Olga.
  await w.getByTestId('w-input').fill('Yes, do you have size 44?');
  await w.getByTestId('w-send').click();
  await w.getByTestId('w-status').getByText('Olga Admin').waitFor(SOON);
  await moved.getByText('Chatting with Olga Admin').waitFor(SOON);
  await agent.getByRole('button', { name: 'Chatting (1)' }).waitFor(SOON);
  await moved.getByRole('button', { name: 'Open chat' }).click();
  await agent.getByTestId('transcript').getByText('Yes, do you have size 44?').waitFor(SOON);
  await agent.getByTestId('transcript').getByText('Hi! Looking for boots? I can help with sizes.').waitFor(SOON);
  await screenshot(agent, 'visitors-chat');

  const chats = await olga.call('GET', '/api/v1/conversations?status=active');
  assert.equal(chats.items.length, 1);
  assert.equal(chats.items[0].agent_id, me.id, 'the inviting agent has the chat, not Ben');

  // The visitor leaves: the row goes.
  await visitorCtx.close();
  await agent.getByRole('row').filter({ hasText: 'page=boots' }).waitFor({ state: 'detached', timeout: 15_000 });

  await olga.dispose();
  await ben.dispose();
  await agentCtx.close();
  assert.deepEqual(errors, []);
});
