// Issue 14, Done 2: an incoming chat cannot be missed. With the agent on the Tickets page, a
// visitor's new chat raises a popup with Accept and flashes the tab title; Accept opens the
// chat. A chat routed straight to the agent raises "A new chat for you" with Open; the agent's
// own settings (Profile → Notifications) silence new-chat popups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownServer, screenshot, setupAdmin, sharedBrowser, watchErrors } from './helpers.mjs';

const env = sharedBrowser();

async function visitorSays(browser, url, text, errors) {
  const ctx = await browser.newContext({ locale: 'en-US' });
  const page = await ctx.newPage();
  watchErrors(page, errors, 'visitor');
  await page.goto(`${url}/demo`);
  await page.getByRole('button', { name: 'Chat' }).click();
  const w = page.frameLocator('iframe[title="Chat"]');
  await w.getByTestId('w-input').fill(text);
  await w.getByTestId('w-send').click();
  return { ctx, page, w };
}

test('a new chat on the Tickets page: popup, tab title, Accept opens it', async (t) => {
  const server = await ownServer(t);
  const ctx = await env.browser.newContext({ locale: 'en-US' });
  const agent = await ctx.newPage();
  const errors = [];
  watchErrors(agent, errors, 'agent');
  await setupAdmin(agent, server.setupLink, { name: 'Ann', email: 'ann@shop.example' });
  const manual = await agent.request.patch(`${server.url}/api/v1/settings/routing`, { headers: { Origin: server.url }, data: { mode: 'manual' } });
  assert.equal(manual.status(), 200);
  await agent.getByTestId('nav-tickets').click();
  await agent.waitForURL(/\/tickets/);
  const title = await agent.title();

  const v = await visitorSays(env.browser, server.url, 'Is the red jacket in stock?', errors);
  const popup = agent.getByRole('group', { name: 'New chat' });
  await popup.getByText('Is the red jacket in stock?').waitFor();
  // The tab title flashes while the chat waits.
  const deadline = Date.now() + 10_000;
  while (!(await agent.title()).includes('1 new')) {
    assert.ok(Date.now() < deadline, `the title never changed from ${title}`);
    await agent.waitForTimeout(100);
  }
  await screenshot(agent, 'newcomer-notify-popup');
  await popup.getByRole('button', { name: 'Accept' }).click();
  await agent.waitForURL(/\/chats/);
  await agent.getByTestId('transcript').getByText('Is the red jacket in stock?').waitFor();
  await v.w.getByText('Ann joined the chat').waitFor();
  await popup.waitFor({ state: 'detached' });
  // The flashing stops once nothing waits.
  const settled = Date.now() + 10_000;
  while ((await agent.title()) !== title) {
    assert.ok(Date.now() < settled, 'the title went back');
    await agent.waitForTimeout(100);
  }
  assert.deepEqual(errors, []);
  await v.ctx.close();
  await ctx.close();
});

test('a chat routed to me shows "A new chat for you"; my settings can silence it', async (t) => {
  const server = await ownServer(t);
  const ctx = await env.browser.newContext({ locale: 'en-US' });
  const agent = await ctx.newPage();
  const errors = [];
  watchErrors(agent, errors, 'agent');
  await setupAdmin(agent, server.setupLink, { name: 'Ann', email: 'ann@shop.example' });
  // Default routing hands the chat straight to the accepting agent.
  await agent.getByTestId('nav-tickets').click();
  const v = await visitorSays(env.browser, server.url, 'Where is my parcel?', errors);
  const popup = agent.getByRole('group', { name: 'A new chat for you' });
  await popup.getByText('Where is my parcel?').waitFor();
  await popup.getByRole('button', { name: 'Open' }).click();
  await agent.getByTestId('transcript').getByText('Where is my parcel?').waitFor();
  await v.ctx.close();

  // Profile → Notifications: new chats off (saved on the server, per agent).
  await agent.getByTestId('nav-profile').click();
  const settings = agent.getByRole('group', { name: 'Notifications' });
  await settings.getByRole('checkbox', { name: 'New chats (waiting, or given to me)' }).uncheck();
  await settings.getByRole('status').getByText('Saved').waitFor();
  await agent.reload();
  assert.equal(await settings.getByRole('checkbox', { name: 'New chats (waiting, or given to me)' }).isChecked(), false, 'kept after a reload');
  await agent.getByTestId('nav-tickets').click();
  const v2 = await visitorSays(env.browser, server.url, 'Second question', errors);
  await v2.w.getByText('Ann joined the chat').waitFor();
  // The chat reached the console (nav badge / list), and no popup came.
  await agent.getByTestId('nav-chats').click();
  await agent.getByTestId('mine').getByText('Second question').waitFor();
  assert.equal(await agent.getByRole('group', { name: 'A new chat for you' }).count(), 0);
  assert.deepEqual(errors, []);
  await v2.ctx.close();
  await ctx.close();
});
