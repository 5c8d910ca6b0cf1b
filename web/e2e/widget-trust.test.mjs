// Issue 17, findings 16b and 16d. A long chat (2,000 messages) opens in the widget: the replay
// comes as `history` frames merged in one pass. The widget takes `fd:page` only from the page
// that embeds it (a sibling frame's spoofed page view is not stored), and its token still
// reaches that page's loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAndBrowser, setupAdmin, watchErrors } from './helpers.mjs';

const env = serverAndBrowser({ FRONTDESK_VISITOR_MESSAGE_RATE: '100000/1s', FRONTDESK_VISITOR_MESSAGE_RATE_IP: '100000/1s' });

test('a 2,000-message chat opens; fd:page is taken only from the embedding page', async (t) => {
  const { server, browser } = env;
  const errors = [];
  const agentCtx = await browser.newContext({ locale: 'en-US' });
  const agent = await agentCtx.newPage();
  watchErrors(agent, errors, 'agent');
  await setupAdmin(agent, server.setupLink);

  const ctx = await browser.newContext({ locale: 'en-US' });
  const visitor = await ctx.newPage();
  watchErrors(visitor, errors, 'visitor');
  await visitor.goto(`${server.url}/demo`);
  await visitor.getByRole('button', { name: 'Chat' }).click();
  const w = visitor.frameLocator('iframe[title="Chat"]');
  await w.getByTestId('w-input').waitFor();
  const widget = visitor.frames().find((f) => f.url().includes('/widget'));
  // The welcome's token reached the loader (posted to the embedding page's origin).
  const token = await widget.evaluate(() => localStorage.getItem('frontdesk.visitor'));
  assert.ok(token);
  await visitor.waitForFunction((t) => localStorage.getItem('frontdesk_visitor') === t, token);

  // 2,000 messages from a second socket of the same visitor (quicker than typing them).
  const N = Number(process.env.E2E_LONG_CHAT || 2000);
  const conv = await widget.evaluate(async ({ token, N }) => {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/visitor`);
    await new Promise((ok) => (ws.onopen = ok));
    ws.send(JSON.stringify({ type: 'hello', v: 1, token }));
    let acks = 0;
    let conv = 0;
    let sent = 0;
    // A window of 50 messages in flight (a busy client), with a deadline: a socket that closes
    // or stalls fails the test instead of hanging it. Not more: one commit batch can bring a
    // whole window's echoes at once, and a socket's queue holds 256 frames (a window of 200
    // plus the status lines was dropped as "too slow" now and then).
    const send = () => {
      while (sent < N && sent - acks < 50) ws.send(JSON.stringify({ type: 'message', client_id: `m${sent}`, body: `long chat message ${sent++}` }));
    };
    const done = new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`only ${acks} of ${N} acks within 120 s`)), 120_000);
      ws.onclose = (e) => fail(new Error(`socket closed (${e.code} ${e.reason}) after ${acks} acks`));
      ws.onmessage = (e) => {
        const f = JSON.parse(e.data);
        if (f.type === 'error') fail(new Error(JSON.stringify(f)));
        if (f.type === 'ack') {
          conv = f.conversation;
          if (++acks === N) {
            clearTimeout(timer);
            ws.onclose = null;
            ok();
          } else send();
        }
      };
    });
    send();
    await done;
    ws.close();
    return conv;
  }, { token, N });

  // Every page load replays the whole chat.
  const opening = Date.now();
  await visitor.reload();
  // It was open before: the widget comes back open by itself (issue 14).
  await w.getByText(`long chat message ${N - 1}`, { exact: true }).waitFor();
  t.diagnostic(`${N} messages shown ${Date.now() - opening} ms after opening (informational)`);
  assert.equal(await w.locator('li.w-msg.visitor:not(.pending)').count(), N, 'every message once, none pending');
  assert.equal(await w.getByText('long chat message 0', { exact: true }).count(), 1);

  // A sibling frame of the same page posts a page view to the widget: ignored. Then the page
  // itself navigates (pushState): the loader reports it, and it is stored.
  await visitor.evaluate(() => {
    const s = document.createElement('iframe');
    s.name = 'spoofer';
    document.body.append(s);
  });
  await visitor.frame({ name: 'spoofer' }).evaluate(() => {
    const target = parent.document.querySelector('iframe[title="Chat"]').contentWindow;
    target.postMessage({ type: 'fd:page', url: 'https://spoofed.example/fake', title: 'Spoofed' }, '*');
  });
  await visitor.evaluate(() => history.pushState({}, '', '/demo?page=legit'));
  const pages = async () => {
    const r = await agent.request.get(`${server.url}/api/v1/conversations/${conv}`);
    assert.equal(r.status(), 200);
    return (await r.json()).visitor.pages.map((p) => p.url);
  };
  let urls = [];
  for (let i = 0; i < 100 && !urls.some((u) => u.endsWith('/demo?page=legit')); i++) {
    await new Promise((r) => setTimeout(r, 100));
    urls = await pages();
  }
  assert.ok(urls.some((u) => u.endsWith('/demo?page=legit')), `the embedding page's navigation is stored: ${urls}`);
  assert.ok(!urls.some((u) => u.includes('spoofed.example')), `the sibling frame's page view is not: ${urls}`);

  // The agent opens the long chat in the console: every line, once.
  await agent.goto(`${server.url}/chats`);
  const mine = agent.getByTestId('mine');
  await mine.getByRole('button').first().click();
  const transcript = agent.getByTestId('transcript');
  const opened = Date.now();
  await transcript.getByText(`long chat message ${N - 1}`, { exact: true }).waitFor();
  t.diagnostic(`console: ${N} messages shown ${Date.now() - opened} ms after opening (informational)`);
  assert.equal(await transcript.getByText(/^long chat message \d+$/).count(), N);
  // A reload replays the chat: lines read before are not news again (no unread count of
  // 2,000, no alerts); the one line that arrives after it is. It comes after the whole replay
  // (one sequence), so once its preview shows, the count is final.
  await agent.reload();
  await mine.getByRole('button').first().waitFor();
  await w.getByTestId('w-input').fill('one more question');
  await w.getByTestId('w-send').click();
  await mine.getByText('one more question').waitFor();
  assert.equal(await mine.getByLabel('Unread').textContent(), '1');
  assert.deepEqual(errors, []);
  await ctx.close();
  await agentCtx.close();
});
