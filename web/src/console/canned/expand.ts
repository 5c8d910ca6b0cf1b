// Canned responses in composers: `#shortcut` expansion, Alt+<key> hotkeys and the cached
// snippet list. Plain TypeScript (no Svelte) so the chat and the ticket composer can share it
// and the unit tests can run it in Node.

import { api } from '../../shared/api';

export interface Canned {
  id: number;
  department_id: number | null;
  owner_id: number | null;
  category: string;
  shortcut: string;
  title: string;
  body: string;
  body_long: string | null;
  hotkey: string | null;
}

/** What expansion needs of a snippet (tests and callers may pass less than a full Canned). */
export type Snippet = Pick<Canned, 'shortcut' | 'body'> & Partial<Pick<Canned, 'body_long' | 'hotkey'>>;

/** Values by placeholder name, e.g. `{ 'visitor.name': 'Ola', 'ticket.number': 1042 }`. */
export type PlaceholderValues = Partial<Record<Placeholder, string | number | null | undefined>>;

export const PLACEHOLDERS = ['visitor.name', 'visitor.email', 'customer.name', 'customer.email', 'agent.name', 'ticket.number', 'ticket.subject'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

// The customer of a ticket and the visitor of a chat are the same person to a snippet: a
// snippet written for chats ("Hi {visitor.name}") works in tickets and the other way round.
const ALIASES: Record<string, Placeholder> = { 'customer.name': 'visitor.name', 'customer.email': 'visitor.email' };
const ALIASED_BY: Record<string, Placeholder> = { 'visitor.name': 'customer.name', 'visitor.email': 'customer.email' };

function valueOf(values: PlaceholderValues, key: Placeholder): string {
  const v = values[key] ?? (ALIASES[key] ? values[ALIASES[key]] : undefined) ?? (ALIASED_BY[key] ? values[ALIASED_BY[key]] : undefined);
  return v == null ? '' : String(v);
}

/**
 * Fill `{placeholder}`s the way the server fills department reply templates
 * (src/tickets/mod.rs `expand`): known ones without a value become empty, unknown ones stay as
 * typed, and in `{{x}}` the outer brace is literal text.
 */
export function fillPlaceholders(template: string, values: PlaceholderValues): string {
  let out = '';
  let rest = template;
  for (;;) {
    const start = rest.indexOf('{');
    if (start < 0) return out + rest;
    out += rest.slice(0, start);
    const after = rest.slice(start);
    const end = after.indexOf('}');
    if (end < 0) return out + after;
    const key = after.slice(1, end);
    if (key.includes('{')) {
      out += '{';
      rest = after.slice(1);
      continue;
    }
    out += (PLACEHOLDERS as readonly string[]).includes(key) ? valueOf(values, key as Placeholder) : after.slice(0, end + 1);
    rest = after.slice(end + 1);
  }
}

export interface Expanded {
  text: string;
  caret: number;
}

export interface ExpandOptions {
  /** Prefer the snippet's long body (mail replies); chat uses the short one. */
  long?: boolean;
}

const textOf = (s: Snippet, opts: ExpandOptions) => (opts.long && s.body_long?.trim() ? s.body_long : s.body);

// `#word` at the caret, at the start of the text or after whitespace (so "page#2" or a URL
// fragment never expands).
const SHORTCUT_BEFORE_CARET = /(^|\s)#([\p{L}\p{N}_-]+)$/u;

/**
 * When the word right before `caret` is `#shortcut` of one of `snippets`, replace it by the
 * snippet's text with placeholders filled and put the caret after it. Null when there is
 * nothing to expand (the caller then lets the key do what it normally does).
 */
export function expandShortcut(text: string, caret: number, snippets: readonly Snippet[], values: PlaceholderValues, opts: ExpandOptions = {}): Expanded | null {
  const m = SHORTCUT_BEFORE_CARET.exec(text.slice(0, caret));
  if (!m) return null;
  const word = m[2].toLowerCase();
  const snippet = snippets.find((s) => s.shortcut.toLowerCase() === word);
  if (!snippet) return null;
  const start = caret - word.length - 1;
  return insertAt(text, start, caret, fillPlaceholders(textOf(snippet, opts), values));
}

/** Insert a snippet at the selection (hotkeys), replacing what is selected. */
export function insertSnippet(text: string, selStart: number, selEnd: number, snippet: Snippet, values: PlaceholderValues, opts: ExpandOptions = {}): Expanded {
  return insertAt(text, selStart, selEnd, fillPlaceholders(textOf(snippet, opts), values));
}

function insertAt(text: string, from: number, to: number, insert: string): Expanded {
  return { text: text.slice(0, from) + insert + text.slice(to), caret: from + insert.length };
}

type KeyLike = Pick<KeyboardEvent, 'altKey' | 'ctrlKey' | 'metaKey' | 'shiftKey' | 'code' | 'key'> & Partial<Pick<KeyboardEvent, 'getModifierState'>>;

/**
 * The hotkey a key event stands for ("Alt+1", "Ctrl+Alt+d"), or null. Uses `code` because
 * Alt changes `key` on macOS and some layouts (Alt+s gives "ß"). AltGr is never a hotkey:
 * Windows reports it as Ctrl+Alt, and Polish or Ukrainian agents type letters with it (AltGr+a
 * is "ą").
 */
export function hotkeyOf(e: KeyLike): string | null {
  if (!e.altKey || e.metaKey || e.shiftKey || e.getModifierState?.('AltGraph')) return null;
  const m = /^(?:Key([A-Z])|Digit(\d)|Numpad(\d))$/.exec(e.code);
  const k = m ? (m[1] ?? m[2] ?? m[3]).toLowerCase() : /^[a-z0-9]$/i.test(e.key) ? e.key.toLowerCase() : null;
  if (!k) return null;
  return `${e.ctrlKey ? 'Ctrl+' : ''}Alt+${k}`;
}

export function snippetForHotkey<S extends Snippet>(snippets: readonly S[], hotkey: string | null): S | undefined {
  if (!hotkey) return undefined;
  const want = hotkey.toLowerCase();
  return snippets.find((s) => s.hotkey?.toLowerCase() === want);
}

// ---------------------------------------------------------------- the list, fetched once

let cache: { at: number; list: Promise<Canned[]> } | null = null;
// Snippets change rarely; a few minutes of staleness for colleagues' shared ones is fine, and
// the management page drops the cache on every change it makes.
const TTL_MS = 5 * 60_000;

/** GET /api/v1/canned, shared by every composer on the page. */
export function loadSnippets(): Promise<Canned[]> {
  if (!cache || Date.now() - cache.at > TTL_MS) {
    const list = api.get<{ items: Canned[] }>('/api/v1/canned').then((r) => r.items);
    cache = { at: Date.now(), list };
    // A failed fetch must not stick: the next composer tries again.
    list.catch(() => {
      if (cache?.list === list) cache = null;
    });
  }
  return cache.list;
}

export function invalidateSnippets(): void {
  cache = null;
}
