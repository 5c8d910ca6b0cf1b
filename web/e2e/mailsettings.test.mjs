// Issue: email, the console's mail settings. A real Dovecot (IMAP on a loopback port, Maildir in
// a temp dir, as `nobody` when the tests run as root) is the support mailbox. On the Email page
// the admin types an imap_url: "Check connection" names the stage that failed in plain words
// (connection refused on a closed port, a wrong password, a mailbox that does not exist);
// saved, the URL comes back with its password masked and the fetcher picks it up without a
// restart (a mail delivered into the Maildir becomes a ticket). The daily summary's time and
// the shop's time zone are saved there; each agent turns the summary off in the profile.
// Second test: invitation links taken from aiosmtpd's Maildir work once and stop working once
// expired (the expiry is moved into the past in the database with the sqlite3 shell).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiAs, ownServer, screenshot, setupAdmin, sharedBrowser, watchErrors } from './helpers.mjs';
import { freePort, smtpSink } from './smtp.mjs';

const env = sharedBrowser();
const DOVECOT = '/usr/sbin/dovecot';
const USER = 'support@shop.example';
const PASSWORD = 's3cret pass';

const listening = (port) =>
  new Promise((ok) => {
    const c = connect(port, '127.0.0.1');
    c.on('connect', () => (c.destroy(), ok(true)));
    c.on('error', () => ok(false));
  });

const sh = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};

/** Dovecot with plain IMAP on a free loopback port; stopped when the test ends. */
async function dovecot(t) {
  assert.ok(existsSync(DOVECOT), `${DOVECOT} is missing: install dovecot-imapd (tests/run.sh does)`);
  const dir = mkdtempSync(join(tmpdir(), 'fd-dovecot-'));
  for (const sub of ['run', 'state', 'home', 'Maildir/new', 'Maildir/cur', 'Maildir/tmp']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'passwd'), `${USER}:{PLAIN}${PASSWORD}\n`);
  const root = process.getuid() === 0;
  const user = root ? 'nobody' : sh('id', ['-un']);
  const group = root ? sh('id', ['-gn', 'nobody']) : sh('id', ['-gn']);
  const port = await freePort();
  writeFileSync(
    join(dir, 'dovecot.conf'),
    `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
instance_name = fd-e2e-${port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${dir}/Maildir
default_internal_user = ${user}
default_internal_group = ${group}
default_login_user = ${user}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${user} gid=${group} home=${dir}/home
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service stats {
  chroot =
}
`,
  );
  let cmd = DOVECOT;
  let args = ['-F', '-c', join(dir, 'dovecot.conf')];
  if (root) {
    sh('chown', ['-R', `nobody:${group}`, dir]);
    cmd = 'setpriv';
    args = ['--reuid=nobody', `--regid=${group}`, '--clear-groups', DOVECOT, ...args];
  }
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 20_000;
  while (!(await listening(port))) {
    if (Date.now() > deadline) throw new Error(`Dovecot did not start: ${readFileSync(join(dir, 'dovecot.log'), 'utf8')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  t.after(async () => {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  });
  let n = 0;
  const enc = (s) => encodeURIComponent(s);
  return {
    url: (password = PASSWORD, mailbox = 'INBOX', p = port) => `imap://${enc(USER)}:${enc(password)}@127.0.0.1:${p}/${mailbox}`,
    /** Deliver like an MTA: write into tmp/, rename into new/. */
    deliver(raw) {
      n += 1;
      const name = `${1_700_000_000 + n}.M${n}P${process.pid}.fde2e`;
      const tmp = join(dir, 'Maildir/tmp', name);
      writeFileSync(tmp, raw);
      if (root) chownSync(tmp, Number(sh('id', ['-u', 'nobody'])), Number(sh('id', ['-g', 'nobody'])));
      renameSync(tmp, join(dir, 'Maildir/new', name));
    },
  };
}

