// Shared by the browser tests: run axe-core (the accessibility engine, from npm) inside a page
// or frame and fail on serious or critical violations.
//
//   import { checkA11y } from './axe.mjs';
//   await checkA11y(page, 'agents page');                 // the whole page
//   await checkA11y(page.frame({ url: /\/widget/ }), 'widget');  // one frame (e.g. the widget)
//
// axe-core is a devDependency (web/package.json); NODE_PATH may point elsewhere when the
// installed node_modules are shared and read-only.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
let source = null;
function axeSource() {
  source ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  return source;
}

/** Impacts that fail a test (WCAG A/AA rules; "moderate"/"minor" findings are reported only). */
export const FAILING = ['serious', 'critical'];

/**
 * Run axe over `target` (a Page or a Frame) and return its violations, each as
 * { id, impact, help, nodes: [selector…] }.
 */
export async function axeViolations(target, { exclude = [] } = {}) {
  // Colours are measured as shown: let entrance animations (popups) finish first.
  await target.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => null))));
  const has = await target.evaluate(() => typeof window.axe !== 'undefined');
  if (!has) await target.evaluate(axeSource());
  const result = await target.evaluate(async (exclude) => {
    const context = exclude.length ? { exclude: exclude.map((s) => [s]) } : document;
    const r = await window.axe.run(context, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  }, exclude);
  return result;
}

/** Fail when `target` has serious or critical violations; returns the milder ones. */
export async function checkA11y(target, what, options = {}) {
  const all = await axeViolations(target, options);
  const bad = all.filter((v) => FAILING.includes(v.impact));
  assert.deepEqual(
    bad.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 5).join(', ')}`),
    [],
    `accessibility (axe-core) on ${what}`,
  );
  return all.filter((v) => !FAILING.includes(v.impact));
}
