// Issue: administration and trust, two-factor sign-in (SPEC C1). An admin enrols from the
// profile page by reading the key shown next to the QR code, then signs in with a code this
// test computes itself (RFC 6238 in a few lines of node:crypto); with 2FA required for all, a
// new agent is led from the password straight into enrolment and then into the console.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { ownServer, screenshot, setupAdmin, sharedBrowser, watchErrors } from './helpers.mjs';

const env = sharedBrowser();

function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of text.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** RFC 6238: HMAC-SHA1 over the 30-second step counter, dynamic truncation, 6 digits. */
function totp(secret, ms) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(ms / 1000 / 30)));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** The secret as the enrolment shows it for typing in (grouped by four). */
async function shownSecret(page) {
  const el = page.getByLabel(/secret key/i);
  await el.waitFor();
  const secret = (await el.innerText()).replace(/\s/g, '');
  assert.match(secret, /^[A-Z2-7]{32}$/, 'a 160-bit base32 key');
  const qr = page.getByRole('img', { name: /QR code/i });
  assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml;base64,/, 'the QR code is drawn by the server, not fetched');
  return secret;
}

test('enrol with the shown key, sign in with a code, required 2FA leads to enrolment', async (t) => {
  const { browser } = env;
  const server = await ownServer(t);
  const ctx = await browser.newContext({ locale: 'en-US' });
  const page = await ctx.newPage();
  const errors = [];
  watchErrors(page, errors);
  const admin = await setupAdmin(page, server.setupLink);

  // Profile → turn on: QR code and key, a wrong code refused, the right one turns it on.
  await page.getByTestId('nav-profile').click();
  await page.getByRole('button', { name: 'Turn on' }).click();
  const secret = await shownSecret(page);
  await screenshot(page, 'totp-enrol');
  const wrong = totp(secret, Date.now()) === '000000' ? '111111' : '000000';
  await page.getByLabel('6-digit code').fill(wrong);
  await page.getByRole('button', { name: 'Confirm' }).click();
  assert.match(await page.getByRole('alert').innerText(), /wrong or already used code/i);
  await page.getByLabel('6-digit code').fill(totp(secret, Date.now()));
  await page.getByRole('button', { name: 'Confirm' }).click();
  const codes = page.getByTestId('recovery-codes').getByRole('listitem');
  await codes.first().waitFor();
  assert.equal(await codes.count(), 10);
  const recoveryCodes = (await codes.allInnerTexts()).map((c) => c.trim());
  assert.match(recoveryCodes[0], /^[a-z2-9]{5}-[a-z2-9]{5}$/);
  await page.getByRole('button', { name: 'I have stored them' }).click();
  assert.match(await page.getByTestId('totp-status').innerText(), /^On/);

  // Sign out and in: the password alone does not reach the console.
  await page.getByTestId('logout').click();
  await page.getByTestId('login-email').fill(admin.email);
  await page.getByTestId('login-password').fill(admin.password);
  await page.getByTestId('login-submit').click();
  await page.getByLabel('6-digit code').fill(wrong);
  await page.getByRole('button', { name: 'Verify' }).click();
  assert.match(await page.getByRole('alert').innerText(), /wrong or already used code/i);
  // The enrolment used this step's code; an app one step ahead (within the allowed skew) shows
  // the next one, which has not been used yet.
  await page.getByLabel('6-digit code').fill(totp(secret, Date.now() + 30_000));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByTestId('me').waitFor();

  // Require 2FA for everyone; a new agent is sent to enrolment after the password.
  await page.getByTestId('nav-settings').click();
  await page.getByLabel('Require two-factor sign-in').selectOption('all');
  await page.getByRole('status').getByText('Saved').waitFor();
  await page.getByTestId('logout').click();
  const bob = { email: 'bob@shop.example', password: 'bobs password' };
  // Back in as admin with a recovery code instead of the app.
  await page.getByTestId('login-email').fill(admin.email);
  await page.getByTestId('login-password').fill(admin.password);
  await page.getByTestId('login-submit').click();
  await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
  await page.getByLabel('Recovery code').fill(recoveryCodes[0]);
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByTestId('me').waitFor();
  await page.getByTestId('nav-agents').click();
  await page.getByTestId('agent-email').fill(bob.email);
  await page.getByTestId('agent-name').fill('Bob Agent');
  await page.getByTestId('agent-password').fill(bob.password);
  await page.getByTestId('agent-submit').click();
  await page.getByTestId('agents-table').getByText(bob.email).waitFor();
  await page.getByTestId('logout').click();

  await page.getByTestId('login-email').fill(bob.email);
  await page.getByTestId('login-password').fill(bob.password);
  await page.getByTestId('login-submit').click();
  await page.getByText('Your admin requires two-factor sign-in').waitFor();
  const bobSecret = await shownSecret(page);
  await page.getByLabel('6-digit code').fill(totp(bobSecret, Date.now()));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByTestId('recovery-codes').getByRole('listitem').first().waitFor();
  await page.getByRole('button', { name: 'I have stored them' }).click();
  await page.getByTestId('me').waitFor();
  assert.match(await page.getByTestId('me').innerText(), /Bob Agent/);
  // Required: the profile offers no way to turn it off.
  await page.getByTestId('nav-profile').click();
  assert.match(await page.getByTestId('totp-status').innerText(), /^On/);
  assert.equal(await page.getByTestId('totp-disable').count(), 0);
  await screenshot(page, 'totp-profile');
  assert.deepEqual(errors, []);
});