test('IMAP settings: check names the failing step, saved URL is masked and fetched without a restart; summary settings and opt-out', async (t) => {
  const { browser } = env;
  const dv = await dovecot(t);
  const server = await ownServer(t);
  const ctx = await browser.newContext({ locale: 'en-US' });
  const page = await ctx.newPage();
  const errors = [];
  watchErrors(page, errors, 'admin');
  const admin = await setupAdmin(page, server.setupLink);
  await page.getByTestId('nav-mail').click();
  const form = page.getByRole('form', { name: 'Incoming mail (IMAP)' });
  const field = form.getByLabel('IMAP mailbox');
  const check = form.getByRole('button', { name: 'Check connection' });
  const result = form.getByTestId('imap-check-result');

  // A closed port: the connection step, in words.
  const closed = await freePort();
  await field.fill(dv.url(PASSWORD, 'INBOX', closed));
  await check.click();
  await result.getByText(new RegExp(`^Not connected \\(connection\\): cannot connect to 127\\.0\\.0\\.1:${closed}: connection refused`)).waitFor();
  // A wrong password: authentication.
  await field.fill(dv.url('wrong password'));
  await check.click();
  await result.getByText(/^Not connected \(authentication\): the server refused the user name or password for support@shop\.example/).waitFor();
  // A mailbox that does not exist.
  await field.fill(dv.url(PASSWORD, 'Nope'));
  await check.click();
  await result.getByText(/^Not connected \(mailbox not found\): the mailbox "Nope" cannot be opened/).waitFor();
  await screenshot(page, 'mailsettings-imap-wrong-mailbox');

  // The right one: saved, shown masked, and checked with the stored password.
  await field.fill(dv.url());
  await form.getByRole('button', { name: 'Save mailbox' }).click();
  await form.getByText('Saved.').waitFor();
  const shown = await field.inputValue();
  assert.ok(shown.includes(':********@') && !shown.includes('s3cret'), shown);
  await page.reload();
  assert.equal(await field.inputValue(), shown, 'the password is never shown back');
  await check.click();
  await result.getByText(/^Connected to imap:\/\/support@shop\.example:\*+@127\.0\.0\.1:\d+\/INBOX: 0 messages in it\.$/).waitFor();

  // The fetcher runs the new mailbox without a restart: a delivered mail becomes a ticket.
  dv.deliver(
    'From: Ola Nowak <ola@example.pl>\r\nTo: support@shop.example\r\nSubject: Where is order 77?\r\nMessage-ID: <e2e.1@example.pl>\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n\r\nIt has not arrived.\r\n',
  );
  const api = await apiAs(server.url, admin.email, admin.password);
  t.after(() => api.dispose());
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { items } = await api.call('GET', '/api/v1/tickets?status=open');
    if (items.some((i) => i.subject === 'Where is order 77?')) break;
    if (Date.now() > deadline) throw new Error('the delivered mail did not become a ticket');
    await new Promise((r) => setTimeout(r, 100));
  }

  // The daily summary: a time and the shop's zone, kept across a reload.
  const summary = page.getByRole('form', { name: 'Daily summary' });
  await summary.getByLabel('Time of day').fill('07:30');
  await summary.getByLabel('Shop time zone').selectOption('Europe/Warsaw');
  await summary.getByRole('button', { name: 'Save' }).click();
  await summary.getByText('Saved.').waitFor();
  await page.reload();
  assert.equal(await summary.getByLabel('Time of day').inputValue(), '07:30');
  assert.equal(await summary.getByLabel('Shop time zone').inputValue(), 'Europe/Warsaw');
  const settings = await api.call('GET', '/api/v1/settings/mail');
  assert.equal(settings.summary_time, '07:30');
  // Turned off for the whole shop.
  await summary.getByLabel('Send daily summaries').uncheck();
  await summary.getByRole('button', { name: 'Save' }).click();
  await summary.getByText('Saved.').waitFor();
  assert.equal((await api.call('GET', '/api/v1/settings/mail')).summary_time, null);

  // An agent's own opt-out, in the profile.
  await page.getByTestId('nav-profile').click();
  const optIn = page.getByLabel('Email me a summary of my day');
  assert.equal(await optIn.isChecked(), true);
  await optIn.uncheck();
  await page.getByText('Saved', { exact: false }).first().waitFor();
  assert.equal((await api.call('GET', '/api/v1/me')).daily_summary, false);
  await page.reload();
  assert.equal(await page.getByLabel('Email me a summary of my day').isChecked(), false);
  await screenshot(page, 'mailsettings-profile');
  assert.deepEqual(errors, []);
});

