#!/usr/bin/env node
// Runner for the SDK compatibility suite.
//
//   SDK_TARGET=pocketbase node run.mjs        # the reference (pocketbase on PATH)
//   SDK_TARGET=litebase   node run.mjs        # our binary (default target)
//   node run.mjs records.test.mjs filters.test.mjs   # only some files
//
// It starts a fresh server in a temp dir, waits until /api/health answers,
// runs `node --test` on the test files with SDK_URL, SDK_ADMIN_EMAIL,
// SDK_ADMIN_PASSWORD and SDK_TARGET set, and always stops the server
// afterwards. Exit code = the tests' exit code (124 on the global timeout).
//
// It also starts a mail catcher (smtp_catcher.py, needs `pip install aiosmtpd`)
// before the server: SMTP on SDK_SMTP_PORT, the caught mails as JSON on
// SDK_MAIL_URL. litebase gets LITEBASE_SMTP_HOST/LITEBASE_SMTP_PORT in its
// environment; for PocketBase the tests set the SMTP settings through the API.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, runSync, waitReady } from './proc.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TARGET = (process.env.SDK_TARGET || 'litebase').toLowerCase();
const ADMIN_EMAIL = process.env.SDK_ADMIN_EMAIL || 'admin@example.com';
const ADMIN_PASSWORD = process.env.SDK_ADMIN_PASSWORD || 'pass123456';
const GLOBAL_TIMEOUT_MS = Number(process.env.SDK_TIMEOUT_MS || 240_000);
const STARTUP_TIMEOUT_MS = Number(process.env.SDK_STARTUP_TIMEOUT_MS || 30_000);
const PER_TEST_TIMEOUT_MS = Number(process.env.SDK_TEST_TIMEOUT_MS || 60_000);
const PYTHON = process.env.SDK_PYTHON || 'python3';

if (!['pocketbase', 'litebase'].includes(TARGET)) {
  console.error(`run.mjs: unknown SDK_TARGET=${TARGET} (want pocketbase|litebase)`);
  process.exit(2);
}

const log = (...a) => console.error('[run]', ...a);

let server = null; // ChildProcess of the server under test
let catcher = null; // ChildProcess of the SMTP mail catcher
let tests = null; // ChildProcess of `node --test`
let tmpRoot = null;
let serverLogPath = null;
let finished = false;

function killTree(child, signal) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  try {
    // children are spawned detached => own process group; signal the group by its id
    process.kill(-child.pid, signal);
  } catch {
    try { child.kill(signal); } catch { /* already gone */ }
  }
}

function waitExit(child, ms) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    child.once('exit', () => { clearTimeout(t); resolve(); });
  });
}

async function stopAll() {
  for (const child of [tests, server, catcher]) {
    if (!child) continue;
    killTree(child, 'SIGTERM');
    await waitExit(child, 5000);
    killTree(child, 'SIGKILL');
    await waitExit(child, 2000);
  }
  if (tmpRoot && !process.env.SDK_KEEP_DATA) {
    try { rmSync(tmpRoot, { recursive: true, force: true }); } catch { /* ignore */ }
  }
}

async function finish(code, why) {
  if (finished) return;
  finished = true;
  if (why) log(why);
  if (code !== 0 && serverLogPath && existsSync(serverLogPath)) {
    const lines = readFileSync(serverLogPath, 'utf8').trimEnd().split('\n').slice(-40);
    log(`last lines of the server log (${serverLogPath}):\n${lines.join('\n')}`);
    if (!process.env.SDK_KEEP_DATA) log('set SDK_KEEP_DATA=1 to keep the temp dir and full log');
  }
  await stopAll();
  process.exit(code);
}

const globalTimer = setTimeout(() => {
  finish(124, `global timeout of ${GLOBAL_TIMEOUT_MS} ms reached, stopping everything`);
}, GLOBAL_TIMEOUT_MS);
globalTimer.unref();

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => finish(130, `got ${sig}`));
}
process.on('uncaughtException', (e) => { console.error(e); finish(1, 'runner crashed'); });
process.on('unhandledRejection', (e) => { console.error(e); finish(1, 'runner crashed'); });

function startServer(cmd, args, parseUrl, env = {}) {
  const out = createWriteStream(serverLogPath);
  server = spawn(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: tmpRoot, env: { ...process.env, ...env },
  });
  let buf = '';
  let urlResolve;
  const urlPromise = new Promise((r) => { urlResolve = r; });
  const onData = (chunk) => {
    out.write(chunk);
    if (parseUrl) {
      buf += chunk.toString();
      const m = buf.match(/Server started at (https?:\/\/[^\s/]+)/);
      if (m) urlResolve(m[1]);
    }
  };
  server.stdout.on('data', onData);
  server.stderr.on('data', onData);
  server.on('exit', (code, signal) => {
    out.end();
    if (!finished) finish(1, `server exited unexpectedly (code ${code}, signal ${signal}); see ${serverLogPath}`);
  });
  server.on('error', (e) => finish(1, `cannot start ${cmd}: ${e.message}`));
  return urlPromise;
}

