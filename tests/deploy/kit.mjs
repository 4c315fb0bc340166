// What the replication and cluster suites share: a run (its temp dir, checks,
// children and exit), SeaweedFS as the S3 server, Litestream's environment, a
// poker server, and a room player speaking the JSON protocol.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { freePort } from '../sdk/proc.mjs';
import { Children, alive, tail } from './children.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One suite's run: `check` prints TAP-like lines and counts, `finish` stops every
 * child, prints `N passed, M failed` and exits (1 on any failure or interruption).
 * Children run in `tmpRoot`, deleted at the end unless `${keepVar}=1`.
 */
export function createRun({ tag, timeoutMs, keepVar }) {
  const started = Date.now();
  const log = (...a) => console.error(`[${tag} ${((Date.now() - started) / 1000).toFixed(1)}s]`, ...a);
  const tmpRoot = mkdtempSync(path.join(tmpdir(), `${tag}-`));
  const children = new Children(log);
  const counts = { passed: 0, failed: 0 };
  const keep = Boolean(process.env[keepVar]);

  const check = (name, ok, detail = '') => {
    if (ok) {
      counts.passed += 1;
      console.log(`ok - ${name}`);
    } else {
      counts.failed += 1;
      console.log(`not ok - ${name}${detail ? `: ${detail}` : ''}`);
    }
    return ok;
  };

  const finish = async (code, why) => {
    if (children.closed) return;
    if (why) log(why);
    if (code !== 0 && counts.failed === 0) counts.failed = 1; // interrupted or timed out: not a pass
    // `main` may still be running (a signal, the global timeout): nothing new
    // starts once the children are closed, and whatever is left is stopped here.
    await children.stopAll();
    if (code !== 0) log(`logs are in ${tmpRoot}${keep ? '' : ` (deleted now; ${keepVar}=1 keeps them)`}`);
    if (!keep) {
      try { rmSync(tmpRoot, { recursive: true, force: true }); } catch { /* ignore */ }
    }
    console.log(`${counts.passed} passed, ${counts.failed} failed`);
    process.exit(code !== 0 ? code : counts.failed > 0 ? 1 : 0);
  };

  const timer = setTimeout(() => {
    counts.failed += 1;
    finish(124, `global timeout of ${timeoutMs} ms reached, stopping everything`);
  }, timeoutMs);
  timer.unref();
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => finish(130, `got ${sig}`));
  process.on('uncaughtException', (e) => { console.error(e); counts.failed += 1; finish(1, 'crashed'); });
  process.on('unhandledRejection', (e) => { console.error(e); counts.failed += 1; finish(1, 'crashed'); });

  /** Starts `cmd` with its log in the run's temp dir (see children.mjs). */
  const spawnChild = (name, cmd, args, { env = process.env } = {}) =>
    children.spawn(name, cmd, args, { env, cwd: tmpRoot, logPath: path.join(tmpRoot, `${name}.log`) });

  /** Runs a command to its end in the temp dir: `{ ok, out, error }`. */
  const runSync = (cmd, args, { env = process.env, input, timeout = 30_000 } = {}) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout, env, input, cwd: tmpRoot });
    return { ok: !r.error && r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, error: r.error };
  };

  /** Runs `main`; an error fails the run with its stack. */
  const main = (fn) => fn().then(
    () => finish(0),
    (e) => { console.error(e.stack || String(e)); counts.failed += 1; finish(1, 'stopped on an error'); },
  );

  return { started, log, tmpRoot, children, counts, check, finish, spawnChild, runSync, main };
}

/** One command on an HAProxy runtime API (TCP `host:port`); resolves to its answer. */
export function haproxyCommand(addr, command) {
  const [host, port] = addr.split(':');
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), host);
    let out = '';
    sock.setTimeout(3000, () => { sock.destroy(); reject(new Error(`runtime API ${addr} timed out`)); });
    sock.on('connect', () => sock.write(`${command}\n`));
    sock.on('data', (d) => { out += d; });
    sock.on('end', () => resolve(out));
    sock.on('error', reject);
  });
}

