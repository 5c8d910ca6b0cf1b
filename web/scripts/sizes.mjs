// Prints gzip sizes of what visitors download (SPEC W1: loader <= 3 KB, widget <= 25 KB),
// counting every asset a page references (its entry, shared chunks and CSS).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url);
const gz = (p) => gzipSync(readFileSync(new URL(p, dist)), { level: 9 }).length;
const pageAssets = (html) => [...readFileSync(new URL(html, dist), 'utf8').matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]);
const page = (html) => pageAssets(html).reduce((n, f) => n + gz(f), 0);
const rows = [
  ['loader (widget.js)', gz('widget.js'), 3 * 1024],
  ['widget app', page('widget.html'), 25 * 1024],
  ['console', page('index.html'), null],
];
for (const [name, bytes, limit] of rows) {
  const verdict = limit == null ? '' : bytes <= limit ? `  ok (limit ${limit / 1024} KB)` : `  OVER LIMIT (${limit / 1024} KB)`;
  console.log(`gzip ${name.padEnd(20)} ${(bytes / 1024).toFixed(1).padStart(6)} KB${verdict}`);
}
if (rows.some(([, b, l]) => l != null && b > l)) process.exit(1);
