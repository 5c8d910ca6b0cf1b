// Issue: administration and trust. An admin registers a webhook in the console, sees its
// secret once, sends a test that a local receiver gets signed, reads the delivery log; sets
// data retention and sees what the next run will delete; makes a backup from the Backups page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { ownServer, screenshot, setupAdmin, sharedBrowser, watchErrors } from './helpers.mjs';

const env = sharedBrowser();

test('webhooks with send test, retention preview, and a backup from the console', async (t) => {
  const received = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise((ok) => receiver.listen(0, '127.0.0.1', ok));
  t.after(() => receiver.close());
  const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook`;

  const server = await ownServer(t, { FRONTDESK_WEBHOOK_ALLOW_PRIVATE: 'true' });
  const ctx = await env.browser.newContext({ locale: 'en-US' });
  const page = await ctx.newPage();
  const errors = [];
  watchErrors(page, errors);
  page.on('dialog', (d) => d.accept());
  await setupAdmin(page, server.setupLink);

  // Webhooks: register, the secret shown once, send test, the log.
  await page.getByRole('link', { name: 'Webhooks' }).click();
  await page.getByLabel('URL').fill(hookUrl);
  await page.getByLabel('Ticket created').check();
  await page.getByRole('button', { name: 'Add webhook' }).click();
  const secret = (await page.getByTestId('webhook-secret').locator('code').innerText()).trim();
  assert.match(secret, /^whsec_[0-9a-f]{64}$/);
  await page.getByRole('cell', { name: hookUrl }).waitFor();
  await page.getByRole('button', { name: 'Send test' }).click();
  await page.getByRole('status').getByText('Test delivered (HTTP 204).').waitFor();
  assert.equal(received.length, 1);
  const sig = Object.fromEntries(received[0].headers['x-frontdesk-signature'].split(',').map((p) => p.split('=')));
  const expected = createHmac('sha256', secret).update(`${sig.t}.${received[0].body}`).digest('hex');
  assert.equal(sig.v1, expected, 'the ping verifies with the documented scheme');
  await page.getByTestId('webhook-log').getByRole('cell', { name: 'Delivered' }).waitFor();
  await screenshot(page, 'admin-webhooks');

  // Data retention: keep ended chats 30 days; the preview says what the next run deletes.
  await page.getByRole('link', { name: 'Data retention' }).click();
  await page.getByLabel('Ended chats (days after they ended)').fill('30');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').getByText('Saved').waitFor();
  await page.getByTestId('retention-preview').getByText('chats: 0').waitFor();
  await page.reload();
  assert.equal(await page.getByLabel('Ended chats (days after they ended)').inputValue(), '30');

  // Backups: the schedule, and a backup made now, listed with its size.
  await page.getByRole('link', { name: 'Backups' }).click();
  await page.getByTestId('backup-schedule').getByText(/Daily at 03:00/).waitFor();
  await page.getByRole('button', { name: 'Back up now' }).click();
  await page.getByTestId('backups-table').getByRole('cell', { name: 'Manual', exact: true }).waitFor();
  await screenshot(page, 'admin-backups');
  assert.deepEqual(errors, []);
  await ctx.close();
});
