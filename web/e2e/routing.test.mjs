// Issue: routing, the visitor's side in Chromium. A waiting visitor sees the place in the
// queue, then the "please wait" line, then the offer to leave a message; with nobody accepting
// the widget shows the offline form, or hides when the admin says so; outside hours likewise;
// `data-frontdesk-open="<id>"` puts the chat into that department; the visitor ends a chat
// with the End chat button.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminSession, screenshot, serverAndBrowser, watchErrors } from './helpers.mjs';

const env = serverAndBrowser();


async function openWidget(browser, server, errors, prepare) {
  const ctx = await browser.newContext({ locale: 'en-US' });
  const page = await ctx.newPage();
  watchErrors(page, errors, 'visitor');
  await page.goto(`${server.url}/demo`);
  if (prepare) await prepare(page);
  return { ctx, page, w: page.frameLocator('iframe[title="Chat"]') };
}

test('routing as the visitor sees it', async () => {
  const { server, browser } = env;
  const errors = [];
  const admin = await adminSession(browser, server);
  watchErrors(admin.page, errors, 'admin');
  // The console shows the admin's status; switching to "not accepting" shows the banner.
  await admin.page.getByTestId('status-switch').waitFor();
  assert.equal(await admin.page.getByTestId('status-switch').inputValue(), 'accepting');

  // 1. Waiting: the admin accepts but has no free slot, so the chat queues.
  await admin.call('PUT', '/api/v1/agents/chat-limits', { agent_ids: [admin.me.id], chat_limit: 0 });
  await admin.call('PATCH', '/api/v1/settings/routing', { wait_notice_s: 1, retention_s: 2 });
  let v = await openWidget(browser, server, errors);
  await v.page.getByRole('button', { name: 'Chat' }).click();
  await v.w.getByTestId('w-input').fill('Is anyone there?');
  await v.w.getByTestId('w-send').click();
  await v.w.getByTestId('w-position').getByText('You are number 1 in the queue').waitFor();
  await v.w.getByTestId('w-wait-line').waitFor();
  await v.w.getByTestId('w-offer').waitFor();
  await screenshot(v.page, 'routing-queue-offer');
  await v.w.getByTestId('w-offer-message').click();
  // The offline form keeps what the visitor wrote; it becomes a ticket.
  assert.equal(await v.w.getByTestId('w-offline-message').inputValue(), 'Is anyone there?');
  await v.w.getByTestId('w-offline-send').click();
  await v.w.getByTestId('w-offline-sent').waitFor();
  const tickets = await admin.call('GET', '/api/v1/tickets?status=open');
  assert.ok(tickets.items.some((t) => t.subject === 'Is anyone there?'), 'the message is a ticket');
  await v.ctx.close();
  await admin.call('PUT', '/api/v1/agents/chat-limits', { agent_ids: [admin.me.id], chat_limit: 3 });

  // 2. Nobody accepting: the offline form; with "hide", no widget at all.
  await admin.page.getByTestId('status-switch').selectOption('not_accepting');
  await admin.page.getByTestId('not-accepting').waitFor();
  v = await openWidget(browser, server, errors);
  await v.page.getByRole('button', { name: 'Chat' }).click();
  await v.w.getByTestId('w-offline').waitFor();
  await v.ctx.close();
  await admin.call('PATCH', '/api/v1/settings/routing', { offline_behaviour: 'hide' });
  v = await openWidget(browser, server, errors);
  await v.page.getByRole('button', { name: 'Chat' }).waitFor({ state: 'hidden' });
  await v.ctx.close();
  await admin.call('PATCH', '/api/v1/settings/routing', { offline_behaviour: 'form' });
  await admin.page.getByTestId('status-switch').selectOption('accepting');
  await admin.page.getByTestId('not-accepting').waitFor({ state: 'detached' });

  // 3. Outside hours: a default department open only tomorrow shows the offline form.
  const sales = await admin.call('POST', '/api/v1/departments', { name: 'Sales' });
  const support = await admin.call('POST', '/api/v1/departments', { name: 'Support' });
  await admin.call('PATCH', `/api/v1/agents/${admin.me.id}`, { department_ids: [sales.id, support.id] });
  const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
  const tomorrow = days[(new Date().getUTCDay() + 1) % 7];
  await admin.call('PATCH', `/api/v1/departments/${sales.id}`, { timezone: 'UTC', hours: { [tomorrow]: [['00:00', '24:00']] } });
  await admin.call('PATCH', '/api/v1/settings/routing', { default_department: sales.id });
  v = await openWidget(browser, server, errors);
  await v.page.getByRole('button', { name: 'Chat' }).click();
  await v.w.getByTestId('w-offline').waitFor();
  await v.ctx.close();
  await admin.call('PATCH', '/api/v1/settings/routing', { default_department: null });

  // 4. `data-frontdesk-open="<id>"` puts the chat into that department.
  v = await openWidget(browser, server, errors, (page) =>
    page.evaluate((id) => document.querySelector('[data-frontdesk-open]').setAttribute('data-frontdesk-open', String(id)), support.id),
  );
  await v.page.locator('[data-frontdesk-open]').click();
  await v.w.getByTestId('w-input').fill('A question for support');
  await v.w.getByTestId('w-send').click();
  await v.w.getByTestId('w-status').getByText(/Olga/).waitFor();
  const chats = await admin.call('GET', '/api/v1/conversations?status=active');
  const chat = chats.items.find((c) => c.preview === 'A question for support');
  assert.ok(chat, 'the chat was assigned');
  assert.equal(chat.department_id, support.id);

  // 5. The visitor ends the chat with the button (after confirming).
  await v.w.getByTestId('w-end').click();
  await v.w.getByTestId('w-end-yes').click();
  await v.w.getByTestId('w-status').getByText('The chat has ended').waitFor();
  const ended = await admin.call('GET', `/api/v1/conversations/${chat.id}`);
  assert.equal(ended.conversation.status, 'ended');
  assert.equal(ended.conversation.outcome, 'cancelled', 'ended by the visitor within 20 s, no agent reply (SPEC R5)');
  await screenshot(v.page, 'routing-ended');
  await v.ctx.close();

  // 6. The admin's routing page: a warning while any site may embed the widget; saving a list
  //    through the labelled form puts it in force.
  await admin.page.getByTestId('nav-settings').click();
  await admin.page.getByTestId('origins-warning').waitFor();
  await admin.page.getByLabel('Sites allowed to embed the widget (one per line)').fill('https://Shop.example/');
  await admin.page.getByTestId('routing-settings').getByRole('button', { name: 'Save' }).click();
  await admin.page.getByTestId('origins-warning').waitFor({ state: 'detached' });
  // The warning goes as soon as the field is filled; "Saved" appears once the server took it.
  await admin.page.getByTestId('routing-settings').getByRole('status').filter({ hasText: 'Saved' }).waitFor();
  const settings = await admin.call('GET', '/api/v1/settings/routing');
  assert.deepEqual(settings.allowed_origins, ['https://shop.example']);
  const widget = await admin.page.request.get(`${server.url}/widget`);
  assert.match(widget.headers()['content-security-policy'], /frame-ancestors 'self' https:\/\/shop\.example$/);
  assert.deepEqual(errors, []);
  await admin.ctx.close();
});
