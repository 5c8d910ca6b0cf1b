// Issue 13 leftovers, in Chromium: the admin sets the shop's time zone and the queue-wait norms
// (by default and per department) on the Settings page; they are saved (a reload shows them)
// and applied (the monitor shows each department's norm and turns red past the new default);
// the monitor's graphs of the last hours are drawn (uPlot canvases with accessible names) and
// readable as a table, whose current row follows a waiting chat live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminSession, ownServer, screenshot, sharedBrowser, watchErrors } from './helpers.mjs';
import { axeViolations, FAILING } from './axe.mjs';

const env = sharedBrowser();
const SOON = { timeout: 10_000 };

test('monitor settings saved and applied; graphs of the last hours with a table', async (t) => {
  const server = await ownServer(t);
  const errors = [];
  const { ctx, page, call, me } = await adminSession(env.browser, server, errors);
  const sales = await call('POST', '/api/v1/departments', { name: 'Sales' });
  // Accepting with no free slot: a new chat waits.
  await call('PUT', '/api/v1/agents/chat-limits', { agent_ids: [me.id], chat_limit: 0 });
  const axe = async (what) => {
    const found = (await axeViolations(page)).filter((v) => FAILING.includes(v.impact));
    assert.deepEqual(found.map((v) => `${what}: ${v.impact} ${v.id}: ${v.nodes.join(' | ')}`), []);
  };

  // Settings: the time zone, a 1-second default norm, 90 seconds for Sales.
  await page.getByRole('link', { name: 'Settings' }).click();
  const form = page.getByTestId('report-settings');
  await form.getByRole('heading', { name: 'Monitor and reports' }).waitFor(SOON);
  assert.equal(await form.getByLabel('Queue-wait norm (seconds)').inputValue(), '60', 'the default norm');
  await form.getByLabel('Shop time zone').fill('Europe/Warsaw');
  await form.getByLabel('Queue-wait norm (seconds)').fill('1');
  await form.getByLabel('Sales (seconds)').fill('90');
  await form.getByRole('button', { name: 'Save' }).click();
  await form.getByRole('status').getByText('Saved').waitFor(SOON);
  await axe('settings');
  // A wrong time zone is refused with the server's reason, and nothing changes.
  await form.getByLabel('Shop time zone').fill('Mars/Olympus');
  await form.getByRole('button', { name: 'Save' }).click();
  await form.getByRole('alert').waitFor(SOON);
  const stored = await call('GET', '/api/v1/settings/reports');
  assert.deepEqual(stored, { timezone: 'Europe/Warsaw', wait_norm_s: 1, department_wait_norm_s: { [sales.id]: 90 } });

  // Saved: a reload shows them.
  await page.reload();
  await form.getByRole('heading', { name: 'Monitor and reports' }).waitFor(SOON);
  assert.equal(await form.getByLabel('Shop time zone').inputValue(), 'Europe/Warsaw');
  assert.equal(await form.getByLabel('Queue-wait norm (seconds)').inputValue(), '1');
  assert.equal(await form.getByLabel('Sales (seconds)').inputValue(), '90');

  // Applied: the monitor shows the Sales norm; the graphs are drawn and readable as a table.
  await page.getByRole('link', { name: 'Monitor' }).click();
  const salesRow = page.getByTestId('monitor-line').filter({ hasText: 'Sales' });
  await salesRow.getByRole('cell', { name: '1:30' }).waitFor(SOON);
  const chats = page.getByRole('img', { name: 'Waiting and chats in progress, last hours' });
  await chats.locator('canvas').waitFor(SOON);
  await page.getByRole('img', { name: 'Agents accepting and online, last hours' }).locator('canvas').waitFor(SOON);
  await page.getByText('The graphs as a table').click();
  const table = page.getByRole('table', { name: 'The graphs as a table' });
  await table.waitFor(SOON);
  assert.equal(await table.locator('tbody tr').count(), 72, '6 hours of 5-minute points');
  assert.deepEqual(await table.locator('thead th').allTextContents(), ['From', 'Waiting', 'Chats in progress', 'Accepting chats', 'Agents online']);
  await axe('monitor');

  // A visitor waits: past the new 1-second default norm the monitor turns red, and the current
  // row of the graphs' table shows the waiting chat — pushed, no reload.
  const vctx = await env.browser.newContext({ locale: 'en-US' });
  const v = await vctx.newPage();
  watchErrors(v, errors, 'visitor');
  await v.goto(`${server.url}/demo`);
  await v.getByRole('button', { name: /^Chat/ }).click();
  const w = v.frameLocator('iframe[title="Chat"]');
  await w.getByTestId('w-input').fill('Anyone there?');
  await w.getByTestId('w-send').click();
  await page.getByTestId('monitor-state').getByText('Visitors are waiting past the norm and no agent has a free slot').waitFor(SOON);
  const current = table.locator('tbody tr').first();
  await current.locator('td').nth(1).getByText('1', { exact: true }).waitFor(SOON);
  await screenshot(page, 'monitor-graphs');

  assert.deepEqual(errors, []);
});
