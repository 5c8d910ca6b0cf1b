// Fails the build when dist/ would break under the server's strict CSP (no inline script or
// style, no style attributes in Svelte templates), when an asset name lacks its content hash,
// or when the output leaks an absolute build path (CI diffs dist/ against the committed copy).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const webDir = fileURLToPath(new URL('../', import.meta.url)).replace(/\/$/, '');
const problems = [];

const files = readdirSync(dist, { recursive: true, withFileTypes: true })
  .filter((d) => d.isFile())
  .map((d) => `${d.parentPath ?? d.path}/${d.name}`.slice(dist.length).replace(/^\/+/, ''));

for (const f of files.filter((f) => f.endsWith('.html'))) {
  const html = readFileSync(dist + f, 'utf8');
  for (const m of html.matchAll(/<script\b[^>]*>/gi)) if (!/\bsrc=/.test(m[0])) problems.push(`${f}: inline <script>`);
  if (/<style\b/i.test(html)) problems.push(`${f}: inline <style>`);
  if (/\sstyle=/i.test(html)) problems.push(`${f}: style attribute`);
  for (const [, ref] of html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)) {
    if (!existsSync(dist + ref)) problems.push(`${f}: missing ${ref}`);
    if (!/^assets\/[\w.-]+-[\w-]{8}\.(js|css)$/.test(ref)) problems.push(`${f}: ${ref} has no content hash`);
  }
}

for (const f of files.filter((f) => /\.(js|css|html)$/.test(f))) {
  const text = readFileSync(dist + f, 'utf8');
  if (text.includes(webDir)) problems.push(`${f}: contains the absolute path ${webDir}`);
  // Svelte turns templates into HTML strings; a style attribute there is blocked by style-src.
  if (f.startsWith('assets/') && f.endsWith('.js') && /<[a-z][^<>`]*\sstyle="/.test(text)) problems.push(`${f}: style attribute in a template`);
}

if (problems.length) {
  console.error(`dist/ check failed:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`dist/ check: ${files.length} files, no inline script/style, hashed assets, no absolute paths`);
