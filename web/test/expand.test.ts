import { afterEach, describe, expect, it } from 'vitest';
import { setFetch } from '../src/shared/api';
import { expandShortcut, fillPlaceholders, hotkeyOf, insertSnippet, invalidateSnippets, loadSnippets, snippetForHotkey, type Snippet } from '../src/console/canned/expand';

const snippets: Snippet[] = [
  { shortcut: 'hi', body: 'Hello {visitor.name}!' },
  { shortcut: 'ship', body: 'Ships in 2 days.', body_long: 'Dear {customer.name},\nyour order ships in 2 days.\n{agent.name}', hotkey: 'Alt+1' },
  { shortcut: 'ref', body: 'Ticket #{ticket.number}: {ticket.subject} {unknown} {customer.email}' },
  { shortcut: 'dostawa', body: 'Dostawa {visitor.email}', hotkey: 'Ctrl+Alt+d' },
];
const values = { 'visitor.name': 'Ola', 'agent.name': 'Ann', 'ticket.number': 1042, 'ticket.subject': 'Refund' };

describe('expandShortcut', () => {
  it.each([
    // text, caret (-1 = end), want text (null = nothing to expand), want caret
    ['#hi', -1, 'Hello Ola!', 10],
    ['Good day. #hi', -1, 'Good day. Hello Ola!', 20],
    ['#HI', -1, 'Hello Ola!', 10],
    ['#hi and more', 3, 'Hello Ola! and more', 10],
    ['line one\n#ship', -1, 'line one\nShips in 2 days.', 25],
    ['#ref', -1, 'Ticket #1042: Refund {unknown} ', 31],
    ['#dostawa', -1, 'Dostawa ', 8],
    ['#nope', -1, null, 0],
    ['hi', -1, null, 0],
    ['page#hi', -1, null, 0],
    ['#hi', 2, null, 0],
    ['# hi', -1, null, 0],
    ['', 0, null, 0],
  ] as const)('%j at %i', (text, caret, wantText, wantCaret) => {
    const got = expandShortcut(text, caret < 0 ? text.length : caret, snippets, values);
    expect(got).toEqual(wantText === null ? null : { text: wantText, caret: wantCaret });
  });

  it('uses the long body when asked and there is one', () => {
    expect(expandShortcut('#ship', 5, snippets, values, { long: true })?.text).toBe('Dear Ola,\nyour order ships in 2 days.\nAnn');
    expect(expandShortcut('#hi', 3, snippets, values, { long: true })?.text).toBe('Hello Ola!');
  });

  it('fills customer.* from visitor.* and the other way round', () => {
    expect(fillPlaceholders('{customer.name} {visitor.email}', { 'visitor.name': 'Ola', 'customer.email': 'o@x.pl' })).toBe('Ola o@x.pl');
  });
});

describe('fillPlaceholders', () => {
  it.each([
    ['Hello {visitor.name}, this is {agent.name}.', 'Hello Ola, this is Ann.'],
    ['Re #{ticket.number}', 'Re #1042'],
    ['{visitor.email}', ''],
    ['{unknown} stays', '{unknown} stays'],
    ['unclosed {visitor.name', 'unclosed {visitor.name'],
    ['{{visitor.name}}', '{Ola}'],
    ['', ''],
  ])('%j', (template, want) => {
    expect(fillPlaceholders(template, values)).toBe(want);
  });
});

describe('hotkeys', () => {
  const key = (code: string, key: string, mods: Partial<Record<'altKey' | 'ctrlKey' | 'metaKey' | 'shiftKey', boolean>> = {}) => ({
    altKey: false, ctrlKey: false, metaKey: false, shiftKey: false, code, key, ...mods,
  });
  it.each([
    [key('Digit1', '¡', { altKey: true }), 'Alt+1'],
    [key('KeyS', 'ß', { altKey: true }), 'Alt+s'],
    [key('KeyD', 'd', { altKey: true, ctrlKey: true }), 'Ctrl+Alt+d'],
    [key('KeyS', 's'), null],
    [key('KeyS', 'S', { altKey: true, shiftKey: true }), null],
    [key('Enter', 'Enter', { altKey: true }), null],
  ])('%j → %s', (e, want) => {
    expect(hotkeyOf(e)).toBe(want);
  });
  it('ignores AltGr (reported as Ctrl+Alt on Windows)', () => {
    expect(hotkeyOf({ ...key('KeyA', 'ą', { altKey: true, ctrlKey: true }), getModifierState: (m: string) => m === 'AltGraph' })).toBeNull();
  });
  it('finds the snippet and inserts it at the selection', () => {
    const s = snippetForHotkey(snippets, 'alt+1');
    expect(s?.shortcut).toBe('ship');
    expect(snippetForHotkey(snippets, 'Ctrl+Alt+D')?.shortcut).toBe('dostawa');
    expect(snippetForHotkey(snippets, null)).toBeUndefined();
    expect(insertSnippet('Hi! XX bye', 4, 6, s!, values)).toEqual({ text: 'Hi! Ships in 2 days. bye', caret: 20 });
  });
});

describe('loadSnippets', () => {
  afterEach(() => {
    setFetch((...a) => fetch(...a));
    invalidateSnippets();
  });
  it('fetches once and retries after a failure', async () => {
    let calls = 0;
    let fail = true;
    setFetch(async () => {
      calls++;
      if (fail) return new Response('{"error":{"code":"internal","message":"x"}}', { status: 500 });
      return new Response(JSON.stringify({ items: [{ id: 1, shortcut: 'hi', body: 'Hello' }] }), { status: 200 });
    });
    await expect(loadSnippets()).rejects.toMatchObject({ code: 'internal' });
    fail = false;
    expect((await loadSnippets())[0].shortcut).toBe('hi');
    await loadSnippets();
    expect(calls).toBe(2);
    invalidateSnippets();
    await loadSnippets();
    expect(calls).toBe(3);
  });
});
