// Issue 12, part 2: the pre-chat form refuses to start without its required answers and the
// agent sees them, the department choice routes the chat; rating and transcript at the end of a
// chat (the transcript arrives at aiosmtpd); appearance changed on the admin page shows in the
// live preview and, after saving, on /demo in each language.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminSession, ownServer, screenshot, sharedBrowser, watchErrors } from './helpers.mjs';
import { smtpSink } from './smtp.mjs';

const env = sharedBrowser();




async function visitor(browser, server, errors, locale = 'en-US') {
  const ctx = await browser.newContext({ locale });
  const page = await ctx.newPage();
  watchErrors(page, errors, `visitor ${locale}`);
  await page.goto(`${server.url}/demo`);
  // The frame's title and the launcher's name are in the visitor's language.
  return { ctx, page, w: page.frameLocator(`iframe[title="${locale.startsWith('ru') ? 'Чат' : 'Chat'}"]`) };
}

test('pre-chat form, department choice, answers for the agent; rating and transcript at the end', async (t) => {
  const { browser } = env;
  const sink = await smtpSink(t);
  const server = await ownServer(t, { FRONTDESK_SMTP_URL: sink.url, FRONTDESK_MAIL_FROM: 'Shop support <support@shop.example>' });
  const errors = [];
  const admin = await adminSession(browser, server, errors);
  const sales = await admin.call('POST', '/api/v1/departments', { name: 'Sales' });
  const support = await admin.call('POST', '/api/v1/departments', { name: 'Support' });
  await admin.call('PATCH', `/api/v1/agents/${admin.me.id}`, { department_ids: [sales.id, support.id] });

  // The admin builds Sales' form in the console: name and email required, an own question, consent.
  await admin.page.getByTestId('nav-departments').click();
  await admin.page.getByTestId(`dept-prechat-${sales.id}`).click();
  const editor = admin.page.getByTestId(`prechat-${sales.id}`);
  for (const kind of ['Name', 'Email', 'Own question']) await editor.getByRole('combobox', { name: 'Add a field' }).selectOption({ label: kind });
  await editor.getByRole('checkbox', { name: 'Required' }).nth(0).check();
  await editor.getByRole('checkbox', { name: 'Required' }).nth(1).check();
  await editor.getByRole('textbox', { name: 'Question' }).fill('Shoe size');
  await editor.getByRole('textbox', { name: 'Consent checkbox text (empty: none)' }).fill('I agree that Acme keeps this chat.');
  await editor.getByRole('button', { name: 'Save' }).click();
  await editor.waitFor({ state: 'detached' });
  const saved = (await admin.call('GET', '/api/v1/departments')).items.find((d) => d.id === sales.id);
  assert.deepEqual(saved.prechat, {
    fields: [{ kind: 'name', required: true }, { kind: 'email', required: true }, { kind: 'custom', required: false, label: 'Shoe size' }],
    consent: 'I agree that Acme keeps this chat.',
  });

  // The visitor picks Sales: the form. Without the required answers nothing starts.
  const v = await visitor(browser, server, errors);
  await v.page.getByRole('button', { name: 'Chat' }).click();
  await v.w.getByTestId('w-departments').getByRole('button', { name: 'Sales' }).click();
  const form = v.w.getByTestId('w-prechat');
  await form.getByText('Department: Sales').waitFor();
  await form.getByRole('button', { name: 'Start the chat' }).click();
  await form.getByRole('alert').getByText('Please fill in: Name, Email').waitFor();
  await form.getByRole('textbox', { name: 'Name' }).fill('Ann Lee');
  await form.getByRole('textbox', { name: 'Email' }).fill('ann@example.com');
  await form.getByRole('textbox', { name: 'Your question' }).fill('Do you have boots in 38?');
  await form.getByRole('button', { name: 'Start the chat' }).click();
  await form.getByRole('alert').getByText('Please tick the consent box to start the chat.').waitFor();
  for (const status of ['queued', 'active']) {
    assert.equal((await admin.call('GET', `/api/v1/conversations?status=${status}`)).items.length, 0, 'no chat before the form is complete');
  }
  await screenshot(v.page, 'widgetcfg-prechat-refused');
  await form.getByRole('textbox', { name: 'Shoe size (optional)' }).fill('38');
  await form.getByRole('checkbox', { name: 'I agree that Acme keeps this chat.' }).check();
  await form.getByRole('button', { name: 'Start the chat' }).click();
  await v.w.getByTestId('w-messages').getByText('Do you have boots in 38?').waitFor();

  // Routed to Sales (the admin serves it) with the answers for the agent.
  await admin.page.getByTestId('nav-chats').click();
  const list = await admin.call('GET', '/api/v1/conversations?status=active');
  const conv = list.items.find((c) => c.department_id === sales.id);
  assert.ok(conv, `a Sales chat: ${JSON.stringify(list)}`);
  await admin.page.getByTestId(`open-${conv.id}`).click();
  const answers = admin.page.getByTestId('chat-answers');
  await answers.getByText('ann@example.com').waitFor();
  await answers.getByText('Shoe size').waitFor();
  await answers.getByText('Consent given').waitFor();
  await screenshot(admin.page, 'widgetcfg-agent-answers');

  // End of the chat: rating with a comment, and the transcript by mail, in one view.
  await v.w.getByTestId('w-end').click();
  await v.w.getByTestId('w-end-yes').click();
  const end = v.w.getByTestId('w-rating');
  await end.getByRole('button', { name: 'Good' }).click();
  await end.getByRole('textbox', { name: 'Comment (optional)' }).fill('Quick and kind');
  await end.getByRole('button', { name: 'Send rating' }).click();
  await end.getByText('Thank you for your rating!').waitFor();
  // Pushed to the agent's open chat at once (no reload, no polling).
  await admin.page.getByTestId('chat-rating').getByText('Good').waitFor();
  await admin.page.getByTestId('chat-answers').getByText('Quick and kind').waitFor();
  assert.equal(await end.getByRole('textbox', { name: 'Email' }).inputValue(), '', 'no address guessed');
  await end.getByRole('textbox', { name: 'Email' }).fill('ann@example.com');
  await end.getByRole('button', { name: 'Email me the transcript' }).click();
  await end.getByText('The transcript is on its way.').waitFor();
  await screenshot(v.page, 'widgetcfg-end-of-chat');
  const mails = await sink.waitFor(1);
  assert.match(mails[0], /ann@example\.com/);
  assert.match(mails[0], /Do you have boots in 38\?|Do you have boots in 38=3F/);
  const view = await admin.call('GET', `/api/v1/conversations/${conv.id}`);
  assert.deepEqual([view.rating.rating, view.rating.comment, view.rating.agent_id], ['good', 'Quick and kind', admin.me.id]);

  // A department without a form starts at once.
  const v2 = await visitor(browser, server, errors);
  await v2.page.getByRole('button', { name: 'Chat' }).click();
  await v2.w.getByTestId('w-departments').getByRole('button', { name: 'Support' }).click();
  await v2.w.getByTestId('w-input').fill('Hello support');
  await v2.w.getByTestId('w-send').click();
  await v2.w.getByTestId('w-messages').getByText('Hello support').waitFor();
  assert.equal(await v2.w.getByTestId('w-prechat').count(), 0);
  const conv2 = (await admin.call('GET', '/api/v1/conversations?status=active')).items.find((c) => c.department_id === support.id);
  assert.ok(conv2, 'the Support chat is routed to Support');
  // Opened again later, the ended chat still shows its rating.
  await admin.page.getByTestId(`open-${conv2.id}`).click();
  await admin.page.getByTestId(`open-${conv.id}`).click();
  await admin.page.getByTestId('chat-rating').getByText('Good').waitFor();
  await v.ctx.close();
  await v2.ctx.close();
  await admin.ctx.close();
  assert.deepEqual(errors, []);
});

