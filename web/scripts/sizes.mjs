// Prints gzip sizes of what visitors download and enforces the widget budgets (SPEC W1):
// the loader <= 3 KB; what the widget iframe loads before the visitor opens it <= 30 KB
// (every asset widget.html references: entry, shared chunks, CSS, plus one language); the
// parts a closed widget or only some visitors need (the open panel, pre-chat form, rating, queue,
// earlier chats, the admin's preview) must be separate lazy chunks, each <= 8 KB, and never
// referenced by widget.html.
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url);
const gz = (p) => gzipSync(readFileSync(new URL(p, dist)), { level: 9 }).length;
const pageAssets = (html) => [...readFileSync(new URL(html, dist), 'utf8').matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]);
const page = (html) => pageAssets(html).reduce((n, f) => n + gz(f), 0);
const assets = readdirSync(new URL('assets/', dist));
// The widget fetches one non-English dictionary on demand: count the largest as part of it.
const largestLocale = Math.max(0, ...assets.filter((f) => /^(ru|uk|pl)-.*\.js$/.test(f)).map((f) => gz(`assets/${f}`)));
// `panel`: everything an open widget draws (messages, composer, offline form, department picker,
// icons, emoji, styles); a closed widget runs only the socket and state (core.svelte.ts).
const LAZY = ['panel', 'Prechat', 'Rating', 'Preview', 'Queue', 'History'];
const initial = pageAssets('widget.html');
const failures = [];
const rows = [
  ['loader (widget.js)', gz('widget.js'), 3 * 1024],
  ['widget before opening', page('widget.html') + largestLocale, 30 * 1024],
];
for (const name of LAZY) {
  const files = assets.filter((f) => f.startsWith(`${name}-`) && f.endsWith('.js'));
  if (files.length !== 1) failures.push(`${name}: expected one lazy chunk, found ${files.length}`);
  for (const f of files) {
    if (initial.includes(`assets/${f}`)) failures.push(`${name}: widget.html loads it up front`);
    rows.push([`lazy ${name}`, gz(`assets/${f}`) + assets.filter((c) => c.startsWith(`${name}-`) && c.endsWith('.css')).reduce((n, c) => n + gz(`assets/${c}`), 0), 8 * 1024]);
  }
}
// For the record: what an opened widget has downloaded (before opening + the panel chunk).
const panel = rows.find(([n]) => n === 'lazy panel');
if (panel) rows.splice(2, 0, ['widget once opened', rows[1][1] + panel[1], null]);
rows.push(['console', page('index.html'), null]);
for (const [name, bytes, limit] of rows) {
  const verdict = limit == null ? '' : bytes <= limit ? `  ok (limit ${limit / 1024} KB)` : `  OVER LIMIT (${limit / 1024} KB)`;
  console.log(`gzip ${name.padEnd(22)} ${(bytes / 1024).toFixed(1).padStart(6)} KB${verdict}`);
}
for (const f of failures) console.log(`FAIL ${f}`);
if (failures.length || rows.some(([, b, l]) => l != null && b > l)) process.exit(1);
