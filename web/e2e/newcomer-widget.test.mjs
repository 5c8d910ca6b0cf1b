// Issue 14, Done 3 and part of 4: the widget as a visitor meets it. It stays open across a
// reload and a navigation during a chat; an answer given while the visitor was away shows an
// unread badge on the launcher (also after coming back); focus moves into the widget when it
// opens from the keyboard and back to the launcher when it closes; a file is sent with the
// keyboard alone; a returning visitor with nobody online gets one coherent status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiAs, ownServer, screenshot, setupAdmin, sharedBrowser, watchErrors } from './helpers.mjs';

const env = sharedBrowser();

/** A deadline-bounded wait for a condition evaluated in the test. */
async function until(what, cond, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    assert.ok(Date.now() < end, `timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('open state survives reload and navigation; unread badge; keyboard file; focus', async (t) => {
  const server = await ownServer(t);
  const errors = [];
  const agentCtx = await env.browser.newContext({ locale: 'en-US' });
  const agent = await agentCtx.newPage();
  watchErrors(agent, errors, 'agent');
  const admin = await setupAdmin(agent, server.setupLink, { name: 'Ann', email: 'ann@shop.example' });
  await agent.getByTestId('nav-chats').click();

  const ctx = await env.browser.newContext({ locale: 'en-US' });
  const visitor = await ctx.newPage();
  watchErrors(visitor, errors, 'visitor');
  const favicon = visitor.waitForResponse((r) => r.url().endsWith('/favicon.svg'));
  await visitor.goto(`${server.url}/demo`);
  assert.equal((await favicon).status(), 200, 'the demo page has a favicon');
  // The demo shows the snippet for this server, not a placeholder.
  await visitor.getByText(`<script async src="${server.url}/widget.js"></script>`).waitFor();
  const launcher = visitor.getByRole('button', { name: /^Chat/ });
  const frame = visitor.locator('iframe[title="Chat"]');
  const w = visitor.frameLocator('iframe[title="Chat"]');

  // Keyboard only: Tab to the launcher, Enter opens, the focus is in the message box.
  await launcher.waitFor();
  await launcher.focus();
  await visitor.keyboard.press('Enter');
  await frame.waitFor({ state: 'visible' });
  await until('focus in the message box', async () => (await w.getByTestId('w-input').evaluate((el) => el === document.activeElement).catch(() => false)));
  await visitor.keyboard.type('Hello, I need help with boots');
  await visitor.keyboard.press('Enter');
  await agent.getByTestId('transcript').getByText('Hello, I need help with boots').waitFor();
  await w.getByText('Ann joined the chat').waitFor();

  // The attach control is reached with Tab and opened with the keyboard.
  await w.getByTestId('w-input').focus();
  let reached = false;
  for (let i = 0; i < 4 && !reached; i++) {
    await visitor.keyboard.press('Tab');
    reached = await w.getByTestId('w-file').evaluate((el) => el === document.activeElement);
  }
  assert.ok(reached, 'Tab reaches the attach control');
  const chooser = visitor.waitForEvent('filechooser');
  await visitor.keyboard.press('Space');
  await (await chooser).setFiles({ name: 'size-chart.txt', mimeType: 'text/plain', buffer: Buffer.from('EU 44 = UK 9.5\n') });
  await agent.getByTestId('transcript').getByText('size-chart.txt').waitFor();
  await w.getByTestId('w-attachment').getByText('size-chart.txt').waitFor();

  // Reload during the chat: the widget comes back open, with the conversation.
  await visitor.reload();
  await frame.waitFor({ state: 'visible' });
  await w.getByText('Hello, I need help with boots').waitFor();
  // The next page of the site: still open.
  await visitor.getByRole('link', { name: 'Hiking boots' }).click();
  await visitor.waitForURL(/page=boots/);
  await frame.waitFor({ state: 'visible' });
  await w.getByText('Hello, I need help with boots').waitFor();
  assert.equal(await launcher.isVisible(), false, 'the launcher stays hidden while open');

  // Close with the ✕ button: focus returns to the launcher.
  await w.getByRole('button', { name: 'Close chat' }).click();
  await frame.waitFor({ state: 'hidden' });
  assert.equal(await launcher.evaluate((el) => el === document.activeElement), true, 'focus back on the launcher');

  // The agent answers while the widget is closed: the launcher shows a badge.
  await agent.getByTestId('composer').fill('We have them in 44, yes');
  await agent.getByTestId('send').click();
  await until('badge 1', async () => (await launcher.innerText()).trim() === '1');
  await until('the count in the launcher\'s name', async () => (await launcher.getAttribute('aria-label')) === 'Chat: 1 new message');
  await screenshot(visitor, 'newcomer-widget-badge');
  // The visitor goes away and comes back later: the answer is still unread.
  await visitor.goto(`${server.url}/demo?page=tents`);
  await until('badge after coming back', async () => (await launcher.innerText()).trim() === '1');
  await frame.waitFor({ state: 'hidden' });
  // Opening shows it and clears the badge; another reload keeps it cleared.
  await launcher.click();
  await w.getByText('We have them in 44, yes').waitFor();
  await visitor.reload();
  await w.getByText('We have them in 44, yes').waitFor();
  await w.getByRole('button', { name: 'Close chat' }).click();
  await until('no badge', async () => (await launcher.innerText()).trim() === '');

  // The chat ends and nobody is online: one status, not "ended" above "not online".
  const api = await apiAs(server.url, admin.email, admin.password);
  await agent.getByTestId('end-chat').click();
  await api.call('PUT', '/api/v1/me/status', { status: 'offline' });
  await visitor.reload();
  await launcher.click();
  await w.getByTestId('w-offline').waitFor();
  assert.equal(await w.getByText('The chat has ended').count(), 0, 'no "ended" line above the offline form');
  await w.getByText('We are not online right now').waitFor();
  await api.dispose();
  assert.deepEqual(errors, []);
  await ctx.close();
  await agentCtx.close();
});
