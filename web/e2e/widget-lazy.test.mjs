// Issue 12, W1 budget: a closed widget downloads only its core (state and socket); the panel
// (messages, composer, offline form, icons, emoji, styles) is a lazy chunk, fetched when the
// visitor points at or focuses the launcher, and shown when the widget opens — by a click, from
// the keyboard, or restored open after a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownServer, setupAdmin, sharedBrowser, watchErrors } from './helpers.mjs';
import { axeViolations, FAILING } from './axe.mjs';

const env = sharedBrowser();
const SOON = { timeout: 10_000 };

/** Waits (with a deadline) until `check` holds. */
async function until(what, check) {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a closed widget loads no panel; pointing at the launcher fetches it; open, keyboard and restore show it', async (t) => {
  const server = await ownServer(t);
  const errors = [];
  const adminCtx = await env.browser.newContext({ locale: 'en-US' });
  const admin = await adminCtx.newPage();
  watchErrors(admin, errors, 'agent');
  await setupAdmin(admin, server.setupLink);

  const ctx = await env.browser.newContext({ locale: 'en-US' });
  const visitor = await ctx.newPage();
  watchErrors(visitor, errors, 'visitor');
  const panelRequests = [];
  visitor.on('request', (r) => /\/assets\/panel-[^/]*\.(js|css)$/.test(r.url()) && panelRequests.push(r.url()));

  await visitor.goto(`${server.url}/demo`);
  // The closed widget is live: connected (the loader got its token) and listed for the agent.
  await until('the visitor token', () => visitor.evaluate(() => !!localStorage.getItem('frontdesk_visitor')));
  await admin.getByRole('link', { name: 'Visitors' }).click();
  await admin.getByRole('row').filter({ hasText: `${server.url}/demo` }).waitFor(SOON);
  const frame = () => visitor.frames().find((f) => f.url().includes('/widget'));
  assert.equal(panelRequests.length, 0, `nothing of the panel before the visitor shows interest: ${panelRequests}`);
  assert.equal(await frame().evaluate(() => document.getElementById('widget').childElementCount), 0, 'a closed widget draws nothing');

  // Pointing at the launcher fetches the panel (JS and its styles) before any click.
  const launcher = visitor.getByRole('button', { name: /^Chat/ });
  await launcher.hover();
  await until('the panel chunk after hover', async () => panelRequests.some((u) => u.endsWith('.js')) && panelRequests.some((u) => u.endsWith('.css')));
  await launcher.click();
  const w = visitor.frameLocator('iframe[title="Chat"]');
  await w.getByRole('heading', { name: 'Chat with us' }).waitFor(SOON);
  await w.getByRole('textbox', { name: 'Type your message…' }).waitFor(SOON);
  // Styled (widget.css came with the panel): the header carries the brand colour.
  const bg = await w.locator('.w-head').evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.notEqual(bg, 'rgba(0, 0, 0, 0)', 'the panel is styled');
  const found = (await axeViolations(frame())).filter((v) => FAILING.includes(v.impact));
  assert.deepEqual(found.map((v) => `${v.impact} ${v.id}: ${v.nodes.join(' | ')}`), [], 'axe: the open widget');

  // Restored open after a reload: the panel shows without any pointing (the frame asks for it).
  const before = panelRequests.length;
  await visitor.reload();
  await w.getByRole('textbox', { name: 'Type your message…' }).waitFor(SOON);
  assert.ok(panelRequests.length > before, 'the reloaded page fetched the panel itself');

  // From the keyboard, in a fresh tab: Tab reaches the launcher (its focus fetches the panel),
  // Enter opens it with the focus in the message box; Escape closes it back to the launcher.
  const kctx = await env.browser.newContext({ locale: 'en-US' });
  const kb = await kctx.newPage();
  watchErrors(kb, errors, 'keyboard visitor');
  const kbPanel = [];
  kb.on('request', (r) => /\/assets\/panel-[^/]*\.js$/.test(r.url()) && kbPanel.push(r.url()));
  await kb.goto(`${server.url}/demo`);
  await until('the visitor token', () => kb.evaluate(() => !!localStorage.getItem('frontdesk_visitor')));
  assert.equal(kbPanel.length, 0, 'closed: no panel');
  const kbLauncher = kb.getByRole('button', { name: /^Chat/ });
  await until('the launcher focused by Tab', async () => {
    await kb.keyboard.press('Tab');
    return kbLauncher.evaluate((el) => el === document.activeElement);
  });
  await until('the panel chunk after focus', async () => kbPanel.length > 0);
  await kb.keyboard.press('Enter');
  const kw = kb.frameLocator('iframe[title="Chat"]');
  await until('focus in the message box', async () => (await kw.getByTestId('w-input').evaluate((el) => el === document.activeElement).catch(() => false)));
  await kb.keyboard.press('Escape');
  await until('focus back on the launcher', () => kbLauncher.evaluate((el) => el === document.activeElement));

  assert.deepEqual(errors, []);
});
