// Shared by the browser tests: start the real server on a random port with a fresh data dir,
// and launch Debian's Chromium through playwright-core.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, request } from 'playwright-core';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';

const here = new URL('.', import.meta.url).pathname;
export const BIN = process.env.FRONTDESK_BIN || resolve(here, '../../target/debug/frontdesk');

export async function startServer(extraEnv = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'fd-e2e-'));
  const child = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--log-format', 'json'], {
    env: { ...process.env, FRONTDESK_LOG_LEVEL: 'warn', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr = [];
  createInterface({ input: child.stderr }).on('line', (l) => stderr.push(l));
  const lines = createInterface({ input: child.stdout });
  const info = await new Promise((ok, fail) => {
    const found = {};
    const timer = setTimeout(() => fail(new Error(`server did not start: ${stderr.join('\n')}`)), 30_000);
    child.on('exit', (code) => fail(new Error(`server exited with ${code}: ${stderr.join('\n')}`)));
    lines.on('line', (line) => {
      const listen = line.match(/^Listening on (\S+)/);
      if (listen) found.url = listen[1].replace(/\/$/, '');
      const setup = line.match(/^Setup link: (\S+)/);
      if (setup) found.setupLink = setup[1];
      if (found.url && (found.setupLink || line.startsWith('Open it'))) {
        clearTimeout(timer);
        ok(found);
      }
    });
  });
  return {
    ...info,
    dataDir,
    stderr,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
}

export async function screenshot(page, name) {
  const dir = process.env.E2E_SCREENSHOT_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** Sign in through the login page. */
export async function login(page, url, email, password) {
  await page.goto(`${url}/login`);
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('me').waitFor();
}

/** Create the first admin through the setup link. */
export async function setupAdmin(page, setupLink, { name = 'Olga Admin', email = 'olga@shop.example', password = 'correct horse battery' } = {}) {
  await page.goto(setupLink);
  await page.getByTestId('setup-name').fill(name);
  await page.getByTestId('setup-email').fill(email);
  await page.getByTestId('setup-password').fill(password);
  await page.getByTestId('setup-repeat').fill(password);
  await page.getByTestId('setup-submit').click();
  await page.getByTestId('me').waitFor();
  return { name, email, password };
}

/**
 * A server of this test's own (fresh data dir, its own setup link), stopped when the test
 * ends, so a test never depends on what another test created.
 */
export async function ownServer(t, extraEnv = {}) {
  const server = await startServer(extraEnv);
  t.after(() => server.stop());
  return server;
}

/**
 * A colleague working through the HTTP API (not a browser): signs in with a session cookie
 * and sends this server's Origin, as the console does. Every answer must be 2xx.
 */
export async function apiAs(url, email, password) {
  const ctx = await request.newContext({ baseURL: url, extraHTTPHeaders: { Origin: url } });
  const call = async (method, path, data) => {
    const res = await ctx.fetch(path, { method, data });
    if (!res.ok()) throw new Error(`${method} ${path}: ${res.status()} ${await res.text()}`);
    return res.status() === 204 ? null : res.json();
  };
  await call('POST', '/api/v1/auth/login', { email, password });
  return { call, dispose: () => ctx.dispose() };
}

/**
 * A JSON API caller riding on a signed-in browser page's cookie, sending this server's Origin as
 * the console does. Every answer must be 2xx; 204 gives null.
 */
export function pageApi(page, server) {
  return async (method, path, data) => {
    const r = await page.request.fetch(`${server.url}${path}`, { method, headers: { Origin: server.url }, ...(data ? { data } : {}) });
    const body = r.status() === 204 ? null : await r.json();
    assert.ok(r.ok(), `${method} ${path}: ${r.status()} ${JSON.stringify(body)}`);
    return body;
  };
}

/**
 * The admin's page (signed in through setup) and an API caller on its cookie, with the admin's
 * own record. Console errors are collected into `errors` when it is given; `locale` is the
 * browser's, the rest goes to setupAdmin (name, email, password).
 */
export async function adminSession(browser, server, errors, { locale = 'en-US', ...admin } = {}) {
  const ctx = await browser.newContext({ locale });
  const page = await ctx.newPage();
  if (errors) watchErrors(page, errors, 'admin');
  await setupAdmin(page, server.setupLink, admin);
  const call = pageApi(page, server);
  return { ctx, page, call, me: await call('GET', '/api/v1/me') };
}

/** Chromium for a file's tests (each test starts its own server with ownServer). */
export function sharedBrowser() {
  const env = {};
  before(async () => {
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
  });
  return env;
}

/** Start the server and Chromium before a file's tests and stop both after them. */
export function serverAndBrowser(extraEnv = {}) {
  const env = {};
  before(async () => {
    env.server = await startServer(extraEnv);
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}

/**
 * Collect a page's defects into `errors`: script errors, console errors, and every 5xx answer
 * (of the page and its frames, e.g. the widget iframe). Expected 4xx answers (a wrong password,
 * a duplicate) are fine: the browser logs them as "Failed to load resource: the server
 * responded with a status of 4xx", and only that exact message is let through.
 */
export function watchErrors(page, errors, who = '') {
  const tag = who ? `${who}: ` : '';
  const expected4xx = /^Failed to load resource: the server responded with a status of 4\d\d\b/;
  page.on('pageerror', (e) => errors.push(tag + e.message));
  page.on('console', (m) => m.type() === 'error' && !expected4xx.test(m.text()) && errors.push(tag + m.text()));
  page.on('response', (r) => r.status() >= 500 && errors.push(`${tag}${r.status()} from ${r.request().method()} ${r.url()}`));
}