/** `n` distinct free loopback ports. */
export async function freePorts(n) {
  const ports = new Set();
  for (let i = 0; ports.size < n && i < 10 * n + 50; i += 1) ports.add(await freePort());
  if (ports.size < n) throw new Error('cannot find free ports');
  return [...ports];
}

/** Waits (bounded) until `pred()` is truthy; returns its value, or throws naming `what`. */
export async function until(what, pred, { timeoutMs, everyMs = 100, entry = null }) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (entry && !alive(entry)) throw new Error(`${what}: ${entry.name} exited; see ${entry.logPath}\n${tail(entry)}`);
    try {
      const v = await pred();
      if (v) return v;
    } catch (e) {
      last = e.message;
    }
    await sleep(everyMs);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${last})` : ''}${entry ? `\n${tail(entry)}` : ''}`);
}

/** SeaweedFS on loopback with an S3 endpoint and `bucket` created: `{ entry, endpoint }`. */
export async function startSeaweed(run, { bucket, weed = process.env.WEED_BIN || 'weed' }) {
  const [s3, master, volume, filer, s3g, masterg, volumeg, filerg] = await freePorts(8);
  const dir = path.join(run.tmpRoot, 'weed');
  mkdirSync(dir);
  // Every port explicit (gRPC ones default to port + 10000, the Iceberg and
  // Lance endpoints to fixed ports), everything bound to loopback.
  const entry = run.spawnChild('weed', weed, [
    'server', `-dir=${dir}`, '-ip=127.0.0.1', '-ip.bind=127.0.0.1',
    `-master.port=${master}`, `-master.port.grpc=${masterg}`, '-master.volumeSizeLimitMB=64',
    `-volume.port=${volume}`, `-volume.port.grpc=${volumeg}`,
    `-filer.port=${filer}`, `-filer.port.grpc=${filerg}`,
    '-s3', `-s3.port=${s3}`, `-s3.port.grpc=${s3g}`, '-s3.port.iceberg=0', '-s3.port.lance=0',
  ]);
  const endpoint = `http://127.0.0.1:${s3}`;
  await until('SeaweedFS S3', async () => (await fetch(endpoint, { signal: AbortSignal.timeout(2000) })).status < 500,
    { timeoutMs: 30_000, everyMs: 250, entry });
  // The bucket, through weed's admin shell (it needs the master and filer up).
  // Addresses are HOST:PORT.GRPCPORT, since the gRPC ports are not the default +10000.
  let shellOut = '';
  await until('bucket creation', () => {
    const r = run.runSync(weed, ['shell', `-master=127.0.0.1:${master}.${masterg}`, `-filer=127.0.0.1:${filer}.${filerg}`], {
      input: `s3.bucket.create -name ${bucket}\nexit\n`, timeout: 20_000,
    });
    shellOut = r.out;
    return r.ok && /created bucket|already exists/i.test(r.out);
  }, { timeoutMs: 40_000, everyMs: 1000, entry }).catch((e) => { throw new Error(`${e.message}\nweed shell said: ${shellOut}`); });
  return { entry, endpoint };
}

/**
 * Litestream's environment for deploy/litestream.yml: the replica of `dbPath` at
 * `prefix` in `bucket`, and nothing from the caller's AWS setup (a CA bundle
 * variable breaks custom endpoints).
 */
export function litestreamEnv(s3, dbPath, { bucket, prefix }) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('AWS_') || k.startsWith('LITESTREAM_')) delete env[k];
  return {
    ...env,
    LITESTREAM_DB_PATH: dbPath,
    LITESTREAM_BUCKET: bucket,
    LITESTREAM_PATH: prefix,
    LITESTREAM_REGION: 'us-east-1',
    LITESTREAM_ENDPOINT: s3.endpoint,
    LITESTREAM_ACCESS_KEY_ID: 'test-access-key',
    LITESTREAM_SECRET_ACCESS_KEY: 'test-secret-key',
  };
}

