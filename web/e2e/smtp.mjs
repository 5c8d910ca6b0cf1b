// aiosmtpd for the browser tests: a real SMTP server on a free loopback port writing a
// Maildir, started per test and stopped when it ends.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const here = new URL('.', import.meta.url).pathname;

export function python() {
  if (process.env.FRONTDESK_TEST_PYTHON) return process.env.FRONTDESK_TEST_PYTHON;
  for (const p of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(p, ['-c', 'import aiosmtpd']).status === 0) return p;
  }
  throw new Error('no python3 with aiosmtpd: apt-get install python3-aiosmtpd (tests/run.sh does)');
}

export const freePort = () =>
  new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });

/** aiosmtpd on a free loopback port, writing a Maildir; stopped when the test ends. */
export async function smtpSink(t) {
  const dir = mkdtempSync(join(tmpdir(), 'fd-mail-'));
  const maildir = join(dir, 'Maildir');
  const port = await freePort();
  const child = spawn(python(), [resolve(here, '../../tests/support/smtp_sink.py'), String(port), maildir], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('aiosmtpd did not start')), 20_000);
    createInterface({ input: child.stdout }).on('line', (l) => l === 'ready' && (clearTimeout(timer), ok()));
    child.on('exit', (c) => fail(new Error(`aiosmtpd exited with ${c}`)));
  });
  t.after(() => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  const mails = () => {
    let files = [];
    try {
      files = readdirSync(join(maildir, 'new')).map((f) => join(maildir, 'new', f));
    } catch {}
    return files.sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs).map((f) => readFileSync(f, 'utf8'));
  };
  return {
    url: `smtp://127.0.0.1:${port}`,
    async waitFor(n) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const m = mails();
        if (m.length >= n) return m;
        if (Date.now() > deadline) throw new Error(`${n} mails expected, ${m.length} arrived`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

