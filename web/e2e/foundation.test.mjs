// Issue: foundation. Setup link → admin → add an agent → the agent signs in and cannot
// administer → the UI switches to Russian and stays Russian after a reload. Each test has its
// own server and creates what it needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { login, ownServer, screenshot, setupAdmin, sharedBrowser, watchErrors } from './helpers.mjs';

const admin = { email: 'olga@shop.example', password: 'correct horse battery' };
const env = sharedBrowser();

test('setup, add an agent, roles, and the Russian UI', async (t) => {
  const { browser } = env;
  const server = await ownServer(t);
  assert.ok(server.setupLink, 'an empty database prints a setup link');
  const ctx = await browser.newContext({ locale: 'en-US' });
  const page = await ctx.newPage();
  const errors = [];
  watchErrors(page, errors);

  await setupAdmin(page, server.setupLink, admin);
  await page.getByTestId('nav-agents').click();
  await page.getByTestId('agent-email').fill('bob@shop.example');
  await page.getByTestId('agent-name').fill('Bob Agent');
  await page.getByTestId('agent-role').selectOption('agent');
  await page.getByTestId('agent-password').fill('bobs password');
  await page.getByTestId('agent-submit').click();
  await page.getByTestId('agents-table').getByText('bob@shop.example').waitFor();
  // A duplicate is refused; the reason shows next to the form.
  await page.getByTestId('agent-email').fill('BOB@shop.example');
  await page.getByTestId('agent-name').fill('Bob Again');
  await page.getByTestId('agent-password').fill('bobs password');
  await page.getByTestId('agent-submit').click();
  await page.getByTestId('agent-form-error').waitFor();
  await screenshot(page, 'foundation-agents');

  // The new agent signs in: the list is read-only for them.
  await page.getByTestId('logout').click();
  // The logout has answered only once the console is back on the login page; going there
  // earlier races it (a still-valid session sends /login on to the chats).
  await page.getByTestId('login-email').waitFor();
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
  // Server errors are said in the reader's language (the code is translated, not the English message).
  await page.getByTestId('nav-agents').click();
  await page.getByTestId('agent-email').fill('bob@shop.example');
  await page.getByTestId('agent-name').fill('Bob Again');
  await page.getByTestId('agent-password').fill('bobs password');
  await page.getByTestId('agent-submit').click();
  assert.match(await page.getByTestId('agent-form-error').innerText(), /Конфликт с текущим состоянием/);
  await screenshot(page, 'foundation-russian');
  assert.deepEqual(errors, [], 'no script errors (and no CSP violations)');
  await ctx.close();
});

test('departments, a token shown once, the audit log, and the phone layout', async (t) => {
  const { browser } = env;
  const server = await ownServer(t);
  const ctx = await browser.newContext({ locale: 'en-US' });
  const page = await ctx.newPage();
  const errors = [];
  watchErrors(page, errors);
  page.on('dialog', (d) => d.accept());
  await setupAdmin(page, server.setupLink, admin);

  await page.getByTestId('nav-departments').click();
  await page.getByTestId('department-name').fill('Billing');
  await page.getByTestId('department-submit').click();
  await page.getByTestId('departments-list').getByText('Billing').waitFor();

  await page.getByTestId('nav-tokens').click();
  await page.getByTestId('token-name').fill('backup script');
  await page.getByTestId('token-scope').selectOption('metrics');
  await page.getByTestId('token-submit').click();
  assert.match(await page.getByTestId('token-value').innerText(), /^fdt_/);
  await page.getByTestId('tokens-table').getByText('backup script').waitFor();
  await page.getByTestId('tokens-table').getByRole('button').first().click();
  // Revoking asks first, in the console's own dialog.
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
  await page.getByTestId('tokens-table').getByText('backup script').waitFor({ state: 'detached' });

  await page.getByTestId('nav-audit').click();
  await page.getByTestId('audit-table').locator('tbody tr').first().waitFor();
  assert.ok((await page.getByTestId('audit-table').locator('tbody tr').count()) >= 3, 'setup, department and token rows');

  // Under ~700px the navigation folds behind the menu button.
  await page.setViewportSize({ width: 390, height: 800 });
  assert.equal(await page.getByTestId('nav-agents').isVisible(), false);
  await page.getByTestId('menu-toggle').click();
  await page.getByTestId('nav-agents').click();
  await page.getByTestId('agents-table').waitFor();
  assert.equal(await page.getByTestId('nav-agents').isVisible(), false, 'the menu closes after a choice');
  await screenshot(page, 'foundation-phone');
  assert.deepEqual(errors, []);
  await ctx.close();
});