/** The environment a test server runs with: no sign-in rate limit, quiet logs. */
export function serverEnv(extra = {}, base = process.env) {
  return {
    ...base,
    LITEBASE_AUTH_RATE_LIMIT: '0',
    LITEBASE_LOG_LEVEL: 'warn,litebase::cli=info,litebase::server=info',
    ...extra,
  };
}

/** Waits for a server's `/api/health` to answer 200 at `url`. */
export function healthy(what, url, { timeoutMs = 15_000, entry = null } = {}) {
  return until(`${what} health`, async () => (await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2000) })).status === 200,
    { timeoutMs, entry });
}

/** `poker serve` in `dataDir` on `http` (default: a free port it reports): `{ entry, url }`. */
export async function startServer(run, name, dataDir, { bin, http = '127.0.0.1:0', env = {} }) {
  const entry = run.spawnChild(name, bin, ['serve', '--http', http, '--dir', dataDir], { env: serverEnv(env) });
  const url = await until(`${name} start`, () => entry.text.match(/Server started at (https?:\/\/[^\s/]+)/)?.[1],
    { timeoutMs: 30_000, entry });
  await healthy(name, url, { entry });
  return { entry, url };
}

/** One player's socket (JSON protocol): frames are queued, `next(pred)` waits (bounded) for a matching one. */
export class Player {
  constructor(url, code) {
    this.frames = [];
    this.waiters = [];
    this.ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws/rooms/${code}`);
    this.ws.on('message', (data) => {
      let frame;
      try { frame = JSON.parse(data.toString()); } catch { return; }
      this.frames.push(frame);
      for (const w of [...this.waiters]) w();
    });
    this.closed = new Promise((r) => this.ws.on('close', r));
    this.ws.on('error', () => {});
  }

  open(timeoutMs = 10_000) {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      const t = setTimeout(() => reject(new Error('websocket did not open')), timeoutMs);
      this.ws.once('open', () => { clearTimeout(t); resolve(); });
      this.ws.once('error', (e) => { clearTimeout(t); reject(e); });
      this.ws.once('close', () => { clearTimeout(t); reject(new Error('websocket closed before it opened')); });
    });
  }

  send(msg) { this.ws.send(JSON.stringify(msg)); }

  /** The first queued frame matching `pred` (consumed with everything before it). */
  next(pred, what, timeoutMs = 10_000) {
    return new Promise((resolve, reject) => {
      const look = () => {
        const i = this.frames.findIndex(pred);
        if (i < 0) return false;
        const [frame] = this.frames.splice(0, i + 1).slice(-1);
        return frame;
      };
      const found = look();
      if (found) return resolve(found);
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = () => {
        const f = look();
        if (f) {
          clearTimeout(t);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(f);
        }
      };
      this.waiters.push(waiter);
    });
  }

  /** Joins as a new voter (`name`) or takes back a seat (`token`); resolves to the welcome. */
  async join(name, token) {
    await this.open();
    this.send(token ? { type: 'join', name, token } : { type: 'join', name, role: 'voter' });
    const frame = await this.next((f) => f.type === 'welcome' || f.type === 'error', 'welcome');
    if (frame.type !== 'welcome') throw new Error(`join refused: ${frame.message}`);
    return frame;
  }

  /** Votes and waits for the ack (sent after the vote's commit); true if acknowledged. */
  async vote(value, timeoutMs = 10_000) {
    this.send({ type: 'vote', value });
    const f = await this.next((x) => (x.type === 'ack' && x.action === 'vote') || x.type === 'error', 'ack of a vote', timeoutMs);
    return f.type === 'ack';
  }

  close() { try { this.ws.terminate(); } catch { /* gone */ } }
}