/** Start smtp_catcher.py on two free ports; resolves once its HTTP side answers. */
async function startMailCatcher() {
  const smtpPort = await freePort();
  let httpPort = await freePort();
  while (httpPort === smtpPort) httpPort = await freePort();
  const logPath = path.join(tmpRoot, 'smtp.log');
  const out = createWriteStream(logPath);
  catcher = spawn(PYTHON, [path.join(HERE, 'smtp_catcher.py'), '--host', '127.0.0.1',
    '--smtp-port', String(smtpPort), '--http-port', String(httpPort)],
  { stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: tmpRoot });
  catcher.stdout.on('data', (c) => out.write(c));
  catcher.stderr.on('data', (c) => out.write(c));
  catcher.on('error', (e) => finish(1, `cannot start the mail catcher (${PYTHON}): ${e.message}`));
  catcher.on('exit', (code, signal) => {
    out.end();
    if (!finished) {
      const tail = existsSync(logPath) ? readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-15).join('\n') : '';
      finish(1, `mail catcher exited unexpectedly (code ${code}, signal ${signal}); is aiosmtpd installed (pip install aiosmtpd)?\n${tail}`);
    }
  });
  const mailUrl = `http://127.0.0.1:${httpPort}`;
  await waitReady(`${mailUrl}/health`, { what: 'mail catcher', timeoutMs: STARTUP_TIMEOUT_MS, logPath });
  return { smtpPort, mailUrl };
}

function withTimeout(promise, ms, what) {
  return Promise.race([
    promise,
    new Promise((_, rej) => setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms).unref()),
  ]);
}

async function main() {
  tmpRoot = mkdtempSync(path.join(tmpdir(), `sdk-${TARGET}-`));
  // the data dir gets its own parent: PocketBase's migrations dir defaults to DIR/../pb_migrations
  const dataDir = path.join(tmpRoot, 'data');
  serverLogPath = path.join(tmpRoot, 'server.log');

  const mail = await startMailCatcher();
  log(`mail catcher: SMTP on 127.0.0.1:${mail.smtpPort}, mails at ${mail.mailUrl}/messages`);

  let url;
  if (TARGET === 'pocketbase') {
    const bin = process.env.PB_BIN || 'pocketbase';
    runSync(bin, ['superuser', 'upsert', ADMIN_EMAIL, ADMIN_PASSWORD, '--dir', dataDir]);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    startServer(bin, ['serve', '--http', `127.0.0.1:${port}`, '--dir', dataDir], false);
  } else {
    const bin = path.resolve(HERE, process.env.POKER_BIN || '../../target/debug/poker');
    if (!existsSync(bin)) throw new Error(`litebase binary not found at ${bin} (build it, or set POKER_BIN)`);
    runSync(bin, ['superuser', 'upsert', ADMIN_EMAIL, ADMIN_PASSWORD, '--dir', dataDir]);
    const urlPromise = startServer(bin, ['serve', '--http', '127.0.0.1:0', '--dir', dataDir], true, {
      // The suite signs in hundreds of times from one IP; PocketBase has no limit
      // by default either. The limit itself is tested in crates/litebase/tests.
      LITEBASE_AUTH_RATE_LIMIT: '0',
      LITEBASE_SMTP_HOST: '127.0.0.1',
      LITEBASE_SMTP_PORT: String(mail.smtpPort),
    });
    url = await withTimeout(urlPromise, STARTUP_TIMEOUT_MS, 'waiting for "Server started at" on stdout');
  }
  await waitReady(`${url}/api/health`, { what: `server at ${url}`, timeoutMs: STARTUP_TIMEOUT_MS });
  log(`${TARGET} is up at ${url}`);

  const requested = process.argv.slice(2);
  const files = requested.length
    ? requested
    : readdirSync(HERE).filter((f) => f.endsWith('.test.mjs')).sort();

  const args = ['--test', `--test-timeout=${PER_TEST_TIMEOUT_MS}`];
  if (process.env.SDK_CONCURRENCY) args.push(`--test-concurrency=${process.env.SDK_CONCURRENCY}`);
  args.push(`--test-reporter=${process.env.SDK_REPORTER || 'spec'}`);
  args.push(...files);

  tests = spawn(process.execPath, args, {
    cwd: HERE,
    stdio: 'inherit',
    detached: true,
    env: {
      ...process.env,
      SDK_URL: url,
      SDK_ADMIN_EMAIL: ADMIN_EMAIL,
      SDK_ADMIN_PASSWORD: ADMIN_PASSWORD,
      SDK_TARGET: TARGET,
      SDK_SMTP_PORT: String(mail.smtpPort),
      SDK_MAIL_URL: mail.mailUrl,
    },
  });
  const code = await new Promise((resolve) => {
    tests.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0)));
    tests.on('error', (e) => { log(e.message); resolve(1); });
  });
  await finish(code, code === 0 ? null : `tests failed (exit ${code})`);
}

main().catch((e) => finish(1, e.stack || String(e)));
