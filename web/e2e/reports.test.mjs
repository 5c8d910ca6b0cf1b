// Issue 13, in Chromium: the live monitor turns red when a visitor waits past the norm with no
// free slot (a 1-second norm set by the admin stands in for the clock: the binary runs on the
// real clock) and back when the chat is served; the reports page shows a chart and a table for
// a chosen period, the staffing heatmap and the per-agent table, and the metric chooser
// survives a reload (saved per user on the server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminSession, screenshot, serverAndBrowser, watchErrors } from './helpers.mjs';

const env = serverAndBrowser();


test('the monitor turns red past the norm and back when served', async () => {
  const { server, browser } = env;
  const errors = [];
  const admin = await adminSession(browser, server);
  watchErrors(admin.page, errors, 'admin');
  // Accepting with no free slot: a new chat waits. The norm is 1 second.
  await admin.call('PUT', '/api/v1/agents/chat-limits', { agent_ids: [admin.me.id], chat_limit: 0 });
  await admin.call('PATCH', '/api/v1/settings/reports', { wait_norm_s: 1 });
  await admin.page.getByRole('link', { name: 'Monitor' }).click();
  const state = admin.page.getByTestId('monitor-state');
  await state.getByText('All queues within their wait norm').waitFor();

  const vctx = await browser.newContext({ locale: 'en-US' });
  const v = await vctx.newPage();
  watchErrors(v, errors, 'visitor');
  await v.goto(`${server.url}/demo`);
  await v.getByRole('button', { name: 'Chat' }).click();
  const w = v.frameLocator('iframe[title="Chat"]');
  await w.getByTestId('w-input').fill('Hello, anyone?');
  await w.getByTestId('w-send').click();
  await w.getByTestId('w-position').waitFor();

  await state.getByText('Visitors are waiting past the norm and no agent has a free slot').waitFor({ timeout: 5_000 });
  assert.equal(await admin.page.getByTestId('monitor-queue').textContent(), '1');
  await admin.page.getByRole('row').filter({ hasText: 'over the norm' }).first().waitFor();
  await screenshot(admin.page, 'monitor-red');

  // A slot frees up: routing gives the chat to the admin, the monitor is back to normal.
  await admin.call('PUT', '/api/v1/agents/chat-limits', { agent_ids: [admin.me.id], chat_limit: 1 });
  await state.getByText('All queues within their wait norm').waitFor({ timeout: 5_000 });
  assert.equal(await admin.page.getByTestId('monitor-queue').textContent(), '0');
  await screenshot(admin.page, 'monitor-ok');

  // The reports page: a chart and a table for a chosen period, the heatmap, the agents.
  await admin.page.getByRole('link', { name: 'Reports' }).click();
  const today = new Date().toISOString().slice(0, 10);
  const weekAgo = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
  await admin.page.getByLabel('From').fill(weekAgo);
  await admin.page.getByLabel('To').fill(today);
  await admin.page.getByLabel('Granularity').selectOption('day');
  await admin.page.getByRole('button', { name: 'Show' }).click();
  await admin.page.getByTestId('report-chart').locator('canvas').waitFor();
  // The legend names the x values in the reader's words (uPlot's own default is "Value").
  assert.equal((await admin.page.getByTestId('report-chart').locator('.u-legend .u-series').first().locator('.u-label').innerText()).trim(), 'Period');
  const table = admin.page.getByRole('table', { name: 'Report table' });
  await table.waitFor();
  assert.equal(await table.locator('tbody tr').count(), 7, 'one row per day');
  // Today's row: the chat that started today is counted.
  const todayRow = table.locator('tbody tr').filter({ hasText: today });
  await todayRow.waitFor();
  const headers = await table.locator('thead th').allTextContents();
  const cells = await todayRow.locator('td').allTextContents();
  assert.equal(cells[headers.indexOf('Chats')], '1', `${headers} / ${cells}`);
  const heat = admin.page.getByRole('table', { name: 'Staffing: chats by weekday and hour' });
  await heat.waitFor();
  assert.equal(await heat.locator('tbody tr').count(), 7);
  await admin.page.getByRole('table', { name: 'Agents' }).getByText('Olga Admin').waitFor();
  await screenshot(admin.page, 'reports');

  // The metric chooser: drop "Served", add "Queue wait (s, max)"; both survive a reload.
  const served = admin.page.getByRole('checkbox', { name: 'Served' });
  const waitMax = admin.page.getByRole('checkbox', { name: 'Queue wait (s, max)' });
  assert.equal(await served.isChecked(), true);
  const saved = admin.page.waitForResponse((r) => r.url().endsWith('/api/v1/me/report-metrics') && r.request().method() === 'PUT');
  await served.uncheck();
  await saved;
  const saved2 = admin.page.waitForResponse((r) => r.url().endsWith('/api/v1/me/report-metrics') && r.request().method() === 'PUT');
  await waitMax.check();
  await saved2;
  assert.ok(!(await table.locator('thead th').allTextContents()).includes('Served'));
  await admin.page.reload();
  await admin.page.getByRole('table', { name: 'Report table' }).waitFor();
  assert.equal(await admin.page.getByRole('checkbox', { name: 'Served' }).isChecked(), false);
  assert.equal(await admin.page.getByRole('checkbox', { name: 'Queue wait (s, max)' }).isChecked(), true);
  const after = await admin.page.getByRole('table', { name: 'Report table' }).locator('thead th').allTextContents();
  assert.ok(!after.includes('Served') && after.includes('Queue wait (s, max)'), `${after}`);

  assert.deepEqual(errors, []);
  await vctx.close();
  await admin.ctx.close();
});
