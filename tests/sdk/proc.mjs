// Process and port helpers shared by the SDK runner (run.mjs) and the
// authorization matrix (authz/servers.mjs).

import { spawnSync } from 'node:child_process';
import net from 'node:net';

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Runs a command to completion (30 s at most), with `env` added to this
 * process's environment; returns its stdout and stderr, throws with them if it fails.
 */
export function runSync(cmd, args, { env = {} } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
  if (r.error || r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? 'exit ' + r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

/**
 * Polls `url` until it answers 200, for at most `timeoutMs`; throws naming `what`
 * (and `logPath` if given) when it does not, or as soon as `child` exits.
 */
export async function waitReady(url, { what, timeoutMs, child = null, logPath = null }) {
  const deadline = Date.now() + timeoutMs;
  const seeLog = logPath ? `; see ${logPath}` : '';
  let last = '';
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode})${seeLog}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms (${last})${seeLog}`);
}
