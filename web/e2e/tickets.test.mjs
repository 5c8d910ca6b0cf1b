// Issue: the ticket desk in the agent console. An admin creates a ticket with a file, replies,
// notes, changes status and snoozes it, writes a canned response and expands it in the reply;
// an agent takes the next ticket with the N key; a ticket is merged into another, a message split
// off and transferred; filters are saved as a view; the departments overview shows who is online.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiAs, login, ownServer, screenshot, setupAdmin, sharedBrowser, watchErrors } from './helpers.mjs';

const env = sharedBrowser();

test('ticket desk: create, reply, note, status, snooze, canned, next, merge, views', async (t) => {
  const { browser } = env;
  const server = await ownServer(t);
  const errors = [];
  const adminCtx = await browser.newContext({ locale: 'en-US', viewport: { width: 1400, height: 900 } });
  const admin = await adminCtx.newPage();
  watchErrors(admin, errors, 'admin');
  await setupAdmin(admin, server.setupLink);
  const api = async (method, path, data) => {
    const res = await admin.request.fetch(`${server.url}${path}`, { method, data, headers: { Origin: server.url } });
    assert.ok(res.ok(), `${method} ${path}: ${res.status()} ${await res.text()}`);
    return res.json();
  };
  const me = await api('GET', '/api/v1/me');
  const billing = await api('POST', '/api/v1/departments', { name: 'Billing' });
  const ben = await api('POST', '/api/v1/agents', { email: 'ben@shop.example', name: 'Ben', role: 'agent', password: 'ben password 1', department_ids: [billing.id] });

  // A new ticket from the console, with a customer and a file.
  await admin.getByTestId('nav-tickets').click();
  await admin.getByTestId('ticket-table').waitFor();
  await admin.getByTestId('ticket-new').click();
  await admin.getByTestId('new-subject').fill('Refund for order 1042');
  await admin.getByTestId('new-email').fill('ola@example.pl');
  await admin.getByTestId('new-name').fill('Ola');
  await admin.getByTestId('new-department').selectOption({ label: 'Billing' });
  await admin.getByTestId('new-body').fill('My order arrived broken. <b>I want a refund.</b>');
  await admin.getByTestId('new-tag').fill('refund');
  await admin.getByTestId('new-tag').press('Enter');
  const receipt = Buffer.from('Receipt 1042\nBoots, size 44: 199.00 PLN\n'.repeat(50));
  await admin.getByTestId('new-file').setInputFiles({ name: 'receipt.txt', mimeType: 'text/plain', buffer: receipt });
  await admin.getByTestId('pending-attachment').filter({ hasText: 'receipt.txt' }).waitFor();
  await screenshot(admin, 'tickets-new');
  await admin.getByTestId('new-submit').click();
  await admin.waitForURL(/\/tickets\/1001$/);

  // The ticket page: the message as text, the file as a download link.
  const thread = admin.getByTestId('ticket-thread');
  await thread.getByText('My order arrived broken. <b>I want a refund.</b>').waitFor();
  const file = admin.getByTestId('ticket-attachment').filter({ hasText: 'receipt.txt' });
  await file.waitFor();
  const got = await adminCtx.request.get(new URL(await file.getAttribute('href'), server.url).toString());
  assert.deepEqual(Buffer.from(await got.body()), receipt, 'the attached file is byte-identical');
  assert.equal(await admin.getByTestId('ticket-subject').innerText(), 'Refund for order 1042');

  // Reply with "Send": the mail to the customer is queued (no SMTP server is configured here, so
  // it stays queued and the thread says so), the ticket waits (Pending).
  assert.equal(await admin.getByTestId('reply-to').inputValue(), 'ola@example.pl');
  await admin.getByTestId('reply-body').fill('We are sorry! A courier picks the boots up tomorrow.');
  await admin.getByTestId('send').click();
  await admin.getByTestId('composer-done').getByText('Reply saved. Its email to ola@example.pl shows its delivery in the thread.').waitFor();
  await thread.getByTestId('delivery').getByText('Email queued').waitFor();
  await admin.getByTestId('ticket-status').getByText('Pending').waitFor();
  await thread.getByTestId('thread-reply').getByText('A courier picks the boots up tomorrow.').waitFor();

  // An internal note, shown yellow.
  await admin.getByTestId('tab-note').click();
  await admin.getByTestId('note-body').fill('Checked with the warehouse: two pairs left.');
  await admin.getByTestId('note-add').click();
  const note = thread.getByTestId('thread-note').filter({ hasText: 'two pairs left' });
  await note.waitFor();
  assert.equal(await note.evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(254, 249, 195)', 'notes are yellow');

  // Status from the side panel: Solved, then Open again.
  await admin.getByTestId('side-status').selectOption('solved');
  await admin.getByTestId('ticket-status').getByText('Solved').waitFor();
  await admin.getByTestId('side-status').selectOption('open');
  await admin.getByTestId('ticket-status').getByText('Open').waitFor();
  await thread.getByText(/changed the status to Solved/).waitFor();

  // Snooze: Pending until then.
  await admin.getByTestId('snooze-at').fill('2099-01-01T09:00');
  await admin.getByTestId('snooze').click();
  await admin.getByTestId('ticket-status').getByText('Pending').waitFor();
  await admin.getByTestId('ticket-snoozed').waitFor();
  await screenshot(admin, 'tickets-view');
  // It waits in the Snoozed view (the plain Pending list hides it).
  await admin.getByTestId('nav-tickets').click();
  await admin.getByTestId('view-snoozed').click();
  await admin.getByTestId('view-snoozed').getByText('1').waitFor();
  await admin.getByRole('link', { name: /Refund for order 1042/ }).first().waitFor();
  await admin.goBack();

  // A canned response, then `#thanks` + Space and its Alt+1 hotkey in the reply composer.
  await admin.getByTestId('nav-canned').click();
  await admin.getByTestId('canned-shortcut').fill('thanks');
  await admin.getByTestId('canned-title').fill('Thanks');
  await admin.getByTestId('canned-body').fill('Thank you, {customer.name}! Your ticket is #{ticket.number}.');
  await admin.getByTestId('canned-category').fill('Greetings');
  await admin.getByTestId('canned-hotkey').fill('1');
  await admin.getByTestId('canned-save').click();
  await admin.getByTestId('canned-thanks').getByText('Alt+1').waitFor();
  await screenshot(admin, 'canned');
  await admin.goto(`${server.url}/tickets/1001`);
  const body = admin.getByTestId('reply-body');
  await body.click();
  await body.pressSequentially('#thanks');
  await body.press('Space');
  assert.equal(await body.inputValue(), 'Thank you, Ola! Your ticket is #1001.');
  await body.press('End');
  await body.press('Enter');
  await body.press('Alt+1');
  assert.equal(await body.inputValue(), 'Thank you, Ola! Your ticket is #1001.\nThank you, Ola! Your ticket is #1001.');
  await admin.getByTestId('send-open').click();
  await admin.getByTestId('ticket-status').getByText('Open').waitFor();

  // Two more tickets of the same customer: one waits in Billing, one is the admin's.
  const waiting = await api('POST', '/api/v1/tickets', { subject: 'Where is my invoice?', body: 'I did not get an invoice.', customer: { email: 'ola@example.pl' }, department_id: billing.id });
  const dup = await api('POST', '/api/v1/tickets', { subject: 'Invoice address', body: 'Also, the invoice address is wrong.', customer: { email: 'ola@example.pl' }, department_id: billing.id, agent_id: me.id });
  assert.deepEqual([waiting.number, dup.number], [1002, 1003]);

  // The agent takes the next ticket with the N key; it is now theirs.
  const benCtx = await browser.newContext({ locale: 'en-US', viewport: { width: 1400, height: 900 } });
  const agent = await benCtx.newPage();
  watchErrors(agent, errors, 'ben');
  await login(agent, server.url, 'ben@shop.example', 'ben password 1');
  await agent.getByTestId('nav-tickets').click();
  await agent.getByTestId('ticket-next').waitFor();
  await agent.keyboard.press('n');
  await agent.waitForURL(/\/tickets\/1002$/);
  await agent.getByTestId('ticket-subject').getByText('Where is my invoice?').waitFor();
  assert.equal(await agent.getByTestId('side-agent').inputValue(), String(ben.id));
  await agent.getByTestId('nav-tickets').locator('.badge').getByText('1').waitFor();
  await agent.getByTestId('ticket-next').click();
  await agent.getByTestId('next-message').getByText('No tickets waiting.').waitFor();
  await agent.getByTestId('tickets-back').click();
  await agent.getByTestId('ticket-row-1002').waitFor();
  await screenshot(agent, 'tickets-list-agent');

  // Merge #1003 into #1001: its message moves over.
  await admin.goto(`${server.url}/tickets/1003`);
  await admin.getByTestId('other-tickets').getByText('#1001').waitFor();
  await admin.getByTestId('merge-toggle').click();
  await admin.getByTestId('merge-into').fill('1001');
  await admin.getByTestId('merge').click();
  await admin.getByRole('dialog').getByRole('button', { name: 'Continue' }).click();
  await admin.waitForURL(/\/tickets\/1001$/);
  await thread.getByText('Also, the invoice address is wrong.').waitFor();
  await thread.getByText(/merged ticket #1003 into this one/).waitFor();
  await thread.getByText('My order arrived broken. <b>I want a refund.</b>').waitFor();
  await screenshot(admin, 'tickets-merged');

  // Split that message off again, then transfer the new ticket to Ben with a note.
  await thread.getByTestId('thread-customer').filter({ hasText: 'invoice address is wrong' }).getByTestId('split').click();
  await admin.getByRole('dialog').getByRole('button', { name: 'Continue' }).click();
  await admin.waitForURL(/\/tickets\/1004$/);
  await admin.getByTestId('ticket-subject').getByText('Refund for order 1042 (split from #1001)').waitFor();
  await thread.getByText('Also, the invoice address is wrong.').waitFor();
  await admin.getByTestId('transfer-toggle').click();
  await admin.getByTestId('transfer-agent').selectOption({ label: 'Ben' });
  await admin.getByTestId('transfer-note').fill('Ben, please fix the address.');
  await admin.getByTestId('transfer').click();
  await thread.getByTestId('thread-note').getByText(/Transferred to Ben .*please fix the address/).waitFor();
  assert.equal(await admin.getByTestId('side-agent').inputValue(), String(ben.id));

  // The list: filters saved as a view, with its count; text search.
  await admin.getByTestId('tickets-back').click();
  await admin.getByTestId('view-open').click();
  await admin.getByTestId('filter-department').selectOption({ label: 'Billing' });
  await admin.getByTestId('ticket-row-1001').waitFor();
  await admin.getByTestId('view-new').click();
  await admin.getByTestId('view-name').fill('Billing open');
  await admin.getByTestId('view-save').click();
  const saved = admin.getByTestId('saved-view').filter({ hasText: 'Billing open' });
  await saved.getByText('3').waitFor();
  await admin.getByTestId('filter-q').fill('invoice');
  await admin.getByTestId('filter-apply').click();
  await admin.getByTestId('ticket-row-1002').waitFor();
  await screenshot(admin, 'tickets-list');

  // Departments overview: Billing's counters, and Ben is online.
  await admin.getByTestId('tickets-overview-link').click();
  const overview = admin.getByTestId('departments-overview');
  await overview.getByText('Billing').waitFor();
  await overview.locator('.tk-online').getByText('Ben').waitFor();
  await screenshot(admin, 'tickets-overview');

  assert.deepEqual(errors, []);
  await benCtx.close();
  await adminCtx.close();
});

test('the ticket list follows a colleague’s changes without a reload', async (t) => {
  const { browser } = env;
  const server = await ownServer(t);
  const errors = [];
  const ctx = await browser.newContext({ locale: 'en-US', viewport: { width: 1400, height: 900 } });
  const page = await ctx.newPage();
  watchErrors(page, errors, 'olga');
  await setupAdmin(page, server.setupLink);
  const admin = await apiAs(server.url, 'olga@shop.example', 'correct horse battery');
  const kim = await admin.call('POST', '/api/v1/agents', { email: 'kim@shop.example', name: 'Kim', role: 'agent', password: 'kim password 1' });
  await admin.dispose();
  const colleague = await apiAs(server.url, 'kim@shop.example', 'kim password 1');
  t.after(() => colleague.dispose());

  // Olga has the Open view of the list in front of her; it is empty.
  await page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: /^Tickets/ }).click();
  await page.getByRole('button', { name: /^Open/ }).click();
  const table = page.getByRole('table');
  await table.getByText('No tickets here.').waitFor();
  await page.evaluate(() => (window.__samePage = true));

  // Kim creates a ticket through the API: it shows up in Olga's list.
  const { number } = await colleague.call('POST', '/api/v1/tickets', { subject: 'Printer on fire', body: 'Smoke everywhere.', customer: { email: 'ola@example.pl' } });
  const row = table.getByRole('row').filter({ has: page.getByRole('link', { name: 'Printer on fire' }) });
  await row.waitFor({ timeout: 10_000 });
  await row.getByRole('cell', { name: 'Unassigned' }).waitFor();

  // Kim takes it: the assignee changes in place.
  await colleague.call('PATCH', `/api/v1/tickets/${number}`, { agent_id: kim.id });
  await row.getByRole('cell', { name: 'Kim', exact: true }).waitFor({ timeout: 10_000 });

  // Kim solves it: it leaves the Open view, and the Solved counter says 1.
  await colleague.call('PATCH', `/api/v1/tickets/${number}`, { status: 'solved' });
  await row.waitFor({ state: 'detached', timeout: 10_000 });
  await page.getByRole('button', { name: /^Solved\s*1$/ }).waitFor({ timeout: 10_000 });

  assert.equal(await page.evaluate(() => window.__samePage), true, 'no reload happened');
  assert.deepEqual(errors, []);
  await ctx.close();
});
