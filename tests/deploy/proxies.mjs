#!/usr/bin/env node
// The repo's proxy configs in front of the real binary.
//
//   POKER_BIN=/path/to/poker node proxies.mjs     (make deploy-proxies)
//
// 1. Static: `caddy validate` on deploy/Caddyfile (production and local profile),
//    `nginx -t` on deploy/nginx/poker.conf through a generated nginx.conf.
// 2. For nginx, then Caddy: a fresh server (its own temp dir, a superuser,
//    `--auth-rate-limit 3`, loopback trusted as the proxy), the proxy with the
//    repo's own file (nginx: a self-signed certificate made here; Caddy:
//    CADDY_PROFILE=local, its internal CA), then proxy_checks.mjs in a child node
//    process that trusts exactly that proxy's CA (NODE_EXTRA_CA_CERTS; see there).
//    The checks: a poker round over wss://, the SDK's realtime over SSE, the auth
//    rate limit per forwarded client address, userIP in the request log.
//
// Prints `ok`/`not ok` per check and a final `N passed, M failed`; exits 1 on any
// failure (124 on the global timeout). Every child process is started in its own
// process group and stopped on every exit path. PROXIES_KEEP=1 keeps the temp dir.

import {
  existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, runSync as run, waitReady } from '../sdk/proc.mjs';
import { Children, stop, tailFile } from './children.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const BIN = path.resolve(HERE, process.env.POKER_BIN || '../../target/debug/poker');
const CADDYFILE = path.join(REPO, 'deploy/Caddyfile');
const NGINX_CONF = path.join(REPO, 'deploy/nginx/poker.conf');
const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'pass123456';
const AUTH_RATE_LIMIT = 3;
const GLOBAL_TIMEOUT_MS = Number(process.env.PROXIES_TIMEOUT_MS || 110_000);
const STARTUP_MS = 20_000;

const started = Date.now();
const log = (...a) => console.error(`[proxies +${((Date.now() - started) / 1000).toFixed(1)}s]`, ...a);

const results = []; // {name, ok, error?}
const children = new Children(log); // stopped on every exit path
let tmpRoot = null;
let finished = false;

function record(name, ok, error) {
  results.push({ name, ok, error });
  console.log(ok ? `ok - ${name}` : `not ok - ${name}\n  ${String(error).split('\n').join('\n  ')}`);
}

async function check(name, fn) {
  try {
    await fn();
    record(name, true);
    return true;
  } catch (e) {
    record(name, false, e?.stack || e);
    return false;
  }
}

// ---------------------------------------------------------------- processes

async function finish(code, why) {
  if (finished) return;
  finished = true;
  if (why) log(why);
  await children.stopAll();
  if (tmpRoot && !process.env.PROXIES_KEEP) rmSync(tmpRoot, { recursive: true, force: true });
  else if (tmpRoot) log(`kept ${tmpRoot}`);
  const failed = results.filter((r) => !r.ok).length;
  const passed = results.length - failed;
  if (code === 0 && failed) code = 1;
  console.log(`${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  process.exit(code);
}

setTimeout(() => {
  record('the whole run within its time limit', false, `global timeout of ${GLOBAL_TIMEOUT_MS} ms`);
  finish(124);
}, GLOBAL_TIMEOUT_MS).unref();
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => finish(130, `got ${sig}`));
process.on('uncaughtException', (e) => { record('runner', false, e?.stack || e); finish(1, 'runner crashed'); });
process.on('unhandledRejection', (e) => { record('runner', false, e?.stack || e); finish(1, 'runner crashed'); });

// ---------------------------------------------------------------- the server

async function startServer(dir) {
  const dataDir = path.join(dir, 'data');
  run(BIN, ['superuser', 'upsert', ADMIN_EMAIL, ADMIN_PASSWORD, '--dir', dataDir]);
  const logFile = path.join(dir, 'server.log');
  const entry = children.spawn('poker', BIN, [
    'serve', '--http', '127.0.0.1:0', '--dir', dataDir, '--auth-rate-limit', String(AUTH_RATE_LIMIT),
  ], {
    cwd: dir,
    logPath: logFile,
    env: {
      ...process.env,
      // The proxies connect from 127.0.0.1; nobody else is believed.
      LITEBASE_TRUSTED_PROXY_HEADERS: 'X-Forwarded-For',
      LITEBASE_TRUSTED_PROXIES: '127.0.0.1/32',
    },
  });
  const { child } = entry;
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no "Server started at" within ${STARTUP_MS} ms; log:\n${tailFile(logFile)}`)), STARTUP_MS);
    const onData = (c) => {
      buf += c.toString();
      const m = buf.match(/Server started at (https?:\/\/[^\s/]+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`poker exited (${code}); log:\n${tailFile(logFile)}`)); });
  });
  await waitReady(`${url}/api/health`, { what: `poker at ${url}`, timeoutMs: STARTUP_MS, child, logPath: logFile });
  return { entry, url, port: Number(new URL(url).port), logFile };
}

