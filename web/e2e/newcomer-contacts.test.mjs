// Issue 14, Done 7 (first half): the Contacts page — find a contact, see their chats and
// tickets, merge a duplicate into it after an in-app confirmation, and find the merge in the
// audit log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiAs, ownServer, screenshot, setupAdmin, sharedBrowser, watchErrors } from './helpers.mjs';

const env = sharedBrowser();

test('contacts: search, open, merge a duplicate (confirmed, audited)', async (t) => {
  const server = await ownServer(t);
  const ctx = await env.browser.newContext({ locale: 'en-US' });
  const page = await ctx.newPage();
  const errors = [];
  watchErrors(page, errors);
  page.on('dialog', (d) => {
    errors.push(`browser dialog: ${d.message()}`);
    void d.dismiss();
  });
  const admin = await setupAdmin(page, server.setupLink);
  const api = await apiAs(server.url, admin.email, admin.password);
  await api.call('POST', '/api/v1/tickets', { subject: 'Boots too small', body: 'Size 44 please', customer: { email: 'kim@example.com', name: 'Kim Lee' } });
  await api.call('POST', '/api/v1/tickets', { subject: 'Where is my refund', body: 'Still waiting', customer: { email: 'kim.lee@work.example', name: 'Kim L.' } });
  await api.dispose();

  await page.getByTestId('nav-contacts').click();
  await page.getByTestId('contacts-q').fill('kim');
  await page.getByRole('button', { name: 'Find' }).first().click();
  const list = page.getByTestId('contacts-list');
  await list.getByRole('link', { name: 'Kim L.' }).click();
  const detail = page.getByTestId('contact-detail');
  await detail.getByTestId('contact-tickets').getByText('Where is my refund').waitFor();
  await detail.getByText('1 ticket').waitFor();

  // Merge the duplicate into Kim Lee: asked first, in the console's own dialog.
  await detail.getByRole('searchbox', { name: /Merge this contact into another/ }).fill('kim@example.com');
  await detail.getByRole('form', { name: /Merge this contact/ }).getByRole('button', { name: 'Find' }).click();
  await detail.getByRole('button', { name: 'Merge into Kim Lee' }).click();
  const confirm = page.getByRole('dialog', { name: 'Merge Kim L. into Kim Lee?' });
  await confirm.waitFor();
  // Cancelling changes nothing.
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await detail.getByText('1 ticket').waitFor();
  await detail.getByRole('button', { name: 'Merge into Kim Lee' }).click();
  await confirm.getByRole('button', { name: 'Merge' }).click();
  await page.waitForURL(/\/contacts\/\d+/);
  await detail.getByRole('heading', { name: 'Kim Lee' }).waitFor();
  await detail.getByText('2 tickets').waitFor();
  await detail.getByTestId('contact-tickets').getByText('Where is my refund').waitFor();
  await detail.getByTestId('contact-tickets').getByText('Boots too small').waitFor();
  await screenshot(page, 'newcomer-contacts');

  await page.getByTestId('nav-audit').click();
  await page.getByTestId('audit-table').getByText('Changed a contact’s email').first().waitFor();
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a returning visitor sees their earlier chats in the widget, newest first', async (t) => {
  const server = await ownServer(t);
  const errors = [];
  const actx = await env.browser.newContext({ locale: 'en-US' });
  const agent = await actx.newPage();
  watchErrors(agent, errors, 'agent');
  await setupAdmin(agent, server.setupLink, { name: 'Ann', email: 'ann@shop.example' });
  await agent.getByTestId('nav-chats').click();

  const vctx = await env.browser.newContext({ locale: 'en-US' });
  const visitor = await vctx.newPage();
  watchErrors(visitor, errors, 'visitor');
  await visitor.goto(`${server.url}/demo`);
  await visitor.getByRole('button', { name: /^Chat/ }).click();
  const w = visitor.frameLocator('iframe[title="Chat"]');
  for (const text of ['First question about boots', 'Second question about tents']) {
    await w.getByTestId('w-input').fill(text);
    await w.getByTestId('w-send').click();
    await agent.getByTestId('mine').getByRole('button').filter({ hasText: text }).click();
    await agent.getByTestId('transcript').getByText(text).waitFor();
    await agent.getByTestId('end-chat').click();
    await w.getByTestId('w-status').getByText('The chat has ended').waitFor();
  }
  // A closed widget — most page views — does not ask for the visitor's earlier chats and
  // tickets (only the open panel shows them); opening it does.
  await w.getByRole('button', { name: 'Close chat' }).click();
  const lists = [];
  visitor.on('request', (r) => {
    if (/\/api\/v1\/widget\/(chats|tickets)/.test(r.url())) lists.push(new URL(r.url()).pathname);
  });
  const socket = visitor.waitForEvent('websocket', (ws) => ws.url().endsWith('/ws/visitor'));
  await visitor.reload();
  await (await socket).waitForEvent('framereceived', (f) => String(f.payload).startsWith('{"type":"welcome"'));
  assert.deepEqual(lists, [], 'a closed widget fetched the lists');
  // Back later, a new question: both earlier chats are listed, newest first.
  await visitor.getByRole('button', { name: /^Chat/ }).click();
  await w.getByTestId('w-input').fill('Third question');
  await w.getByTestId('w-send').click();
  await agent.getByTestId('mine').getByRole('button').filter({ hasText: 'Third question' }).waitFor();
  const earlier = w.getByTestId('w-earlier');
  await earlier.getByText('Earlier chats (2)').click();
  const chats = earlier.locator('details');
  assert.equal(await chats.count(), 2);
  await chats.nth(0).locator('summary').click();
  await chats.nth(1).locator('summary').click();
  await chats.nth(0).getByText('Second question about tents').waitFor();
  await chats.nth(1).getByText('First question about boots').waitFor();
  await chats.nth(1).getByText('Ann joined the chat').waitFor();
  assert.deepEqual([...new Set(lists)].sort(), ['/api/v1/widget/chats', '/api/v1/widget/tickets']);
  await screenshot(visitor, 'newcomer-earlier-chats');
  assert.deepEqual(errors, []);
  await vctx.close();
  await actx.close();
});