/** The reset/invitation link of a mail, whatever transfer encoding its parts use. */
function linkIn(mail) {
  let text = mail;
  for (const p of mail.split(/\r\n--/)) {
    const [head, ...rest] = p.split('\r\n\r\n');
    const body = rest.join('\r\n\r\n');
    if (/content-transfer-encoding: base64/i.test(head)) text = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8') + '\n' + text;
    if (/content-transfer-encoding: quoted-printable/i.test(head)) text = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16))) + '\n' + text;
  }
  return text.match(/https?:\/\/\S+?\/reset#token=[A-Za-z0-9_-]+/)[0];
}

test('invitation links from the mail work once, and not after they expired', async (t) => {
  assert.equal(spawnSync('sqlite3', ['-version']).status, 0, 'the sqlite3 shell is needed (tests/run.sh installs it)');
  const { browser } = env;
  const sink = await smtpSink(t);
  const server = await ownServer(t, { FRONTDESK_SMTP_URL: sink.url, FRONTDESK_MAIL_FROM: 'Shop support <support@shop.example>' });
  const ctx = await browser.newContext({ locale: 'en-US' });
  const page = await ctx.newPage();
  const errors = [];
  watchErrors(page, errors, 'admin');
  await setupAdmin(page, server.setupLink);
  await page.getByTestId('nav-agents').click();
  const invite = page.getByRole('form', { name: 'Invite by email' });
  for (const [email, name] of [['bob@shop.example', 'Bob Agent'], ['carl@shop.example', 'Carl Agent']]) {
    await invite.getByLabel('Email').fill(email);
    await invite.getByLabel('Name').fill(name);
    await invite.getByRole('button', { name: 'Send invitation' }).click();
    await invite.getByText(`Invitation sent to ${email}.`).waitFor();
  }
  const mails = await sink.waitFor(2);
  const linkFor = (who) => linkIn(mails.find((m) => m.includes(`X-Envelope-To: ${who}`)));

  // Carl's link expired (moved 8 days back): refused in plain words, nothing set.
  const expire = spawnSync('sqlite3', [
    join(server.dataDir, 'frontdesk.db'),
    ".timeout 5000",
    "UPDATE auth_links SET expires_at = created_at - 1 WHERE agent_id = (SELECT id FROM agents WHERE email_norm = 'carl@shop.example')",
  ]);
  assert.equal(expire.status, 0, String(expire.stderr));
  const guest = await (await browser.newContext({ locale: 'en-US' })).newPage();
  watchErrors(guest, errors, 'guest');
  await guest.goto(linkFor('carl@shop.example'));
  await guest.getByText('This link is invalid, has expired or was already used. Ask for a new one.').waitFor();
  assert.equal(await guest.getByLabel('New password').count(), 0, 'no form for an expired link');

  // Bob's works, once (each link opened in a fresh tab, as from a mail client).
  const bobLink = linkFor('bob@shop.example');
  const bob = await guest.context().newPage();
  watchErrors(bob, errors, 'bob');
  await bob.goto(bobLink);
  await bob.getByRole('heading', { name: 'Welcome, Bob Agent! Choose your password' }).waitFor();
  await bob.getByLabel('New password').fill('bobs first password');
  await bob.getByLabel('Repeat the password').fill('bobs first password');
  await bob.getByRole('button', { name: 'Set password' }).click();
  await bob.getByText('Your password is set. Sign in with it.').waitFor();
  const again = await guest.context().newPage();
  watchErrors(again, errors, 'bob again');
  await again.goto(bobLink);
  await again.getByText('This link is invalid, has expired or was already used. Ask for a new one.').waitFor();
  assert.equal(await again.getByLabel('New password').count(), 0, 'no form for a used link');
  assert.deepEqual(errors, []);
});
