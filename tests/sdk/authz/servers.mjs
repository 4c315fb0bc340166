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

/** The real PocketBase (`pocketbase` on PATH, or PB_BIN). */
export async function startPocketBase(root) {
  const bin = process.env.PB_BIN || 'pocketbase';
  // PocketBase's migrations dir defaults to DIR/../pb_migrations: give it its own parent.
  const dataDir = path.join(root, 'pocketbase', 'data');
  runSync(bin, ['superuser', 'upsert', ADMIN_EMAIL, ADMIN_PASSWORD, '--dir', dataDir]);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logPath = path.join(root, 'pocketbase.log');
  const child = spawnLogged(bin, ['serve', '--http', `127.0.0.1:${port}`, '--dir', dataDir], path.dirname(dataDir), logPath);
  await waitReady(`${url}/api/health`, { what: url, timeoutMs: STARTUP_MS, child, logPath });
  return { name: 'pocketbase', url, dataDir, logPath, stop: stopper(child) };
}

/** litebase: the `poker` binary (POKER_BIN, default target/debug/poker). */
export async function startLitebase(root, repoRoot) {
  const bin = path.resolve(repoRoot, process.env.POKER_BIN || 'target/debug/poker');
  if (!existsSync(bin)) throw new Error(`litebase binary not found at ${bin} (cargo build -p poker, or set POKER_BIN)`);
  const dataDir = path.join(root, 'litebase', 'data');
  runSync(bin, ['--dir', dataDir, 'superuser', 'upsert', ADMIN_EMAIL, ADMIN_PASSWORD]);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logPath = path.join(root, 'litebase.log');
  const child = spawnLogged(bin, ['--dir', dataDir, 'serve', '--http', `127.0.0.1:${port}`, '--log-level', 'warn'],
    path.dirname(dataDir), logPath, { LITEBASE_AUTH_RATE_LIMIT: '0' });
  await waitReady(`${url}/api/health`, { what: url, timeoutMs: STARTUP_MS, child, logPath });
  return { name: 'litebase', url, dataDir, logPath, stop: stopper(child) };
}

/** The last lines of a server's log, for failure reports. */
export function logTail(server, n = 30) {
  if (!existsSync(server.logPath)) return '';
  return readFileSync(server.logPath, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
}
