// Issue 11 (chat tags and bans): the required-tag rule stops an agent ending an untagged chat
// with a clear message; the chat is tagged in the chat view and found by its tag in the
// archive. A visitor banned from the chat view (by token), and separately by an address range
// on the Bans page, gets no widget after a reload and their socket is refused; lifting the ban
// brings the widget back. The test server sees the browser as 127.0.0.1, so the range is
// 127.0.0.0/8.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshot, serverAndBrowser, setupAdmin, watchErrors } from './helpers.mjs';

const env = serverAndBrowser();

/** Load the demo shop and report whether the widget appears, and what its socket was told. */
async function visit(page, frames) {
  frames.length = 0;
  await page.goto(`${env.server.url}/demo`);
  // The widget's socket decides: a welcome (widget shown) or a `banned` error and 1008.
  const deadline = Date.now() + 15_000;
  while (!frames.some((f) => f.type === 'welcome' || (f.type === 'error' && f.code === 'banned'))) {
    assert.ok(Date.now() < deadline, `no welcome or ban from the widget socket: ${JSON.stringify(frames)}`);
    await page.waitForTimeout(50);
  }
  return frames.find((f) => f.type === 'welcome') ? 'welcome' : 'banned';
}

function recordSocket(page, frames, closes) {
  page.on('websocket', (ws) => {
    if (!ws.url().includes('/ws/visitor')) return;
    ws.on('framereceived', (f) => {
      try {
        frames.push(JSON.parse(String(f.payload)));
      } catch {
        // not JSON
      }
    });
    ws.on('close', () => closes.push(ws.url()));
  });
}

