// Starts the two servers the authorization matrix compares: the real PocketBase
// 0.40.6 (the reference) and litebase (our `poker` binary), each on a loopback port
// with a fresh data dir under `root`, a superuser, and nothing else.

import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { freePort, runSync, waitReady } from '../proc.mjs';

export const ADMIN_EMAIL = 'admin@example.com';
export const ADMIN_PASSWORD = 'pass123456';
const STARTUP_MS = 30_000;

function spawnLogged(cmd, args, cwd, logPath, env = {}) {
  const out = createWriteStream(logPath);
  const child = spawn(cmd, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  child.stdout.on('data', (c) => out.write(c));
  child.stderr.on('data', (c) => out.write(c));
  child.on('exit', () => out.end());
  return child;
}

function stopper(child) {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    try { process.kill(-child.pid, 'SIGTERM'); } catch { child.kill('SIGTERM'); }
    const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
    await gone;
    clearTimeout(t);
  };
}

/**
 * Starts server `name` from `bin` in `root/name/data` (its own parent: PocketBase's
 * migrations dir defaults to DIR/../pb_migrations), with the test superuser, and
 * waits until it is healthy. `upsert(dataDir)` and `serve(dataDir, addr)` give the
 * command lines.
 */
async function startServer(root, name, bin, { upsert, serve, env = {} }) {
  const dataDir = path.join(root, name, 'data');
  runSync(bin, upsert(dataDir));
  const addr = `127.0.0.1:${await freePort()}`;
  const url = `http://${addr}`;
  const logPath = path.join(root, `${name}.log`);
  const child = spawnLogged(bin, serve(dataDir, addr), path.dirname(dataDir), logPath, env);
  await waitReady(`${url}/api/health`, { what: url, timeoutMs: STARTUP_MS, child, logPath });
  return { name, url, dataDir, logPath, stop: stopper(child) };
}

/** The real PocketBase (`pocketbase` on PATH, or PB_BIN). */
export async function startPocketBase(root) {
  return startServer(root, 'pocketbase', process.env.PB_BIN || 'pocketbase', {
    upsert: (dir) => ['superuser', 'upsert', ADMIN_EMAIL, ADMIN_PASSWORD, '--dir', dir],
    serve: (dir, addr) => ['serve', '--http', addr, '--dir', dir],
  });
}

/** litebase: the `poker` binary (POKER_BIN, default target/debug/poker). */
export async function startLitebase(root, repoRoot) {
  const bin = path.resolve(repoRoot, process.env.POKER_BIN || 'target/debug/poker');
  if (!existsSync(bin)) throw new Error(`litebase binary not found at ${bin} (cargo build -p poker, or set POKER_BIN)`);
  return startServer(root, 'litebase', bin, {
    upsert: (dir) => ['--dir', dir, 'superuser', 'upsert', ADMIN_EMAIL, ADMIN_PASSWORD],
    serve: (dir, addr) => ['--dir', dir, 'serve', '--http', addr, '--log-level', 'warn'],
    env: { LITEBASE_AUTH_RATE_LIMIT: '0' },
  });
}

/** The last lines of a server's log, for failure reports. */
export function logTail(server, n = 30) {
  if (!existsSync(server.logPath)) return '';
  return readFileSync(server.logPath, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
}
