// Issue 14, Done 4: axe-core over every console page and the open widget, zero serious or
// critical violations. The pages carry real content (an agent, a department, a ticket, a chat
// with a reply), so the checks see the lists and forms people use, not empty states only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiAs, ownServer, setupAdmin, sharedBrowser, watchErrors } from './helpers.mjs';
import { axeViolations, FAILING } from './axe.mjs';

const env = sharedBrowser();

test('every console page and the open widget pass axe-core (serious/critical)', async (t) => {
  const server = await ownServer(t);
  const errors = [];
  const ctx = await env.browser.newContext({ locale: 'en-US' });
  const page = await ctx.newPage();
  watchErrors(page, errors);
  const found = [];
  const check = async (target, what) => {
    for (const v of await axeViolations(target)) {
      if (FAILING.includes(v.impact)) found.push(`${what}: ${v.impact} ${v.id} (${v.help}) — ${v.nodes.slice(0, 4).join(' | ')}`);
      else t.diagnostic(`${what}: ${v.impact} ${v.id} (${v.nodes.length})`);
    }
  };

  // Signed out: the setup and sign-in pages.
  await page.goto(server.setupLink);
  await page.getByTestId('setup-name').waitFor();
  await check(page, 'setup');
  const admin = await setupAdmin(page, server.setupLink, { name: 'Ann', email: 'ann@shop.example' });

  // Content: a department, an agent, a ticket, a chat.
  const api = await apiAs(server.url, admin.email, admin.password);
  const dept = await api.call('POST', '/api/v1/departments', { name: 'Sales' });
  await api.call('POST', '/api/v1/agents', { email: 'ben@shop.example', name: 'Ben', role: 'agent', password: 'bens password', department_ids: [dept.id] });
  const ticket = await api.call('POST', '/api/v1/tickets', { subject: 'Refund for order 1042', body: 'Please refund', customer: { email: 'kim@example.com', name: 'Kim' } });

  const vctx = await env.browser.newContext({ locale: 'en-US' });
  const visitor = await vctx.newPage();
  watchErrors(visitor, errors, 'visitor');
  await visitor.goto(`${server.url}/demo`);
  await check(visitor, 'demo page with the launcher');
  await visitor.getByRole('button', { name: /^Chat/ }).click();
  const w = visitor.frameLocator('iframe[title="Chat"]');
  await w.getByTestId('w-input').fill('Do you have boots in 44?');
  await w.getByTestId('w-send').click();
  await page.getByTestId('nav-chats').click();
  await page.getByTestId('transcript').getByText('Do you have boots in 44?').waitFor();
  await page.getByTestId('composer').fill('Yes we do');
  await page.getByTestId('send').click();
  await w.getByText('Yes we do').waitFor();
  const widget = visitor.frames().find((f) => f.url().includes('/widget'));
  assert.ok(widget, 'the widget frame');
  await check(widget, 'open widget during a chat');

  const pages = [
    ['chats', () => page.getByTestId('transcript').waitFor()],
    ['archive', null],
    ['tickets', null],
    ['canned', null],
    ['contacts', () => page.getByTestId('contacts-list').getByRole('link').first().waitFor()],
    ['agents', () => page.getByTestId('agents-table').waitFor()],
    ['departments', () => page.getByTestId('departments-list').getByText('Sales').waitFor()],
    ['settings', null],
    ['mail', null],
    ['tokens', null],
    ['audit', () => page.getByTestId('audit-table').locator('tbody tr').first().waitFor()],
    ['profile', () => page.getByTestId('notify-settings').getByRole('checkbox').first().waitFor()],
  ];
  for (const [name, ready] of pages) {
    await page.getByTestId(`nav-${name}`).click();
    await page.waitForURL(new RegExp(`/${name}`));
    if (ready) await ready();
    else await page.waitForLoadState('networkidle');
    await check(page, `console ${name}`);
  }
  for (const path of [`/tickets/${ticket.number}`, '/tickets/new', '/tickets/overview']) {
    await page.goto(`${server.url}${path}`);
    await page.waitForLoadState('networkidle');
    await check(page, `console ${path}`);
  }
  // A dialog open, and the notification popup.
  await page.getByTestId('nav-agents').click();
  await page.getByRole('row', { name: /Ben/ }).getByRole('button', { name: 'Set password' }).click();
  await page.getByRole('dialog').waitFor();
  await check(page, 'set-password dialog');
  await page.keyboard.press('Escape');
  await page.getByTestId('logout').click();
  await page.getByTestId('login-email').waitFor();
  await check(page, 'sign-in');

  await api.dispose();
  await vctx.close();
  await ctx.close();
  assert.deepEqual(found, [], 'serious or critical accessibility violations');
  assert.deepEqual(errors, []);
});
