// Issue 11 (team work in chats) in Chromium: a supervisor whispers to agent A (A sees it, the
// visitor does not); A transfers the chat to B with a note through the transfer dialog
// (keyboard: Escape closes it); B sees the note and continues; the visitor sees the neutral
// hand-over line and B's answer, never the note or the whisper. No 5xx anywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminSession, login, ownServer, screenshot, sharedBrowser, watchErrors } from './helpers.mjs';

const env = sharedBrowser();
const PASSWORD = 'correct horse battery';

test('transfer with a note, whisper, hand-over line', async (t) => {
  const server = await ownServer(t);
  const { browser } = env;
  const errors = [];

  // The admin sets up the team and routes by hand (Ann accepts from the queue).
  const { ctx: adminCtx, page: admin, call } = await adminSession(browser, server, errors);
  await call('PATCH', '/api/v1/settings/routing', { mode: 'manual' });
  for (const [name, email, role] of [['Ann Agent', 'ann@shop.example', 'agent'], ['Bob Agent', 'bob@shop.example', 'agent'], ['Sue Supervisor', 'sue@shop.example', 'supervisor']]) {
    await call('POST', '/api/v1/agents', { name, email, role, password: PASSWORD });
  }
  await call('PUT', '/api/v1/me/status', { status: 'not_accepting' });

  const open = async (email, who) => {
    const ctx = await browser.newContext({ locale: 'en-US' });
    const page = await ctx.newPage();
    watchErrors(page, errors, who);
    await login(page, server.url, email, PASSWORD);
    await page.getByTestId('nav-chats').click();
    return page;
  };
  const ann = await open('ann@shop.example', 'ann');
  // Sue is signed in before the chat exists: it must reach her Supervised list live.
  const sue = await open('sue@shop.example', 'sue');
  await sue.getByTestId('status-switch').selectOption('not_accepting');

  // The visitor writes; Ann accepts.
  const visitorCtx = await browser.newContext({ locale: 'en-US' });
  const visitor = await visitorCtx.newPage();
  watchErrors(visitor, errors, 'visitor');
  await visitor.goto(`${server.url}/demo`);
  await visitor.getByRole('button', { name: 'Chat' }).click();
  const w = visitor.frameLocator('iframe[title="Chat"]');
  await w.getByTestId('w-input').fill('My order 77 never arrived');
  await w.getByTestId('w-send').click();
  await ann.getByTestId('queue').getByRole('button', { name: 'Accept' }).click();
  const annTranscript = ann.getByTestId('transcript');
  await annTranscript.getByText('My order 77 never arrived').waitFor();
  await w.getByText('Ann Agent joined the chat').waitFor();

  // Sue reads along (Supervised, arrived live) and whispers; Ann sees it marked internal.
  await sue.getByRole('button', { name: /My order 77 never arrived/ }).click();
  const whisper = sue.getByLabel('Whisper to the agent (the visitor does not see it)');
  await whisper.fill('Offer a 10% voucher');
  await whisper.press('Enter');
  const internal = annTranscript.getByTestId('internal-line');
  await internal.getByText('Offer a 10% voucher').waitFor();
  assert.ok((await internal.first().textContent()).includes('Internal'), 'marked internal');
  await ann.getByTestId('composer').fill('Let me check that for you');
  await ann.getByTestId('send').click();
  await w.getByText('Let me check that for you').waitFor();
  assert.equal(await w.getByText('Offer a 10% voucher').count(), 0, 'the visitor never sees a whisper');

  // Bob comes online; Ann opens the transfer dialog, Escape closes it, then transfers with a note.
  const bob = await open('bob@shop.example', 'bob');
  await ann.getByRole('button', { name: 'Transfer' }).click();
  const dialog = ann.getByRole('dialog', { name: 'Transfer this chat' });
  await dialog.waitFor();
  await ann.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  await ann.getByRole('button', { name: 'Transfer' }).click();
  await dialog.getByLabel('Agent', { exact: true }).selectOption({ label: 'Bob Agent — Accepting chats' });
  await dialog.getByLabel('Note for the receiving agent (the visitor does not see it)').fill('Parcel lost: resend order 77 for free');
  await screenshot(ann, 'team-transfer-dialog');
  await dialog.getByRole('button', { name: 'Transfer' }).click();
  await dialog.waitFor({ state: 'detached' });
  await ann.getByTestId('mine').getByText(/My order 77/).waitFor({ state: 'detached' });

  // Bob has the chat, sees the note first among the new lines, and continues.
  const bobTranscript = bob.getByTestId('transcript');
  await bobTranscript.getByTestId('transfer-note-line').getByText('Parcel lost: resend order 77 for free').waitFor();
  await bobTranscript.getByText('Ann Agent transferred the chat to Bob Agent').waitFor();
  await bob.getByTestId('composer').fill('Hi, Bob here: a new parcel goes out today');
  await bob.getByTestId('send').click();
  await screenshot(bob, 'team-receiver');

  // The visitor: the neutral hand-over line and Bob's answer; no note, no whisper.
  await w.getByText('You are now talking to Bob Agent').waitFor();
  await w.getByText('Hi, Bob here: a new parcel goes out today').waitFor();
  const widgetText = await w.getByTestId('w-messages').textContent();
  for (const secret of ['Parcel lost', 'Offer a 10% voucher', 'transferred']) assert.ok(!widgetText.includes(secret), `the visitor saw "${secret}"`);
  await screenshot(visitor, 'team-visitor');

  assert.deepEqual(errors, []);
  await Promise.all([adminCtx.close(), visitorCtx.close(), ann.context().close(), bob.context().close(), sue.context().close()]);
});
