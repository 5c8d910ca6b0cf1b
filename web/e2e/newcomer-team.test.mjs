// Issue 14, Done 1 and 5 (dialogs): a newcomer sets up the team — add an agent, then a
// department, then put the agent into it from the Agents page and from the Departments page —
// and every question is an in-app dialog (password typed into a password field, Escape cancels).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownServer, screenshot, setupAdmin, sharedBrowser, watchErrors } from './helpers.mjs';

const env = sharedBrowser();

test('add agent, then department, then membership from both pages', async (t) => {
  const server = await ownServer(t);
  const ctx = await env.browser.newContext({ locale: 'en-US' });
  const page = await ctx.newPage();
  const errors = [];
  watchErrors(page, errors);
  // A browser dialog would fail the test: none may appear.
  page.on('dialog', (d) => {
    errors.push(`browser dialog: ${d.type()} ${d.message()}`);
    void d.dismiss();
  });
  await setupAdmin(page, server.setupLink);

  // The first page lists the first steps, none done yet; the first one leads to the Agents page.
  await page.getByTestId('nav-chats').click();
  const steps = page.getByRole('region', { name: 'First steps' });
  await steps.getByRole('listitem').filter({ hasText: 'To do: Add a colleague as an agent' }).waitFor();
  assert.equal(await steps.getByRole('listitem').filter({ hasText: 'To do:' }).count(), 4);

  // 1. Add Ben (no departments exist yet).
  await page.getByTestId('nav-agents').click();
  await page.getByTestId('agent-email').fill('ben@shop.example');
  await page.getByTestId('agent-name').fill('Ben');
  await page.getByTestId('agent-password').fill('bens password');
  await page.getByTestId('agent-submit').click();
  const benRow = page.getByRole('row', { name: /Ben/ });
  await benRow.waitFor();
  // Back on the first page, that step is done.
  await page.getByTestId('nav-chats').click();
  await steps.getByRole('listitem').filter({ hasText: 'Done: Add a colleague as an agent' }).waitFor();

  // 2. Add the departments Sales and Support.
  await page.getByTestId('nav-departments').click();
  for (const name of ['Sales', 'Support']) {
    await page.getByTestId('department-name').fill(name);
    await page.getByTestId('department-submit').click();
    await page.getByTestId('departments-list').getByText(name, { exact: true }).waitFor();
  }

  // 3a. Agents page: Ben joins Sales from his row; his chat limit and role are on the same row.
  await page.getByTestId('nav-agents').click();
  await benRow.getByText('No department').click();
  await benRow.getByRole('checkbox', { name: 'Sales' }).check();
  await benRow.getByText('Sales', { exact: true }).first().waitFor();
  await benRow.getByRole('spinbutton', { name: 'Chat limit of Ben' }).fill('5');
  await benRow.getByRole('spinbutton', { name: 'Chat limit of Ben' }).press('Tab');
  await benRow.getByRole('combobox', { name: 'Role of Ben' }).selectOption('supervisor');
  await page.reload();
  await benRow.waitFor();
  assert.equal(await benRow.getByRole('spinbutton', { name: 'Chat limit of Ben' }).inputValue(), '5');
  assert.equal(await benRow.getByRole('combobox', { name: 'Role of Ben' }).inputValue(), 'supervisor');
  assert.match(await benRow.innerText(), /Sales/);

  // 3b. Departments page: Ben joins Support from the department's member list.
  await page.getByTestId('nav-departments').click();
  const support = page.getByTestId('departments-list').getByRole('listitem').filter({ hasText: 'Support' }).first();
  await support.getByRole('button', { name: 'Members' }).click();
  const form = page.getByRole('form', { name: 'Members of Support' });
  await form.getByRole('checkbox', { name: /Ben/ }).check();
  await form.getByRole('button', { name: 'Save members' }).click();
  await form.waitFor({ state: 'detached' });
  await support.getByText('Ben').waitFor();
  const sales = page.getByTestId('departments-list').getByRole('listitem').filter({ hasText: 'Sales' }).first();
  await sales.getByText('Ben').waitFor();
  // The agent's row now lists both.
  await page.getByTestId('nav-agents').click();
  await benRow.getByText('Sales, Support').waitFor();
  await screenshot(page, 'newcomer-team');

  // Set a password: an in-app dialog with a password field; Escape cancels and changes nothing.
  await benRow.getByRole('button', { name: 'Set password' }).click();
  const dialog = page.getByRole('dialog', { name: 'Set password' });
  await dialog.waitFor();
  const field = dialog.getByLabel('New password for Ben');
  assert.equal(await field.getAttribute('type'), 'password', 'a password is never typed in clear text');
  assert.equal(await field.evaluate((el) => el === document.activeElement), true, 'focus moves into the dialog');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(
    await benRow.getByRole('button', { name: 'Set password' }).evaluate((el) => el === document.activeElement),
    true,
    'focus returns to the button that opened it',
  );
  await benRow.getByRole('button', { name: 'Set password' }).click();
  await field.fill('a brand new password');
  // Tab stays inside the dialog (the page behind is inert).
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab');
    assert.equal(await dialog.evaluate((d) => d.contains(document.activeElement)), true, 'focus stays in the dialog');
  }
  await dialog.getByRole('button', { name: 'Set password' }).click();
  await page.getByRole('status').getByText('New password set for Ben.').waitFor();

  // Rename a department in a dialog.
  await page.getByTestId('nav-departments').click();
  await support.getByRole('button', { name: 'Rename' }).click();
  const rename = page.getByRole('dialog', { name: 'Rename' });
  await rename.getByLabel('Name').fill('Customer care');
  await rename.getByLabel('Name').press('Enter');
  await page.getByTestId('departments-list').getByText('Customer care', { exact: true }).waitFor();

  // The audit log says it in plain words, with the details spelled out.
  await page.getByTestId('nav-audit').click();
  const audit = page.getByTestId('audit-table');
  const members = audit.getByRole('row').filter({ hasText: 'Changed department members' }).first();
  await members.waitFor();
  assert.match(await members.innerText(), /Support[\s\S]*added/);
  assert.equal(await audit.getByText('department.members').count(), 0, 'no raw action codes');
  assert.deepEqual(errors, []);
  await ctx.close();
});
