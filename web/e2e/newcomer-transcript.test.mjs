// Issue 14, Done 6: a ticket made from a chat, viewed with the console in Russian, shows the
// transcript as chat messages in Russian with the reader's local times (not an English log in
// UTC).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownServer, screenshot, setupAdmin, sharedBrowser, watchErrors } from './helpers.mjs';

const env = sharedBrowser();

test('chat → ticket: the transcript in the reader’s language and time zone', async (t) => {
  const server = await ownServer(t);
  const errors = [];
  // Vladivostok is UTC+10 all year: a UTC time would be visibly wrong.
  const ctx = await env.browser.newContext({ locale: 'ru-RU', timezoneId: 'Asia/Vladivostok' });
  const agent = await ctx.newPage();
  watchErrors(agent, errors, 'agent');
  await setupAdmin(agent, server.setupLink, { name: 'Ольга', email: 'olga@shop.example' });
  await agent.getByTestId('locale-switch').selectOption('ru');

  const vctx = await env.browser.newContext({ locale: 'en-US' });
  const visitor = await vctx.newPage();
  watchErrors(visitor, errors, 'visitor');
  await visitor.goto(`${server.url}/demo`);
  await visitor.getByRole('button', { name: /^Chat/ }).click();
  const w = visitor.frameLocator('iframe[title="Chat"]');
  await w.getByTestId('w-input').fill('My parcel arrived damaged');
  await w.getByTestId('w-send').click();
  await agent.getByTestId('nav-chats').click();
  await agent.getByTestId('transcript').getByText('My parcel arrived damaged').waitFor();
  await agent.getByTestId('composer').fill('Пришлите, пожалуйста, фото');
  await agent.getByTestId('send').click();
  await w.getByText('Пришлите, пожалуйста, фото').waitFor();

  await agent.getByTestId('chat-to-ticket').click();
  await agent.waitForURL(/\/tickets\/\d+/);
  const transcript = agent.getByTestId('ticket-transcript');
  await transcript.getByText('My parcel arrived damaged').waitFor();
  await transcript.getByText('Пришлите, пожалуйста, фото').waitFor();
  // The system line in Russian, not the stored English text.
  await transcript.getByText('Ольга подключается к чату').waitFor();
  const text = await transcript.innerText();
  assert.doesNotMatch(text, /joined the chat|UTC|\[file:/, 'no English log lines');
  // Local time (Vladivostok), as the browser writes it now; the minute may just have turned.
  const local = await agent.evaluate(() =>
    [0, 60_000].map((back) => new Date(Date.now() - back).toLocaleString('ru', { dateStyle: 'short', timeStyle: 'short' })),
  );
  assert.ok(local.some((s) => text.includes(s)), `a local time (${local.join(' or ')}) in:\n${text}`);
  await screenshot(agent, 'newcomer-transcript-ru');
  assert.deepEqual(errors, []);
  await vctx.close();
  await ctx.close();
});
