// Issue: foundation. Setup link → admin → add an agent → the agent signs in and cannot
// administer → the UI switches to Russian and stays Russian after a reload.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, login, screenshot, setupAdmin, startServer } from './helpers.mjs';

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('setup, add an agent, roles, and the Russian UI', async () => {
  assert.ok(server.setupLink, 'an empty database prints a setup link');
  const ctx = await browser.newContext({ locale: 'en-US' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Expected 4xx answers log "Failed to load resource"; anything else (a script error, a CSP
  // violation) is a defect.
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(m.text()));

  const admin = await setupAdmin(page, server.setupLink);
  await page.getByTestId('nav-agents').click();
  await page.getByTestId('agent-email').fill('bob@shop.example');
  await page.getByTestId('agent-name').fill('Bob Agent');
  await page.getByTestId('agent-role').selectOption('agent');
  await page.getByTestId('agent-password').fill('bobs password');
  await page.getByTestId('agent-submit').click();
  await page.getByTestId('agents-table').getByText('bob@shop.example').waitFor();
  // A duplicate shows the server's message next to the form.
  await page.getByTestId('agent-email').fill('BOB@shop.example');
  await page.getByTestId('agent-name').fill('Bob Again');
  await page.getByTestId('agent-password').fill('bobs password');
  await page.getByTestId('agent-submit').click();
  await page.getByTestId('agent-form-error').waitFor();
  await screenshot(page, 'foundation-agents');

  // The new agent signs in: the list is read-only for them.
  await page.getByTestId('logout').click();
  await login(page, server.url, 'bob@shop.example', 'bobs password');
  await page.getByTestId('nav-agents').click();
  await page.getByTestId('agents-table').waitFor();
  assert.equal(await page.getByTestId('agent-form').count(), 0, 'agents cannot add agents');
  assert.equal(await page.getByTestId('nav-tokens').count(), 0, 'agents see no admin pages');
  await page.getByTestId('logout').click();

  // Wrong password: a clear message, still on the login page.
  await page.getByTestId('login-email').fill(admin.email);
  await page.getByTestId('login-password').fill('not the password');
  await page.getByTestId('login-submit').click();
  assert.match(await page.getByTestId('login-error').innerText(), /wrong email or password/i);

  // Back as admin: switch to Russian.
  await login(page, server.url, admin.email, admin.password);
  await page.getByTestId('locale-switch').selectOption('ru');
  await page.getByTestId('nav-agents').getByText('Операторы').waitFor();
  assert.equal(await page.getByTestId('logout').innerText(), 'Выйти');
  await page.reload();
  await page.getByTestId('nav-agents').getByText('Операторы').waitFor();
  await screenshot(page, 'foundation-russian');
  assert.deepEqual(errors, [], 'no script errors (and no CSP violations)');
  await ctx.close();
});
