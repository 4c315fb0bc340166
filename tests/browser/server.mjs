// The poker binary under test: started on a free loopback port with a fresh data dir,
// stopped (process group, SIGTERM then SIGKILL) whatever happens.
//
// Same approach as tests/sdk/run.mjs: `serve --http 127.0.0.1:0 --dir DIR`, then the
// real address is read from the "Server started at http://…" line, then /api/health.

import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A running server: `url`, `logPath`, `dataDir`, `output()`, `logTail(n)`, `stop()`. With `superuser`
 * (`{ email, password }`), that superuser is created with the CLI before `serve`.
 */
export async function startServer(bin, { startupMs = 30_000, onUnexpectedExit, superuser } = {}) {
  if (!existsSync(bin)) throw new Error(`poker binary not found at ${bin} (build it with \`cargo build -p poker\`, or set POKER_BIN)`);
  const root = mkdtempSync(path.join(tmpdir(), 'poker-browser-'));
  const dataDir = path.join(root, 'data');
  const logPath = path.join(root, 'server.log');
  if (superuser) {
    const made = spawnSync(bin, ['--dir', dataDir, 'superuser', 'upsert', superuser.email, superuser.password],
      { cwd: root, encoding: 'utf8', timeout: startupMs });
    if (made.status !== 0) {
      throw new Error(`\`poker superuser upsert\` failed (status ${made.status}): ${made.stderr || made.error?.message || ''}`);
    }
  }
  const log = createWriteStream(logPath);
  const child = spawn(bin, ['serve', '--http', '127.0.0.1:0', '--dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: root, env: { ...process.env },
  });
  let stopping = false;
  let buf = '';
  let resolveUrl;
  let rejectUrl;
  const urlPromise = new Promise((res, rej) => { resolveUrl = res; rejectUrl = rej; });
  const onData = (chunk) => {
    log.write(chunk);
    buf += chunk.toString();
    const m = buf.match(/Server started at (https?:\/\/[^\s/]+)/);
    if (m) resolveUrl(m[1]);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.on('error', (e) => rejectUrl(new Error(`cannot start ${bin}: ${e.message}`)));
  child.on('exit', (code, signal) => {
    log.end();
    const why = `server exited (code ${code}, signal ${signal}); log: ${logPath}`;
    rejectUrl(new Error(why));
    if (!stopping && onUnexpectedExit) onUnexpectedExit(why);
  });

  const server = {
    url: null,
    logPath,
    dataDir,
    /** Everything the server printed so far (stdout and stderr). */
    output: () => buf,
    logTail(n = 40) {
      return existsSync(logPath) ? readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-n).join('\n') : '';
    },
    async stop({ keep = false } = {}) {
      stopping = true;
      for (const [signal, ms] of [['SIGTERM', 5000], ['SIGKILL', 2000]]) {
        if (child.exitCode !== null || child.signalCode !== null) break;
        try { process.kill(-child.pid, signal); } catch { try { child.kill(signal); } catch { /* gone */ } }
        await new Promise((r) => {
          const t = setTimeout(r, ms);
          child.once('exit', () => { clearTimeout(t); r(); });
        });
      }
      if (!keep) rmSync(root, { recursive: true, force: true });
    },
  };

  try {
    server.url = await Promise.race([
      urlPromise,
      new Promise((_, rej) => setTimeout(() => rej(new Error(`no "Server started at" line within ${startupMs} ms; log: ${logPath}`)), startupMs).unref()),
    ]);
    const deadline = Date.now() + startupMs;
    for (;;) {
      try {
        const res = await fetch(`${server.url}/api/health`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) break;
      } catch { /* not yet */ }
      if (Date.now() > deadline) throw new Error(`server at ${server.url} not healthy within ${startupMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await server.stop({ keep: true });
    throw e;
  }
  return server;
}
