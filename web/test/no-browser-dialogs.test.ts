// Issue 14: the console and widget use in-app dialogs (console/dialog), never the browser's
// prompt()/confirm()/alert(), which show secrets in clear text and cannot be styled or translated.
/// <reference types="vite/client" />
import { describe, expect, it } from 'vitest';

// Every source file's text, loaded by Vite at test time.
const sources = import.meta.glob<string>('../src/**/*.{ts,svelte}', { query: '?raw', import: 'default', eager: true });

/** Calls of the global dialogs (bare or through window/globalThis), comments left out. */
export function browserDialogCalls(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
  return [...code.matchAll(/(?:\b(?:window|globalThis|self)\s*\.\s*|(?<![\w.$]))(prompt|confirm|alert)\s*\(/g)].map((m) => m[0]);
}

describe('no browser dialogs', () => {
  it('finds the calls it is meant to find', () => {
    expect(browserDialogCalls("if (!confirm('x')) return;")).toHaveLength(1);
    expect(browserDialogCalls("window.prompt('p')")).toHaveLength(1);
    expect(browserDialogCalls("alert ('x')")).toHaveLength(1);
    expect(browserDialogCalls("await ask({ title }); dialogs.confirm(x); confirmCode(c); // confirm(y)")).toHaveLength(0);
  });

  it('web/src calls no prompt(, confirm( or alert(', () => {
    const names = Object.keys(sources);
    expect(names.length).toBeGreaterThan(50);
    expect(names).toContain('../src/console/pages/Agents.svelte');
    const found = names.flatMap((f) => browserDialogCalls(sources[f]).map((c) => `${f}: ${c}`));
    expect(found).toEqual([]);
  });
});
