// Issue: realtime chat. A visitor on the demo page and an agent in the console, in two
// browser contexts: queue → accept → typing and sneak peek → reply → read receipts → reload
// and navigation keep the conversation → files both ways arrive byte-identical → HTML in
// messages and file names stays text.
import {  test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshot, serverAndBrowser, setupAdmin, watchErrors } from './helpers.mjs';

const env = serverAndBrowser();

const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';

test('visitor and agent chat in real time, and nothing is lost on reload', async () => {
  const { server, browser } = env;
  const visitorBytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
  const visitorFile = { name: 'photo.png', mimeType: 'image/png', buffer: visitorBytes };
  const agentBytes = Buffer.from('%PDF-1.4\n' + 'invoice line\n'.repeat(2000));
  const agentFile = { name: '<img src=x onerror="window.__xss=3">.pdf', mimeType: 'application/pdf', buffer: agentBytes };

  const agentCtx = await browser.newContext({ locale: 'en-US' });
  const agent = await agentCtx.newPage();
  const agentErrors = [];
  watchErrors(agent, agentErrors);
  await setupAdmin(agent, server.setupLink, { name: 'Ann', email: 'ann@shop.example' });
  // This test walks the Queue list and Accept by hand: manual routing (the default, even
  // distribution, is covered by routing.test.mjs).
  const manual = await agent.request.patch(`${server.url}/api/v1/settings/routing`, { headers: { Origin: server.url }, data: { mode: 'manual' } });
  assert.equal(manual.status(), 200);
  await agent.getByTestId('nav-chats').click();

  const visitorCtx = await browser.newContext({ locale: 'pl-PL' });
  const visitor = await visitorCtx.newPage();
  const visitorErrors = [];
  watchErrors(visitor, visitorErrors);
  await visitor.goto(`${server.url}/demo`);
  await visitor.getByRole('button', { name: 'Czat' }).click();
  const w = visitor.frameLocator('iframe[title="Czat"]');
  await w.getByTestId('w-input').waitFor();

  // The visitor writes; the agent gets it in the queue.
  await w.getByTestId('w-input').fill('Dzień dobry, czy macie buty w rozmiarze 44?');
  await w.getByTestId('w-send').click();
  await w.getByText('Czekamy na konsultanta…').waitFor();
  const queue = agent.getByTestId('queue');
  await queue.getByText('czy macie buty').waitFor();
  await agent.getByTestId('incoming').waitFor();
  await queue.getByRole('button', { name: 'Accept' }).click();
  const transcript = agent.getByTestId('transcript');
  await transcript.getByText('Dzień dobry, czy macie buty w rozmiarze 44?').waitFor();
  await w.getByText('Ann jest z Tobą').waitFor();
  // System lines in each reader's language.
  await w.getByText('Ann dołącza do czatu').waitFor();
  await transcript.getByText('Ann joined the chat').waitFor();

  // Sneak peek: the agent sees the draft before it is sent.
  await w.getByTestId('w-input').pressSequentially('A jaki jest czas dostawy', { delay: 15 });
  await agent.getByTestId('sneak-peek').getByText('A jaki jest czas dostawy').waitFor();
  await w.getByTestId('w-send').click();
  await transcript.getByText('A jaki jest czas dostawy').waitFor();

  // The agent types (the visitor sees it) and replies; the visitor's messages turn to "read".
  await agent.getByTestId('composer').pressSequentially('Tak, mamy', { delay: 20 });
  await w.getByTestId('w-typing').waitFor();
  await agent.getByTestId('send').click();
  await w.getByText('Tak, mamy').waitFor();
  await w.getByTestId('w-receipt').last().getByText('Przeczytano').waitFor();
  await screenshot(visitor, 'chat-visitor');
  await screenshot(agent, 'chat-agent');

  // A canned response: `#shortcut` + Space expands, with the visitor's name filled in.
  const canned = await agent.request.post(`${server.url}/api/v1/canned`, {
    headers: { Origin: server.url },
    data: { shortcut: 'ship', title: 'Shipping time', body: 'We ship within 2 days, {agent.name} here.', personal: true },
  });
  assert.equal(canned.status(), 201);
  await agent.reload();
  await agent.getByTestId('mine').getByRole('button').first().click();
  await agent.getByTestId('composer').pressSequentially('#ship ', { delay: 20 });
  assert.equal(await agent.getByTestId('composer').inputValue(), 'We ship within 2 days, Ann here.');
  await agent.getByTestId('send').click();
  await w.getByText('We ship within 2 days, Ann here.').waitFor();

  // HTML in a message is shown as text and never runs, on both sides.
  await w.getByTestId('w-input').fill(XSS);
  await w.getByTestId('w-send').click();
  await transcript.getByText(XSS).waitFor();
  await w.getByText(XSS).waitFor();

  // Files both ways.
  await w.getByTestId('w-file').setInputFiles(visitorFile);
  const inAgent = agent.getByTestId('attachment-link').filter({ hasText: 'photo.png' });
  await inAgent.waitFor();
  const got = await agentCtx.request.get(new URL(await inAgent.getAttribute('href'), server.url).toString());
  assert.deepEqual(Buffer.from(await got.body()), visitorBytes, 'visitor → agent file is byte-identical');
  await agent.getByTestId('agent-file').setInputFiles(agentFile);
  const inWidget = w.getByTestId('w-attachment').filter({ hasText: '.pdf' });
  await inWidget.waitFor();
  assert.equal((await inWidget.innerText()).includes('<img src=x onerror="window.__xss=3">.pdf'), true, 'file name shown as text');
  const back = await visitorCtx.request.get(new URL(await inWidget.getAttribute('href'), server.url).toString());
  assert.deepEqual(Buffer.from(await back.body()), agentBytes, 'agent → visitor file is byte-identical');
  assert.match(back.headers()['content-disposition'], /^attachment/);

  // Reload, then another page of the site: the same conversation, whole history.
  await visitor.reload();
  // It was open before: the widget comes back open by itself (issue 14).
  await w.getByText('Tak, mamy').waitFor();
  await visitor.goto(`${server.url}/demo?page=boots`);
  for (const text of ['Dzień dobry, czy macie buty w rozmiarze 44?', 'A jaki jest czas dostawy', 'Tak, mamy']) {
    await w.getByText(text).waitFor();
  }
  assert.equal(await w.getByText('Tak, mamy').count(), 1, 'no duplicates after reload');
  // The agent sees where the visitor is now.
  await agent.getByTestId('visitor-panel').waitFor();

  // No script from a message ran anywhere.
  assert.equal(await agent.evaluate(() => window.__xss), undefined);
  const widgetFrame = visitor.frames().find((f) => f.url().includes('/widget'));
  assert.equal(await widgetFrame.evaluate(() => window.__xss), undefined);
  assert.equal(await visitor.evaluate(() => window.__xss), undefined);
  assert.deepEqual(agentErrors, []);
  assert.deepEqual(visitorErrors, []);
  await screenshot(visitor, 'chat-visitor-after-reload');
  await agentCtx.close();
  await visitorCtx.close();
});