/** Polls GET {url}/api/health over HTTPS (trusting `ca` for this request only) until it answers 200. */
async function waitHttpsReady(url, ca, { what, entry, logFile }) {
  const { child } = entry;
  const deadline = Date.now() + STARTUP_MS;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}); log:\n${tailFile(logFile)}`);
    const caPem = typeof ca === 'function' ? ca() : ca;
    if (caPem) {
      try {
        const status = await new Promise((resolve, reject) => {
          const req = https.get(`${url}/api/health`, { ca: caPem, timeout: 2000 }, (res) => { res.resume(); resolve(res.statusCode); });
          req.on('timeout', () => req.destroy(new Error('timeout')));
          req.on('error', reject);
        });
        if (status === 200) return;
        last = `status ${status}`;
      } catch (e) { last = e.message; }
    } else last = 'no CA certificate yet';
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${what} not ready after ${STARTUP_MS} ms (${last}); log:\n${tailFile(logFile)}`);
}

// ---------------------------------------------------------------- nginx

/**
 * A main nginx.conf for the foreground test run: every path under `dir`, and the
 * repo's conf.d file included as is. The per-host files it expects (poker/*.conf,
 * certs/*.pem, relative to this nginx.conf's directory) are written by
 * nginxSite().
 */
function nginxMainConf(dir) {
  const tmp = path.join(dir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(conf, `# generated by tests/deploy/proxies.mjs
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 512; }
http {
    access_log ${dir}/access.log;
    client_body_temp_path ${tmp}/body;
    proxy_temp_path ${tmp}/proxy;
    fastcgi_temp_path ${tmp}/fastcgi;
    uwsgi_temp_path ${tmp}/uwsgi;
    scgi_temp_path ${tmp}/scgi;
    include ${NGINX_CONF};
}
`);
  return conf;
}

function nginxSite(dir, { httpPort, httpsPort, upstreamPort }) {
  const site = path.join(dir, 'poker');
  mkdirSync(site, { recursive: true });
  mkdirSync(path.join(dir, 'certs'), { recursive: true });
  writeFileSync(path.join(site, 'backend.conf'), `server 127.0.0.1:${upstreamPort};\n`);
  writeFileSync(path.join(site, 'http-server.conf'), `listen 127.0.0.1:${httpPort};\nserver_name _;\n`);
  writeFileSync(path.join(site, 'https-server.conf'), `listen 127.0.0.1:${httpsPort} ssl http2;\nserver_name _;\n`);
  const cert = path.join(dir, 'certs/fullchain.pem');
  const key = path.join(dir, 'certs/privkey.pem');
  if (!existsSync(cert)) {
    run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', key, '-out', cert]);
  }
  return cert;
}

function nginxTest(conf, dir) {
  run('nginx', ['-t', '-q', '-p', `${dir}/`, '-c', conf, '-e', path.join(dir, 'error.log')]);
}

async function startNginx(dir, upstreamPort) {
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const ca = nginxSite(dir, { httpPort, httpsPort, upstreamPort });
  const conf = nginxMainConf(dir);
  nginxTest(conf, dir);
  const logFile = path.join(dir, 'nginx.out');
  const entry = children.spawn('nginx', 'nginx', ['-p', `${dir}/`, '-c', conf, '-e', path.join(dir, 'error.log')], { cwd: dir, logPath: logFile });
  const url = `https://127.0.0.1:${httpsPort}`;
  const caPem = readFileSync(ca, 'utf8');
  await waitHttpsReady(url, caPem, { what: 'nginx', entry, logFile: path.join(dir, 'error.log') });
  return { entry, url, httpUrl: `http://127.0.0.1:${httpPort}`, caFile: ca };
}

// ---------------------------------------------------------------- Caddy

function caddyEnv(dir, extra = {}) {
  return {
    HOME: dir,
    XDG_DATA_HOME: path.join(dir, 'data'), // storage: certificates and the internal CA
    XDG_CONFIG_HOME: path.join(dir, 'config'), // autosave.json
    ...extra,
  };
}

function caddyValidate(dir, env) {
  mkdirSync(dir, { recursive: true });
  const r = run('caddy', ['validate', '--config', CADDYFILE, '--adapter', 'caddyfile'], { env: caddyEnv(dir, env) });
  if (!/Valid configuration/.test(r)) throw new Error(`caddy validate did not say "Valid configuration":\n${r}`);
}

async function startCaddy(dir, upstreamPort) {
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const env = caddyEnv(dir, {
    DOMAIN: '127.0.0.1',
    ACME_EMAIL: 'test@example.com',
    CADDY_PROFILE: 'local',
    CADDY_HTTP_PORT: String(httpPort),
    CADDY_HTTPS_PORT: String(httpsPort),
    POKER_UPSTREAM: `127.0.0.1:${upstreamPort}`,
  });
  const logFile = path.join(dir, 'caddy.log');
  const entry = children.spawn('caddy', 'caddy', ['run', '--config', CADDYFILE, '--adapter', 'caddyfile'], {
    cwd: dir, env: { ...process.env, ...env }, logPath: logFile,
  });
  const caFile = path.join(dir, 'data/caddy/pki/authorities/local/root.crt');
  const url = `https://127.0.0.1:${httpsPort}`;
  await waitHttpsReady(url, () => (existsSync(caFile) ? readFileSync(caFile, 'utf8') : null), { what: 'caddy', entry, logFile });
  return { entry, url, httpUrl: `http://127.0.0.1:${httpPort}`, caFile };
}

// ---------------------------------------------------------------- the checks

/**
 * Runs proxy_checks.mjs against one proxy. Trust: the child's NODE_EXTRA_CA_CERTS
 * is that proxy's CA alone (nginx's self-signed certificate, Caddy's internal
 * root), read by node at start, so certificate and host checks stay on for every
 * request of the SDK (fetch, EventSource), of `ws` and of node:https, and no
 * other process trusts it. NODE_TLS_REJECT_UNAUTHORIZED is never touched.
 */
async function runChecks(proxyName, proxy, server, dir) {
  const resultsFile = path.join(dir, 'checks.json');
  const logFile = path.join(dir, 'checks.log');
  const { child } = children.spawn('checks', process.execPath, [path.join(HERE, 'proxy_checks.mjs')], {
    cwd: HERE,
    logPath: logFile,
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: proxy.caFile,
      PROXY_NAME: proxyName,
      PROXY_URL: proxy.url,
      PROXY_HTTP_URL: proxy.httpUrl,
      SERVER_URL: server.url,
      ADMIN_EMAIL,
      ADMIN_PASSWORD,
      AUTH_RATE_LIMIT: String(AUTH_RATE_LIMIT),
      RESULTS_FILE: resultsFile,
    },
  });
  // Its ok/not ok lines go on to our stdout, its log lines to our stderr.
  child.stdout.on('data', (c) => process.stdout.write(c));
  child.stderr.on('data', (c) => process.stderr.write(c));
  const code = await new Promise((resolve) => {
    child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0)));
    child.on('error', (e) => resolve(`cannot start: ${e.message}`));
  });
  const got = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : [];
  results.push(...got); // the child printed its own ok/not ok lines
  if (!got.length || (code !== 0 && got.every((r) => r.ok))) {
    record(`${proxyName}: the checks ran to the end`, false, `proxy_checks.mjs exited with ${code}; see above`);
  }
}

