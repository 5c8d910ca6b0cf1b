// Issue 14, Done 5 (phone): at 390 px the ticket list is a stack of cards with no sideways
// scrolling, and the menu opens as a drawer below the header, leaving "Sign out" visible
// and usable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminSession, apiAs, ownServer, screenshot, setupAdmin, sharedBrowser, watchErrors } from './helpers.mjs';

const env = sharedBrowser();

test('phone width: ticket cards without horizontal scroll, drawer menu below the header', async (t) => {
  const server = await ownServer(t);
  const ctx = await env.browser.newContext({ locale: 'en-US' });
  const page = await ctx.newPage();
  const errors = [];
  watchErrors(page, errors);
  const admin = await setupAdmin(page, server.setupLink);
  const api = await apiAs(server.url, admin.email, admin.password);
  const dept = await api.call('POST', '/api/v1/departments', { name: 'Returns and exchanges' });
  for (const subject of ['Refund for order 1042 — the parcel arrived damaged and the box was open', 'Invoice address', 'Exchange size 44 for 45']) {
    await api.call('POST', '/api/v1/tickets', { subject, body: 'Details', customer: { email: 'a.very.long.customer.address@example-shop-customer.com', name: 'Kim' }, department_id: dept.id });
  }
  await api.dispose();
  await page.setViewportSize({ width: 390, height: 800 });

  // The drawer: opened below the header; Sign out stays visible and on top.
  await page.getByTestId('menu-toggle').click();
  await page.getByTestId('nav-tickets').waitFor();
  const header = await page.locator('header.topbar').boundingBox();
  const nav = await page.locator('nav.sidebar').boundingBox();
  assert.ok(nav.y >= header.y + header.height - 1, `the menu starts below the header (${nav.y} vs ${header.y + header.height})`);
  const logout = page.getByTestId('logout');
  const box = await logout.boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 390, `Sign out fits the width (${box.x}+${box.width})`);
  const onTop = await logout.evaluate((el) => {
    const r = el.getBoundingClientRect();
    return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === el;
  });
  assert.ok(onTop, 'nothing covers Sign out');
  await screenshot(page, 'newcomer-phone-menu');
  await page.getByTestId('nav-tickets').click();
  assert.equal(await page.getByTestId('nav-tickets').isVisible(), false, 'the menu closes after a choice');

  // All open tickets, as cards.
  await page.getByTestId('view-open').click();
  await page.getByText('Invoice address').waitFor();
  const rows = page.getByTestId('ticket-table').locator('tbody tr');
  await rows.nth(2).waitFor();
  const overflow = await page.evaluate(() => {
    const wrap = document.querySelector('[data-testid="ticket-table"]').closest('.table-wrap');
    return { page: document.documentElement.scrollWidth - innerWidth, wrap: wrap.scrollWidth - wrap.clientWidth };
  });
  assert.deepEqual(overflow, { page: 0, wrap: 0 }, 'no horizontal scroll on the ticket list');
  // Each card still says what each value is.
  const labels = await rows.first().locator('td').evaluateAll((tds) => tds.map((td) => getComputedStyle(td, '::before').content));
  assert.ok(labels.includes('"Status"') && labels.includes('"Customer"'), `card labels: ${labels}`);
  await screenshot(page, 'newcomer-phone-tickets');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('phone width, in Russian: no console page scrolls sideways, an open chat included', async (t) => {
  const server = await ownServer(t);
  const errors = [];
  const { ctx, page, call } = await adminSession(env.browser, server, errors, { locale: 'ru-RU', name: 'Ольга', email: 'olga@shop.example' });
  const ticket = await call('POST', '/api/v1/tickets', {
    subject: 'Возврат заказа 1042 — посылка пришла повреждённой, коробка вскрыта',
    body: 'Ссылка на фото: https://shop.example/returns/photos/1042/очень-длинное-имя-файла-без-пробелов.jpg',
    customer: { email: 'a.very.long.customer.address@example-shop-customer.com', name: 'Ким' },
  });
  const vctx = await env.browser.newContext({ locale: 'ru-RU' });
  const visitor = await vctx.newPage();
  await visitor.goto(`${server.url}/demo`);
  await visitor.getByRole('button', { name: 'Чат' }).click();
  const w = visitor.frameLocator('iframe[title]');
  await w.getByTestId('w-input').fill('Здравствуйте! Где мой заказ 1042?');
  await w.getByTestId('w-send').click();

  await page.setViewportSize({ width: 390, height: 800 });
  const sideways = () => page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
  // The chat page with the chat open: its row of buttons wraps instead of widening the page.
  await page.goto(`${server.url}/chats`);
  await page.getByTestId('mine').getByRole('button').first().click();
  await page.getByTestId('transcript').getByText('Где мой заказ 1042?', { exact: false }).waitFor();
  assert.equal(await sideways(), 0, '/chats with a chat open');
  await screenshot(page, 'newcomer-phone-chat');
  const paths = ['/team', '/visitors', '/archive', '/tickets', `/tickets/${ticket.number}`, '/tickets/new', '/tickets/overview', '/canned', '/contacts', '/agents', '/departments', '/monitor', '/reports', '/bans', '/settings', '/appearance', '/mail', '/tokens', '/webhooks', '/retention', '/backups', '/audit', '/profile'];
  for (const path of paths) {
    await page.goto(`${server.url}${path}`);
    await page.locator('main.content').getByRole('heading').first().waitFor();
    await page.waitForLoadState('networkidle');
    assert.equal(await sideways(), 0, `${path} scrolls sideways at 390 px`);
    if (path === '/mail') {
      // No SMTP server in this test: said in Russian, not as the setting's English name.
      const why = await page.getByTestId('mail-not-ready').textContent();
      assert.ok(why.includes('не указан SMTP-сервер') && !why.includes('smtp_url'), why);
    }
  }
  assert.deepEqual(errors, []);
  await vctx.close();
  await ctx.close();
});