test('appearance: live preview of the real widget, then /demo after reload in each language', async (t) => {
  const { browser } = env;
  const server = await ownServer(t);
  const errors = [];
  const admin = await adminSession(browser, server, errors);
  await admin.page.getByTestId('nav-appearance').click();
  const form = admin.page.getByTestId('widget-appearance');
  await form.waitFor();
  assert.equal(await admin.page.getByTestId('widget-snippet').textContent(), `<script async src="${server.url}/widget.js"></script>`);
  const preview = admin.page.frameLocator('iframe[title="Live preview"]');
  await preview.getByText('Do you ship to Poland?').waitFor();

  // Unsaved changes show in the preview at once: colour, greeting, the agent's name hidden.
  await form.getByLabel('Main colour', { exact: true }).fill('#0f766e');
  await form.getByRole('textbox', { name: 'Greeting' }).fill('Hi from Acme! How can we help?');
  await form.getByRole('textbox', { name: 'Launcher text (empty: icon only)' }).fill('Questions?');
  await form.getByRole('checkbox', { name: 'Show the agent’s name (off: “Support”)' }).uncheck();
  await preview.getByText('Hi from Acme! How can we help?').waitFor();
  await preview.locator('.w-who').getByText('Support').waitFor();
  const head = await preview.locator('.w-head').evaluate((e) => getComputedStyle(e).backgroundColor);
  assert.equal(head, 'rgb(15, 118, 110)');
  await admin.page.getByTestId('launcher-preview').getByText('Questions?').waitFor();
  // Russian texts; the preview speaks Russian on that tab.
  await form.getByRole('button', { name: 'Русский' }).click();
  await form.getByRole('textbox', { name: 'Greeting' }).fill('Здравствуйте! Чем помочь?');
  await preview.getByText('Здравствуйте! Чем помочь?').waitFor();
  await preview.getByText('Напишите нам').waitFor();
  // The offline view shows the configured offline text... left empty here: the widget's own.
  await admin.page.getByRole('button', { name: 'Offline form' }).click();
  await preview.getByTestId('w-offline').waitFor();
  await screenshot(admin.page, 'widgetcfg-preview');
  // Nothing saved yet: /demo still has the defaults.
  let v = await visitor(browser, server, errors);
  await v.page.getByRole('button', { name: 'Chat' }).waitFor();
  assert.equal(await v.page.getByRole('button', { name: 'Chat' }).evaluate((b) => getComputedStyle(b).backgroundColor), 'rgb(37, 99, 235)');
  await v.ctx.close();
  await form.getByRole('button', { name: 'Save' }).click();
  await admin.page.getByRole('status').getByText('Saved', { exact: true }).waitFor();

  // /demo after reload: colour, launcher text, greeting in English; Russian for a Russian browser.
  v = await visitor(browser, server, errors);
  // The launcher's name is the text it shows (label in name), not a hidden "Chat".
  const launcher = v.page.getByRole('button', { name: 'Questions?' });
  await launcher.getByText('Questions?').waitFor();
  assert.equal(await launcher.evaluate((b) => getComputedStyle(b).backgroundColor), 'rgb(15, 118, 110)');
  await launcher.click();
  await v.w.getByText('Hi from Acme! How can we help?').waitFor();
  await v.page.reload();
  // The widget comes back open after a reload (it keeps its state); closed, the launcher shows the text.
  await v.w.getByText('Hi from Acme! How can we help?').waitFor();
  await v.w.getByRole('button', { name: 'Close' }).click();
  await v.page.getByRole('button', { name: 'Questions?' }).getByText('Questions?').waitFor();
  await screenshot(v.page, 'widgetcfg-demo');
  await v.ctx.close();
  const ru = await visitor(browser, server, errors, 'ru-RU');
  // No Russian launcher text: the icon, named in Russian.
  await ru.page.getByRole('button', { name: 'Чат' }).click();
  await ru.w.getByText('Здравствуйте! Чем помочь?').waitFor();
  await ru.ctx.close();

  // The identity secret and the examples are on the page; a new secret replaces the old one.
  const secret = await admin.page.getByTestId('identity-secret').inputValue();
  assert.match(secret, /^[0-9a-f]{64}$/);
  await admin.page.getByRole('button', { name: 'Python' }).click();
  await admin.page.getByText('hmac.new(os.environ["FRONTDESK_IDENTITY_SECRET"]').waitFor();
  await admin.page.getByRole('button', { name: 'Make a new secret' }).click();
  // The in-app dialog asks first; its confirm button carries the same words.
  await admin.page.getByRole('dialog').getByRole('button', { name: 'Make a new secret' }).click();
  await admin.page.getByRole('status').getByText('A new secret is in force. Update your site.').waitFor();
  assert.notEqual(await admin.page.getByTestId('identity-secret').inputValue(), secret);
  await admin.ctx.close();
  assert.deepEqual(errors, []);
});
