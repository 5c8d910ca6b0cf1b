// Issue: email (safe HTML). A hostile HTML mail — scripts, event handlers, CSS tricks, a form,
// frames, remote images pointing at a local "tracker" that records every hit — arrives through
// POST /api/v1/inbound/mime. The agent's ticket page shows it sanitized in a sandboxed frame:
// nothing runs, nothing is fetched from the tracker until the agent clicks "Show images", and
// then only the images load (never the CSS or frame addresses). Inline (cid:) images show at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { ownServer, screenshot, setupAdmin, sharedBrowser, watchErrors } from './helpers.mjs';

const env = sharedBrowser();

const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** A local HTTP server that records the path of every request. */
async function tracker(t) {
  const hits = [];
  const srv = createServer((req, res) => {
    hits.push(req.url);
    res.writeHead(200, { 'content-type': 'image/gif', 'cache-control': 'no-store' });
    res.end(GIF);
  });
  await new Promise((ok) => srv.listen(0, '127.0.0.1', ok));
  t.after(() => new Promise((ok) => srv.close(ok)));
  return { hits, base: `http://127.0.0.1:${srv.address().port}` };
}

function hostileMail(base) {
  const html = `<html><head>
<style>body { background: url(${base}/css-background.gif) } @import url(${base}/import.css);</style>
<script>parent.document.title = 'pwned'; new Image().src = '${base}/script.gif';</script>
<link rel="stylesheet" href="${base}/link.css">
<meta http-equiv="refresh" content="0;url=${base}/refresh">
</head><body onload="parent.document.title='pwned-onload'">
<h1>Your invoice</h1>
<p style="background-image:url(${base}/inline-style.gif)">Dear customer, <b>please</b> pay.</p>
<img src="${base}/pixel.gif" alt="tracking pixel" onerror="parent.document.title='pwned-onerror'">
<img src="cid:logo@shop.example" alt="inline logo">
<a href="javascript:parent.document.title='pwned-link'">click me</a>
<form action="${base}/form"><input name="password" value="x"><button>Send</button></form>
<iframe src="${base}/frame"></iframe>
<svg><image href="${base}/svg.gif"/><animate onbegin="parent.document.title='pwned-svg'"/></svg>
<video poster="${base}/poster.gif"></video>
</body></html>`;
  return [
    'From: Mallory <mallory@evil.example>',
    'To: support@shop.example',
    'Subject: Invoice 2024-03',
    'Message-ID: <hostile.1@evil.example>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/related; boundary="R"',
    '',
    '--R',
    'Content-Type: text/html; charset=utf-8',
    '',
    html,
    '--R',
    'Content-Type: image/png; name="logo.png"',
    'Content-ID: <logo@shop.example>',
    'Content-Disposition: inline; filename="logo.png"',
    'Content-Transfer-Encoding: base64',
    '',
    PNG,
    '--R--',
    '',
  ].join('\r\n');
}

test('a hostile HTML mail renders sanitized; remote images only after "Show images"', async (t) => {
  const { browser } = env;
  const track = await tracker(t);
  const server = await ownServer(t);
  const ctx = await browser.newContext({ locale: 'en-US', viewport: { width: 1300, height: 900 } });
  const page = await ctx.newPage();
  const errors = [];
  watchErrors(page, errors);
  const dialogs = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss();
  });
  await setupAdmin(page, server.setupLink);

  // A forwarder delivers the mail with an inbound token.
  const tok = await page.request.fetch(`${server.url}/api/v1/tokens`, {
    method: 'POST',
    data: { name: 'forwarder', scope: 'inbound' },
    headers: { Origin: server.url },
  });
  assert.equal(tok.status(), 201);
  const { token } = await tok.json();
  const res = await page.request.fetch(`${server.url}/api/v1/inbound/mime`, {
    method: 'POST',
    data: Buffer.from(hostileMail(track.base)),
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'message/rfc822' },
  });
  assert.equal(res.status(), 201, await res.text());
  const { ticket } = await res.json();

  await page.goto(`${server.url}/tickets/${ticket}`);
  const frame = page.frameLocator('[data-testid="mail-html"]');
  await frame.getByRole('heading', { name: 'Your invoice' }).waitFor();
  await frame.getByText('please').waitFor();
  // The inline image is the mail's own file, shown at once.
  const logo = frame.getByRole('img', { name: 'inline logo' });
  await logo.waitFor();
  await page.waitForFunction(() => {
    const f = document.querySelector('[data-testid="mail-html"]');
    const img = f?.contentDocument?.querySelector('img[alt="inline logo"]');
    return img && img.complete && img.naturalWidth === 1;
  }, null, { timeout: 10_000 });

  // Nothing ran, nothing active survived, nothing was fetched.
  await page.waitForTimeout(1000);
  assert.deepEqual(track.hits, [], 'no request reached the tracker before "Show images"');
  assert.deepEqual(dialogs, []);
  assert.ok(!(await page.title()).startsWith('pwned'), await page.title());
  const inner = await page.locator('[data-testid="mail-html"]').evaluate((f) => f.contentDocument.documentElement.outerHTML);
  for (const bad of ['<script', 'onload', 'onerror', 'onbegin', 'javascript:', '<form', '<iframe', '<style', 'style=', 'http-equiv="refresh"', '<link', 'poster']) {
    assert.ok(!inner.toLowerCase().includes(bad), `${bad} survived: ${inner}`);
  }
  assert.equal(await page.locator('[data-testid="mail-html"]').getAttribute('sandbox'), 'allow-same-origin allow-popups allow-popups-to-escape-sandbox');
  // Clicking the neutered link does nothing either.
  await frame.getByRole('link', { name: 'click me' }).click().catch(() => {});
  assert.ok(!(await page.title()).startsWith('pwned'));
  await screenshot(page, 'mail-html-blocked');

  // The agent asks for the images: exactly the image loads.
  await page.getByRole('button', { name: 'Show images' }).click();
  const deadline = Date.now() + 10_000;
  while (!track.hits.includes('/pixel.gif')) {
    assert.ok(Date.now() < deadline, `the pixel never loaded; hits: ${track.hits}`);
    await page.waitForTimeout(50);
  }
  await page.waitForTimeout(500);
  assert.deepEqual([...new Set(track.hits)], ['/pixel.gif'], 'only the image, never CSS, scripts, frames or forms');
  assert.deepEqual(dialogs, []);
  await screenshot(page, 'mail-html-shown');

  // The plain text is one click away.
  await page.getByRole('button', { name: 'Plain text' }).click();
  await page.getByTestId('ticket-thread').getByText('Dear customer, please pay.').waitFor();
  assert.deepEqual(errors, []);
  await ctx.close();
});
