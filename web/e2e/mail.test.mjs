// Issue: email, outgoing half. A real SMTP server (aiosmtpd, tests/support/smtp_sink.py) takes
// the mail into a Maildir; the test reads the links out of those files like a person would:
// an invitation sets the first password, "Forgot your password?" sends a reset link, each link
// works once; the Email page shows the configured server read-only and sends a test mail; a
// ticket reply shows "Email sent" in the thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { apiAs, login, ownServer, screenshot, setupAdmin, sharedBrowser, watchErrors } from './helpers.mjs';
import { smtpSink } from './smtp.mjs';

const env = sharedBrowser();

/** The text of a mail with base64 and quoted-printable parts decoded. */
function decoded(mail) {
  let out = '';
  const parts = mail.split(/\r\n--/);
  for (const p of parts) {
    const [head, ...rest] = p.split('\r\n\r\n');
    const body = rest.join('\r\n\r\n');
    if (/content-transfer-encoding: base64/i.test(head)) out += '\n' + Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (/content-transfer-encoding: quoted-printable/i.test(head)) {
      const raw = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)));
      out += '\n' + Buffer.from(raw, 'latin1').toString('utf8');
    }
  }
  // The raw text last: a quoted-printable "token=3D…" there must not be found first.
  return `${out}\n${mail}`;
}

const linkIn = (mail) => decoded(mail).match(/https?:\/\/\S+?\/reset#token=[A-Za-z0-9_-]+/)[0];

test('invitation and password reset links from the Maildir; the Email page; delivery in the thread', async (t) => {
  const { browser } = env;
  const sink = await smtpSink(t);
  const server = await ownServer(t, { FRONTDESK_SMTP_URL: sink.url, FRONTDESK_MAIL_FROM: 'Shop support <support@shop.example>' });
  const ctx = await browser.newContext({ locale: 'en-US' });
  const page = await ctx.newPage();
  const errors = [];
  watchErrors(page, errors, 'admin');
  const admin = await setupAdmin(page, server.setupLink);

  // The Email page: the server comes from the environment, so it is read-only and says so.
  await page.getByTestId('nav-mail').click();
  const settings = page.getByRole('form', { name: 'Outgoing mail (SMTP)' });
  await settings.getByText('Set by env FRONTDESK_SMTP_URL; change it there.').waitFor();
  assert.equal(await settings.getByLabel('SMTP server').getAttribute('readonly'), '');
  const testForm = page.getByRole('form', { name: 'Send a test mail' });
  await testForm.getByLabel('Send to').fill('olga@shop.example');
  await testForm.getByRole('button', { name: 'Send a test mail' }).click();
  await page.getByText(/^Sent through 127\.0\.0\.1:\d+\. Check that mailbox\.$/).waitFor();
  await sink.waitFor(1);

  // Invite Bob by email.
  await page.getByTestId('nav-agents').click();
  const invite = page.getByRole('form', { name: 'Invite by email' });
  await invite.getByLabel('Email').fill('bob@shop.example');
  await invite.getByLabel('Name').fill('Bob Agent');
  await invite.getByRole('button', { name: 'Send invitation' }).click();
  await invite.getByText('Invitation sent to bob@shop.example.').waitFor();
  const [, invitation] = await sink.waitFor(2);
  assert.match(invitation, /^X-Envelope-To: bob@shop\.example/m);
  const inviteLink = linkIn(invitation);
  assert.ok(inviteLink.startsWith(server.url), inviteLink);

  // Bob follows the link, chooses a password and signs in with it.
  const bobCtx = await browser.newContext({ locale: 'en-US' });
  const bob = await bobCtx.newPage();
  watchErrors(bob, errors, 'bob');
  await bob.goto(inviteLink);
  await bob.getByRole('heading', { name: 'Welcome, Bob Agent! Choose your password' }).waitFor();
  assert.equal(new URL(bob.url()).hash, '', 'the token leaves the address bar');
  await bob.getByLabel('New password').fill('bobs first password');
  await bob.getByLabel('Repeat the password').fill('bobs first password');
  await bob.getByRole('button', { name: 'Set password' }).click();
  await bob.getByText('Your password is set. Sign in with it.').waitFor();
  await bob.getByRole('button', { name: 'Go to sign in' }).click();
  await login(bob, server.url, 'bob@shop.example', 'bobs first password');
  await bob.getByTestId('logout').click();
  // The link worked once.
  await bob.goto(inviteLink);
  await bob.getByText('This link is invalid, has expired or was already used. Ask for a new one.').waitFor();

  // Bob forgets it: the login page sends a reset link.
  await bob.goto(`${server.url}/login`);
  await bob.getByRole('button', { name: 'Forgot your password?' }).click();
  await bob.getByLabel('Email').fill('bob@shop.example');
  await bob.getByRole('button', { name: 'Send the link' }).click();
  await bob.getByText('If bob@shop.example has an account, a link is on its way. It works for one hour.').waitFor();
  const [, , reset] = await sink.waitFor(3);
  const resetLink = linkIn(reset);
  await bob.goto(resetLink);
  await bob.getByRole('heading', { name: 'Choose a new password for bob@shop.example' }).waitFor();
  await bob.getByLabel('New password').fill('bobs second password');
  await bob.getByLabel('Repeat the password').fill('bobs second password');
  await bob.getByRole('button', { name: 'Set password' }).click();
  await bob.getByText('Your password is set. Sign in with it.').waitFor();
  await login(bob, server.url, 'bob@shop.example', 'bobs second password');
  await screenshot(bob, 'mail-reset-signed-in');

  // A ticket reply's email shows its real state in the thread.
  const api = await apiAs(server.url, admin.email, admin.password);
  t.after(() => api.dispose());
  const ticket = await api.call('POST', '/api/v1/tickets', { subject: 'Where is my order?', body: 'Order 77', customer: { email: 'ola@example.pl' } });
  await page.goto(`${server.url}/tickets/${ticket.number}`);
  await page.getByTestId('ticket-thread').waitFor();
  await api.call('POST', `/api/v1/tickets/${ticket.number}/reply`, { body: 'Shipped today.' });
  await page.getByTestId('delivery').getByText(/^Email sent /).waitFor();
  const [, , , replyMail] = await sink.waitFor(4);
  assert.match(replyMail, /^X-Envelope-To: ola@example\.pl/m);
  await screenshot(page, 'mail-thread-sent');
  assert.deepEqual(errors, []);
});