test('required tag, tags in the archive, bans by token and by range with unban', async () => {
  const { server, browser } = env;
  const errors = [];
  const agentCtx = await browser.newContext({ locale: 'en-US' });
  const agent = await agentCtx.newPage();
  watchErrors(agent, errors, 'agent');
  await setupAdmin(agent, server.setupLink);
  const manual = await agent.request.patch(`${server.url}/api/v1/settings/routing`, { headers: { Origin: server.url }, data: { mode: 'manual' } });
  assert.equal(manual.status(), 200);
  // The admin turns on "a tag is required to end a chat" in Settings.
  await agent.getByTestId('nav-settings').click();
  const rule = agent.getByRole('checkbox', { name: 'A tag is required to end a chat' });
  const saved = agent.waitForResponse((r) => r.url().endsWith('/api/v1/settings/chat') && r.request().method() === 'PATCH');
  await rule.check();
  assert.equal((await saved).status(), 200);
  assert.equal((await (await agent.request.get(`${server.url}/api/v1/settings/chat`)).json()).require_tag, true);

  const visitorCtx = await browser.newContext({ locale: 'en-US' });
  const visitor = await visitorCtx.newPage();
  watchErrors(visitor, errors, 'visitor');
  const frames = [];
  const closes = [];
  recordSocket(visitor, frames, closes);
  assert.equal(await visit(visitor, frames), 'welcome');
  const launcher = visitor.getByRole('button', { name: 'Chat' });
  await launcher.click();
  const w = visitor.frameLocator('iframe[title="Chat"]');
  await w.getByTestId('w-input').fill('I want my money back');
  await w.getByTestId('w-send').click();

  await agent.getByTestId('nav-chats').click();
  await agent.getByTestId('queue').getByText('I want my money back').waitFor();
  await agent.getByTestId('queue').getByRole('button', { name: 'Accept' }).click();
  await agent.getByTestId('transcript').getByText('I want my money back').waitFor();

  // Ending an untagged chat is refused with a clear message; the chat goes on.
  await agent.getByRole('button', { name: 'End chat' }).click();
  await agent.getByRole('alert').getByText('Add a tag to this chat before ending it.').waitFor();
  await screenshot(agent, 'bans-tag-required');
  const tags = agent.getByRole('group', { name: 'Tags' });
  await tags.getByRole('combobox', { name: 'Add a tag…' }).fill('refund');
  await tags.getByRole('combobox', { name: 'Add a tag…' }).press('Enter');
  await tags.getByText('refund').waitFor();
  await agent.getByRole('button', { name: 'End chat' }).click();
  await w.getByTestId('w-status').getByText(/ended/i).waitFor();

  // The archive finds the chat by its tag, and not by another.
  await agent.getByTestId('nav-archive').click();
  const results = agent.getByTestId('archive-results');
  await results.getByText('I want my money back').waitFor();
  await agent.getByRole('combobox', { name: 'Tag' }).fill('nothing-like-it');
  await agent.getByRole('button', { name: 'Search' }).click();
  await results.getByText('No chats found.').waitFor();
  await assertCount(results.getByText('I want my money back'), 0);
  await agent.getByRole('combobox', { name: 'Tag' }).fill('refund');
  await agent.getByRole('button', { name: 'Search' }).click();
  await results.getByText('I want my money back').waitFor();
  await results.getByText('refund', { exact: true }).waitFor();
  await screenshot(agent, 'bans-archive-tag');

  // Ban the visitor from the chat view (by their token).
  await agent.getByTestId('nav-chats').click();
  await agent.getByTestId('chat-view').waitFor();
  await agent.getByRole('button', { name: 'Ban visitor' }).click();
  const banForm = agent.getByRole('form', { name: 'Ban visitor' });
  await banForm.getByRole('textbox', { name: 'Reason' }).fill('abusive language');
  await banForm.getByRole('button', { name: 'Ban', exact: true }).click();
  await agent.getByRole('status').getByText('Visitor banned: their chat widget is closed.').waitFor();

  // After a reload: the socket is refused (banned, closed) and no widget is shown.
  closes.length = 0;
  assert.equal(await visit(visitor, frames), 'banned');
  await launcher.waitFor({ state: 'hidden' });
  await visitor.locator('iframe[title="Chat"]').waitFor({ state: 'hidden' });
  await waitFor(() => closes.length > 0, 'the refused socket to close');
  await screenshot(visitor, 'bans-no-widget');

  // The Bans page: who, why; lifting it brings the widget back.
  await agent.getByTestId('nav-bans').click();
  const table = agent.getByRole('table', { name: 'Banned visitors' });
  const row = table.getByRole('row').filter({ hasText: 'abusive language' });
  await row.getByText('Olga Admin').waitFor();
  await screenshot(agent, 'bans-list');
  await row.getByRole('button', { name: 'Lift ban' }).click();
  await agent.getByRole('status').getByText('Ban lifted.').waitFor();
  assert.equal(await visit(visitor, frames), 'welcome');
  // The widget keeps its open state across reloads: it comes back open, or the launcher opens it.
  await Promise.race([launcher.waitFor(), w.getByTestId('w-input').waitFor()]);
  if (await launcher.isVisible()) await launcher.click();
  await w.getByTestId('w-input').waitFor();

  // Separately: an address range holding 127.0.0.1, banned on the Bans page.
  const add = agent.getByRole('form', { name: 'Ban an address or range' });
  await add.getByRole('textbox', { name: 'Address or range' }).fill('127.0.0.0/8');
  await add.getByRole('textbox', { name: 'Reason' }).fill('bot farm');
  await add.getByRole('button', { name: 'Ban', exact: true }).click();
  await table.getByRole('row').filter({ hasText: 'bot farm' }).getByText('127.0.0.0/8').waitFor();
  assert.equal(await visit(visitor, frames), 'banned');
  await launcher.waitFor({ state: 'hidden' });
  // A brand-new visitor from the same range (no token) is refused too.
  const otherCtx = await browser.newContext({ locale: 'en-US' });
  const other = await otherCtx.newPage();
  watchErrors(other, errors, 'other visitor');
  const otherFrames = [];
  recordSocket(other, otherFrames, []);
  assert.equal(await visit(other, otherFrames), 'banned');
  await other.getByRole('button', { name: 'Chat' }).waitFor({ state: 'hidden' });
  // A bad range gets a clear message.
  await add.getByRole('textbox', { name: 'Address or range' }).fill('300.1.2.3/8');
  await add.getByRole('button', { name: 'Ban', exact: true }).click();
  await agent.getByRole('alert').waitFor();
  await table.getByRole('row').filter({ hasText: 'bot farm' }).getByRole('button', { name: 'Lift ban' }).click();
  await agent.getByRole('status').getByText('Ban lifted.').waitFor();
  assert.equal(await visit(visitor, frames), 'welcome');
  // Back: the launcher, or the widget itself when it was open before the ban (it keeps its state).
  await Promise.race([launcher.waitFor(), w.getByTestId('w-input').waitFor()]);
  assert.equal(await visit(other, otherFrames), 'welcome');

  const audit = await (await agent.request.get(`${server.url}/api/v1/audit`)).json();
  const acts = audit.items.map((e) => e.action).filter((a) => a.startsWith('ban.'));
  assert.deepEqual(acts.sort(), ['ban.create', 'ban.create', 'ban.delete', 'ban.delete']);
  assert.deepEqual(errors, []);
  await otherCtx.close();
  await visitorCtx.close();
  await agentCtx.close();
});

async function assertCount(locator, n) {
  const deadline = Date.now() + 5_000;
  while ((await locator.count()) !== n) {
    assert.ok(Date.now() < deadline, `expected ${n} of ${locator}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitFor(cond, what) {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
