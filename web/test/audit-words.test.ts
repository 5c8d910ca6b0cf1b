// Issue 14: the Audit log says each action, and each non-agent actor, in plain words in every
// language. The actions are read from the Rust sources (every string literal of the form
// "domain.action" passed to an audit call), so a new action without words fails here.
/// <reference types="vite/client" />
import { describe, expect, it } from 'vitest';
import { LOCALES, type Dict } from '../src/shared/i18n';
import { dicts } from '../src/console/locales/index';

// The server's sources, loaded by Vite at test time.
const rust = import.meta.glob<string>('../../src/**/*.rs', { query: '?raw', import: 'default', eager: true });
/** `record(.., "a.b", ..)`, `audit(.., "a.b", ..)`, `audit_shared(.., "a.b", ..)` and the actions
 *  chosen in a `let action = ..` (agents::update). */
const CALL = /\b(?:record|audit|audit_shared)\([^;]*?"([a-z_]+(?:\.[a-z_]+)+)"/gs;
const CHOSEN = /"(agent\.(?:update|role|disable|enable|totp_[a-z_]+))"/g;
const found = new Set<string>();
for (const text of Object.values(rust)) {
  for (const m of text.matchAll(CALL)) found.add(m[1]);
  if (/audit/.test(text)) for (const m of text.matchAll(CHOSEN)) found.add(m[1]);
}
const ACTIONS = [...found].sort();
const ACTORS = ['cli', 'setup', 'system'];
const plain: Record<string, Dict> = dicts;

describe('audit actions in plain words', () => {
  it('finds the actions in the sources', () => {
    // A guard for the pattern itself: these are known to be written.
    for (const a of ['agent.create', 'ticket.merge', 'webhook.rotate_secret', 'database.restore', 'chat.transfer']) expect(ACTIONS).toContain(a);
  });
  it.each(LOCALES)('%s names every action and actor', (locale) => {
    const missing = [...ACTIONS.map((a) => `audit.a.${a}`), ...ACTORS.map((a) => `audit.actor.${a}`)].filter((k) => !plain[locale][k]);
    expect(missing).toEqual([]);
  });
});
