// Issue 11, internal chat: two agents talk in Chromium. The admin writes in the department's
// room (with a ticket and a chat mention); the agent, on another page, sees the unread count in
// the menu, opens Team chat, sees the message with working links, answers (the admin sees them
// typing first); then a 1:1 room between them, opened from the colleague picker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { login, pageApi, screenshot, serverAndBrowser, setupAdmin, watchErrors } from './helpers.mjs';

const env = serverAndBrowser();

test('two agents talk in the team chat', async () => {
  const { server, browser } = env;
  const errors = [];
  const olgaCtx = await browser.newContext({ locale: 'en-US' });
  const olga = await olgaCtx.newPage();
  watchErrors(olga, errors, 'olga');
  await setupAdmin(olga, server.setupLink);
  const call = pageApi(olga, server);
  const dept = await call('POST', '/api/v1/departments', { name: 'Support' });
  const ticket = await call('POST', '/api/v1/tickets', { subject: 'Broken zipper', body: 'The zipper broke.', department_id: dept.id });
  const n = ticket.number;
  await call('POST', '/api/v1/agents', { email: 'kim@shop.example', name: 'Kim', role: 'agent', password: 'correct horse battery', department_ids: [dept.id] });

  const kimCtx = await browser.newContext({ locale: 'en-US' });
  const kim = await kimCtx.newPage();
  watchErrors(kim, errors, 'kim');
  await login(kim, server.url, 'kim@shop.example', 'correct horse battery');

  // Olga writes in Support's room, from the keyboard.
  await olga.getByRole('navigation').getByRole('link', { name: /Team chat/ }).click();
  await olga.getByRole('button', { name: 'Support' }).click();
  const olgaBox = olga.getByRole('textbox', { name: 'Message to Support' });
  await olgaBox.fill(`Please look at #${n} and chat 1`);
  await olgaBox.press('Enter');
  const olgaList = olga.getByRole('list', { name: 'Messages' });
  await olgaList.getByText('Please look at').waitFor();

  // Kim is elsewhere: the menu counts the unread message; the room list says so too.
  const kimNav = kim.getByRole('navigation').getByRole('link', { name: /Team chat/ });
  await kim.waitForFunction(() => document.querySelector('[data-testid="nav-team"] .badge')?.textContent === '1');
  await kimNav.click();
  const kimList = kim.getByRole('list', { name: 'Messages' });
  await kimList.getByText('Please look at').waitFor();
  // Opening the room read it: the badge is gone.
  await kim.locator('[data-testid="nav-team"] .badge').waitFor({ state: 'detached' });
  const ticketLink = kimList.getByRole('link', { name: `#${n}` });
  assert.equal(await ticketLink.getAttribute('href'), `/tickets/${n}`);
  assert.equal(await kimList.getByRole('link', { name: 'chat 1' }).getAttribute('href'), '/chats/1');
  await screenshot(kim, 'teamchat-department');

  // Kim answers; Olga sees Kim typing, then the answer.
  const kimBox = kim.getByRole('textbox', { name: 'Message to Support' });
  await kimBox.pressSequentially('On it');
  await olga.getByRole('status').filter({ hasText: 'Kim typing…' }).waitFor();
  await kimBox.press('Enter');
  await olgaList.getByText('On it').waitFor();

  // A 1:1 room: Olga opens it from the picker; Kim gets it live, with the unread count.
  await olga.getByLabel('Message a colleague').selectOption({ label: 'Kim' });
  await olga.getByRole('button', { name: 'Open', exact: true }).click();
  const direct = olga.getByRole('textbox', { name: 'Message to Kim' });
  await direct.fill('Just between us');
  await direct.press('Enter');
  await olga.getByRole('list', { name: 'Messages' }).getByText('Just between us').waitFor();
  const kimDirect = kim.getByTestId('team-direct').getByRole('button', { name: /Olga Admin, 1 unread message/ });
  await kimDirect.click();
  await kim.getByRole('list', { name: 'Messages' }).getByText('Just between us').waitFor();
  // Kim's reload: history comes back from the server.
  await kim.reload();
  await kim.getByTestId('team-direct').getByRole('button', { name: 'Olga Admin' }).click();
  await kim.getByRole('list', { name: 'Messages' }).getByText('Just between us').waitFor();
  await screenshot(kim, 'teamchat-direct');

  // The mention link goes to the ticket page.
  await kim.getByTestId('team-departments').getByRole('button', { name: 'Support' }).click();
  await kim.getByRole('list', { name: 'Messages' }).getByRole('link', { name: `#${n}` }).click();
  await kim.waitForURL(`${server.url}/tickets/${n}`);
  await kim.getByText('Broken zipper').first().waitFor();

  await olgaCtx.close();
  await kimCtx.close();
  assert.deepEqual(errors, []);
});
