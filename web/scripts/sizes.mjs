// Prints gzip sizes of what visitors download (SPEC W1: loader <= 3 KB; what the widget iframe loads before the visitor opens it <= 30 KB),
// counting every asset a page references (its entry, shared chunks and CSS).
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url);
const gz = (p) => gzipSync(readFileSync(new URL(p, dist)), { level: 9 }).length;
const pageAssets = (html) => [...readFileSync(new URL(html, dist), 'utf8').matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]);
const page = (html) => pageAssets(html).reduce((n, f) => n + gz(f), 0);
// The widget fetches one non-English dictionary on demand: count the largest as part of it.
const largestLocale = Math.max(0, ...readdirSync(new URL('assets/', dist)).filter((f) => /^(ru|uk|pl)-.*\.js$/.test(f)).map((f) => gz(`assets/${f}`)));
const rows = [
  ['loader (widget.js)', gz('widget.js'), 3 * 1024],
  ['widget app + 1 language', page('widget.html') + largestLocale, 30 * 1024],
  ['console', page('index.html'), null],
];
for (const [name, bytes, limit] of rows) {
  const verdict = limit == null ? '' : bytes <= limit ? `  ok (limit ${limit / 1024} KB)` : `  OVER LIMIT (${limit / 1024} KB)`;
  console.log(`gzip ${name.padEnd(20)} ${(bytes / 1024).toFixed(1).padStart(6)} KB${verdict}`);
}
if (rows.some(([, b, l]) => l != null && b > l)) process.exit(1);