async function proxyRound(name, startProxy) {
  const dir = path.join(tmpRoot, name);
  mkdirSync(dir, { recursive: true });
  let server = null;
  let proxy = null;
  const failedBefore = results.filter((r) => !r.ok).length;
  try {
    const ok = await check(`${name}: poker and the proxy start with the repo's config`, async () => {
      server = await startServer(dir);
      const proxyDir = path.join(dir, name);
      mkdirSync(proxyDir, { recursive: true });
      proxy = await startProxy(proxyDir, server.port);
      log(`${name} at ${proxy.url} (and ${proxy.httpUrl}) -> poker at ${server.url}`);
    });
    if (ok) await runChecks(name, proxy, server, dir);
    if (results.filter((r) => !r.ok).length > failedBefore) {
      log(`${name}: server log tail:\n${tailFile(server?.logFile ?? '', 15)}`);
    }
  } finally {
    await stop(proxy?.entry);
    await stop(server?.entry);
  }
}

async function main() {
  if (!existsSync(BIN)) throw new Error(`poker binary not found at ${BIN} (build it, or set POKER_BIN)`);
  tmpRoot = mkdtempSync(path.join(tmpdir(), 'deploy-proxies-'));
  log(`binary ${BIN}, temp dir ${tmpRoot}`);

  await check('caddy validate: deploy/Caddyfile (production profile)', () => caddyValidate(path.join(tmpRoot, 'validate-prod'), {
    DOMAIN: 'poker.example.com', ACME_EMAIL: 'ops@example.com',
  }));
  await check('caddy validate: deploy/Caddyfile (local profile)', () => caddyValidate(path.join(tmpRoot, 'validate-local'), {
    DOMAIN: '127.0.0.1', ACME_EMAIL: 'test@example.com', CADDY_PROFILE: 'local',
    CADDY_HTTP_PORT: '18080', CADDY_HTTPS_PORT: '18443', POKER_UPSTREAM: '127.0.0.1:8090',
  }));
  await check('nginx -t: deploy/nginx/poker.conf with the example poker/http-server.conf and https-server.conf', async () => {
    // The repo's own per-host examples (linked, not copied); only backend.conf is
    // local, as poker:8090 resolves inside compose alone. -t binds no port.
    const dir = path.join(tmpRoot, 'validate-nginx');
    mkdirSync(dir, { recursive: true });
    nginxSite(dir, { httpPort: 18080, httpsPort: 18443, upstreamPort: 8090 });
    for (const name of ['http-server.conf', 'https-server.conf']) {
      rmSync(path.join(dir, 'poker', name));
      symlinkSync(path.join(REPO, 'deploy/nginx/poker', name), path.join(dir, 'poker', name));
    }
    nginxTest(nginxMainConf(dir), dir);
  });

  await proxyRound('nginx', startNginx);
  await proxyRound('caddy', startCaddy);
  await finish(0);
}

main().catch((e) => { record('runner', false, e?.stack || e); finish(1); });
