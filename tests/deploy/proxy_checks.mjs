// The checks against one proxy, run by proxies.mjs in its own node process whose
// NODE_EXTRA_CA_CERTS is that proxy's CA (so TLS verification stays on for the
// SDK's fetch and EventSource, for `ws` and for node:https alike).
//
// Environment (set by proxies.mjs): PROXY_NAME, PROXY_URL (https), PROXY_HTTP_URL
// (the redirecting port), SERVER_URL (poker itself, for the direct client),
// ADMIN_EMAIL, ADMIN_PASSWORD, AUTH_RATE_LIMIT, RESULTS_FILE (JSON results).
//
// Every wait is bounded; every socket is closed before the process exits.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { EventSource } from 'eventsource';
import PocketBase from 'pocketbase';
import WebSocket from 'ws';

globalThis.EventSource = EventSource; // before the SDK's first subscribe()

const NAME = process.env.PROXY_NAME;
const PROXY = process.env.PROXY_URL;
const PROXY_HTTP = process.env.PROXY_HTTP_URL;
const SERVER = process.env.SERVER_URL;
const ADMIN_EMAIL = process.env.ADMIN_EMAIL;
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD;
const LIMIT = Number(process.env.AUTH_RATE_LIMIT);
const WAIT_MS = 5000;

const results = [];
const sockets = new Set(); // open WebSockets, closed at the end

async function check(name, fn) {
  const full = `${NAME}: ${name}`;
  try {
    await fn();
    results.push({ name: full, ok: true });
    console.log(`ok - ${full}`);
  } catch (e) {
    const error = e?.stack || String(e);
    results.push({ name: full, ok: false, error });
    console.log(`not ok - ${full}\n  ${error.split('\n').join('\n  ')}`);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * One HTTP(S) request with node's own client (no redirects followed).
 * `localAddress` picks the source address (127.0.0.x), so the proxy sees a
 * distinct client. Resolves {status, headers, body}; 10 s at most.
 */
function request(url, { method = 'GET', headers = {}, body, localAddress } = {}) {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(u, {
      method,
      headers: body === undefined ? headers : { 'content-length': Buffer.byteLength(body), ...headers },
      localAddress,
      agent: false, // a fresh connection: each request's source address is its own
      timeout: 10_000,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 10 s`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// ---------------------------------------------------------------- a. poker over wss://

/** A player's socket: every frame it received, in order, parsed. */
class Player {
  constructor(label, code) {
    this.label = label;
    this.frames = [];
    this.waiters = new Set();
    const wsUrl = `${PROXY.replace(/^https:/, 'wss:')}/ws/rooms/${code}`;
    this.ws = new WebSocket(wsUrl, { handshakeTimeout: WAIT_MS });
    sockets.add(this.ws);
    this.ws.on('message', (data, isBinary) => {
      assert.equal(isBinary, false, `${label} got a binary frame`);
      this.frames.push(JSON.parse(data.toString('utf8')));
      for (const w of this.waiters) w();
    });
    this.opened = withTimeout(new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_, res) => reject(new Error(`${label}: upgrade answered ${res.statusCode}`)));
    }), WAIT_MS, `${label} opening ${wsUrl}`);
  }

  send(msg) { this.ws.send(JSON.stringify(msg)); }

  /** The first frame from index `from` on that satisfies `pred`; rejects after `ms`. */
  waitFor(pred, what, { from = 0, ms = WAIT_MS } = {}) {
    const find = () => this.frames.slice(from).find((f) => {
      if (f.type === 'error') throw new Error(`${this.label} got an error frame: ${f.message}`);
      return pred(f);
    });
    return withTimeout(new Promise((resolve, reject) => {
      const poll = () => {
        try {
          const f = find();
          if (f) { this.waiters.delete(poll); resolve(f); }
        } catch (e) { this.waiters.delete(poll); reject(e); }
      };
      this.waiters.add(poll);
      poll();
    }), ms, `${this.label} waiting for ${what}`);
  }

  async join(msg) {
    await this.opened;
    this.send({ type: 'join', ...msg });
    const welcome = await this.waitFor((f) => f.type === 'welcome', 'welcome');
    this.id = welcome.participantId;
    return welcome;
  }

  close() { this.ws.close(); }
}

/** POST /rooms (the home page's form) through the proxy: the 303 names the room, its cookie holds the host's seat. */
async function createRoom() {
  const form = new URLSearchParams({
    room_name: `Through ${NAME}`, your_name: 'Host', role: 'spectator', deck: 'custom', custom: 'kiwi,mango,plum',
  }).toString();
  const res = await request(`${PROXY}/rooms`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form,
  });
  assert.equal(res.status, 303, `POST /rooms: ${res.status} ${res.body.slice(0, 300)}`);
  const code = /^\/r\/([A-Za-z0-9]+)$/.exec(res.headers.location ?? '')?.[1];
  assert.ok(code, `POST /rooms redirected to ${res.headers.location}`);
  const cookie = (res.headers['set-cookie'] ?? []).find((c) => c.startsWith(`pk_${code}=`));
  assert.ok(cookie, `no seat cookie pk_${code} in ${JSON.stringify(res.headers['set-cookie'])}`);
  const hostToken = cookie.slice(`pk_${code}=`.length).split(';')[0];
  // The seat link keeps poker's own, stricter Referrer-Policy through the proxy.
  const seat = await request(`${PROXY}/r/${code}/seat/${hostToken}`);
  assert.equal(seat.status, 303, `the seat link answered ${seat.status}`);
  assert.equal(seat.headers['referrer-policy'], 'no-referrer', 'the seat link\'s Referrer-Policy');
  // The room page's share link is built from the proxied Host and proto: the
  // address the client used, https and port included.
  const page = await request(`${PROXY}/r/${code}`, { headers: { cookie: `pk_${code}=${hostToken}` } });
  assert.equal(page.status, 200, `the room page answered ${page.status}`);
  const share = /data-testid="share-link"[^>]*value="([^"]*)"/.exec(page.body)?.[1];
  assert.equal(share, `${PROXY}/r/${code}`, 'the room page\'s share link');
  return { code, hostToken };
}

const isView = (f) => f.type === 'view';
const phaseOf = (f) => String(f.round?.phase ?? '').toLowerCase();

/** Before the reveal nobody sees another person's card: not in the participants, not in stats, nowhere in the frame. */
function assertHidden(player, votes) {
  let checked = 0;
  for (const f of player.frames) {
    if (!isView(f)) continue;
    if (phaseOf(f) === 'revealed') break;
    if ((f.participants ?? []).length === 3) checked += 1;
    for (const p of f.participants ?? []) {
      if (p.id !== player.id) assert.equal(p.card ?? null, null, `${player.label} saw ${p.name}'s card before the reveal`);
    }
    assert.equal(f.stats ?? null, null, `${player.label} saw stats before the reveal`);
    // The deck lists every card; the rest of the frame must not name another's vote.
    const { deck, deck_spec: deckSpec, next_deck: nextDeck, ...rest } = f;
    const text = JSON.stringify(rest);
    for (const [voter, value] of Object.entries(votes)) {
      if (voter !== player.label) assert.ok(!text.includes(value), `${player.label} saw "${value}" (${voter}'s vote) before the reveal: ${text.slice(0, 400)}`);
    }
  }
  assert.ok(checked > 0, `${player.label} got no view with all 3 people before the reveal`);
}

async function pokerRound() {
  const { code, hostToken } = await createRoom();
  const host = new Player('host', code);
  const ada = new Player('ada', code);
  const bob = new Player('bob', code);
  const players = [host, ada, bob];
  await host.join({ name: 'Host', token: hostToken });
  await ada.join({ name: 'Ada', role: 'voter' });
  await bob.join({ name: 'Bob', role: 'voter' });
  const hostView = await host.waitFor((f) => isView(f) && f.viewer?.is_host === true, 'a view as the host');
  assert.equal(hostView.host, host.id, 'the creator\'s cookie seat is the host');

  const votes = { ada: 'kiwi', bob: 'mango' };
  for (const p of [ada, bob]) {
    const from = p.frames.length;
    p.send({ type: 'vote', value: votes[p.label] });
    await p.waitFor((f) => f.type === 'ack', `the ack of ${p.label}'s vote`, { from });
  }
  await host.waitFor((f) => isView(f) && f.round?.votes_cast === 2, 'a view with 2 votes cast');
  await ada.waitFor((f) => isView(f) && f.round?.votes_cast === 2, 'a view with 2 votes cast');
  await bob.waitFor((f) => isView(f) && f.round?.votes_cast === 2, 'a view with 2 votes cast');
  // Each voter sees their own card, and only that.
  for (const p of [ada, bob]) {
    const mine = await p.waitFor((f) => isView(f) && f.viewer?.card === votes[p.label], `${p.label}'s own card in a view`);
    assert.ok(mine);
  }

  host.send({ type: 'reveal' });
  for (const p of players) {
    const view = await p.waitFor((f) => isView(f) && phaseOf(f) === 'revealed', 'the revealed view');
    const cards = Object.fromEntries((view.participants ?? []).map((x) => [x.id, x.card ?? null]));
    assert.equal(cards[ada.id], 'kiwi', `${p.label} sees Ada's card after the reveal`);
    assert.equal(cards[bob.id], 'mango', `${p.label} sees Bob's card after the reveal`);
    assert.ok(view.stats, `${p.label} sees the stats after the reveal`);
  }
  for (const p of players) assertHidden(p, votes);
  for (const p of players) p.close();
}

// ---------------------------------------------------------------- b. the SDK's realtime over SSE

/**
 * The SDK through the proxy, signed in as the superuser once (sign-ins count
 * against the auth rate limit of this client's address, 127.0.0.1).
 */
let adminPb = null;
async function admin() {
  if (!adminPb) {
    const pb = new PocketBase(PROXY);
    pb.autoCancellation(false);
    await pb.collection('_superusers').authWithPassword(ADMIN_EMAIL, ADMIN_PASSWORD);
    adminPb = pb;
  }
  return adminPb;
}

async function sdkRealtime() {
  const pb = await admin();
  const name = `proxied_notes_${Date.now().toString(36)}`;
  await pb.collections.create({ name, type: 'base', fields: [{ name: 'title', type: 'text' }] });
  let unsubscribe = null;
  try {
    const got = [];
    let wake = () => {};
    unsubscribe = await withTimeout(pb.collection(name).subscribe('*', (e) => { got.push(e); wake(); }), WAIT_MS, 'subscribe');
    const title = `through ${NAME}`;
    const created = await pb.collection(name).create({ title });
    const event = await withTimeout(new Promise((resolve) => {
      wake = () => { const e = got.find((x) => x.action === 'create'); if (e) resolve(e); };
      wake();
    }), WAIT_MS, 'the create event');
    assert.equal(event.record.id, created.id);
    assert.equal(event.record.title, title);
  } finally {
    await unsubscribe?.().catch(() => {}); // the last subscription: the SDK closes the stream
  }
}

/** The raw stream: text/event-stream, not compressed even when asked, first event at once. */
async function rawEventStream() {
  const url = new URL(`${PROXY}/api/realtime`);
  await withTimeout(new Promise((resolve, reject) => {
    const req = https.get(url, { headers: { 'accept-encoding': 'zstd, gzip', accept: 'text/event-stream' } }, (res) => {
      try {
        assert.equal(res.statusCode, 200);
        assert.match(res.headers['content-type'] ?? '', /^text\/event-stream/);
        assert.equal(res.headers['content-encoding'], undefined, 'the event stream must not be compressed');
      } catch (e) { req.destroy(); reject(e); return; }
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
        if (/event:\s*PB_CONNECT/.test(text) && /\n\n/.test(text)) { req.destroy(); resolve(); }
      });
      res.on('error', () => {});
    });
    req.on('error', (e) => { if (e.code !== 'ECONNRESET') reject(e); });
  }), WAIT_MS, 'PB_CONNECT on a raw GET /api/realtime');
}

// ---------------------------------------------------------------- HTTP/2 (what browsers speak)

/**
 * One GET over HTTP/2 on its own session; reads until the stream ends or
 * `done(body)` says enough (an event stream never ends). Resolves {status, headers, body}.
 */
async function h2Get(path, headers = {}, done = () => false) {
  const session = http2.connect(PROXY);
  try {
    return await withTimeout(new Promise((resolve, reject) => {
      session.on('error', reject);
      const req = session.request({ ':path': path, ...headers });
      let head = {};
      let body = '';
      const finish = () => resolve({ status: head[':status'], headers: head, body });
      req.on('response', (h) => { head = h; });
      req.setEncoding('utf8');
      req.on('data', (c) => {
        body += c;
        if (done(body)) { finish(); req.close(); }
      });
      req.on('end', finish);
      req.on('error', reject);
    }), WAIT_MS, `HTTP/2 GET ${path}`);
  } finally {
    session.destroy();
  }
}

async function overHttp2() {
  const { code, hostToken } = await createRoom();
  const page = await h2Get(`/r/${code}`, { cookie: `pk_${code}=${hostToken}` });
  assert.equal(page.status, 200, `the room page over HTTP/2 answered ${page.status}`);
  const share = /data-testid="share-link"[^>]*value="([^"]*)"/.exec(page.body)?.[1];
  assert.equal(share, `${PROXY}/r/${code}`, 'the share link over HTTP/2 (Host from :authority)');
  const sse = await h2Get('/api/realtime', { accept: 'text/event-stream', 'accept-encoding': 'zstd, gzip' },
    (body) => /event:\s*PB_CONNECT[^]*\n\n/.test(body));
  assert.equal(sse.status, 200);
  assert.match(String(sse.headers['content-type']), /^text\/event-stream/);
  assert.equal(sse.headers['content-encoding'], undefined, 'the event stream must not be compressed');
  assert.match(sse.body, /event:\s*PB_CONNECT/);
}

// ---------------------------------------------------------------- c. rate limit per forwarded address

const AUTH = '/api/collections/users/auth-with-password';
const wrongLogin = JSON.stringify({ identity: 'nobody@example.com', password: 'not-the-password' });

function login(base, { localAddress, agent, forwardedFor }) {
  const headers = { 'content-type': 'application/json', 'user-agent': agent };
  if (forwardedFor) headers['x-forwarded-for'] = forwardedFor;
  return request(`${base}${AUTH}`, { method: 'POST', headers, body: wrongLogin, localAddress });
}

async function rateLimitPerClient() {
  // Client A (127.0.0.2) also sends a forged X-Forwarded-For: the proxy must replace it.
  const a = [];
  for (let i = 0; i < LIMIT + 3 && !a.includes(429); i += 1) {
    a.push((await login(PROXY, { localAddress: '127.0.0.2', agent: `proxies-test client-a ${NAME}`, forwardedFor: '10.9.8.7' })).status);
  }
  const b = await login(PROXY, { localAddress: '127.0.0.3', agent: `proxies-test client-b ${NAME}` });
  assert.deepEqual(a, [...Array(LIMIT).fill(400), 429], `client A (127.0.0.2): ${LIMIT} answers of 400, then 429`);
  assert.equal(b.status, 400, `client B (127.0.0.3), after A was limited: ${b.status} ${b.body}`);
}

async function directForgedHeaderIgnored() {
  // 127.0.0.5 is not a trusted proxy: its X-Forwarded-For is ignored, so its
  // requests count against 127.0.0.5 whatever address each one claims.
  const statuses = [];
  for (let i = 0; i < LIMIT + 1; i += 1) {
    statuses.push((await login(SERVER, { localAddress: '127.0.0.5', agent: `proxies-test direct ${NAME}`, forwardedFor: `1.2.3.${i + 4}` })).status);
  }
  assert.deepEqual(statuses, [...Array(LIMIT).fill(400), 429], 'a direct client is limited by its own address, not the one it claims');
}

// ---------------------------------------------------------------- d. userIP in the request log

/**
 * The request log's rows of these user agents, once each has one; `want` maps a
 * user agent to its expected {userIP, remoteIP}. The log is written in the
 * background: polled, bounded.
 */
async function assertLogged(want) {
  const pb = await admin();
  let rows = [];
  const deadline = Date.now() + WAIT_MS;
  for (let i = 0; i < 50 && Date.now() < deadline; i += 1) {
    const list = await pb.logs.getList(1, 200, { filter: 'url ~ "auth-with-password"' });
    rows = list.items.filter((x) => x.data?.userAgent in want);
    const seen = new Set(rows.map((x) => x.data.userAgent));
    if (Object.keys(want).every((ua) => seen.has(ua))) break;
    await sleep(100);
  }
  const seen = new Set(rows.map((x) => x.data?.userAgent));
  for (const ua of Object.keys(want)) assert.ok(seen.has(ua), `no log entry from "${ua}" (got ${rows.length} rows)`);
  for (const row of rows) {
    const { userIP, remoteIP } = want[row.data.userAgent];
    const what = `"${row.data.userAgent}" (${row.data.status}): ${JSON.stringify(row.data)}`;
    assert.equal(row.data.userIP, userIP, `the log's userIP of ${what}`);
    assert.equal(row.data.remoteIP, remoteIP, `the log's remoteIP (the peer) of ${what}`);
  }
}

async function userIpLogged() {
  await assertLogged({
    [`proxies-test client-a ${NAME}`]: { userIP: '127.0.0.2', remoteIP: '127.0.0.1' },
    [`proxies-test client-b ${NAME}`]: { userIP: '127.0.0.3', remoteIP: '127.0.0.1' },
    [`proxies-test direct ${NAME}`]: { userIP: '127.0.0.5', remoteIP: '127.0.0.5' },
  });
}

/**
 * The proxy replaces the client's X-Forwarded-For rather than appending to it, so
 * even with trustedProxy.useLeftmostIP (the first entry) a forged header loses.
 */
async function leftmostStillTheClient() {
  const pb = await admin();
  await pb.settings.update({ trustedProxy: { headers: ['X-Forwarded-For'], useLeftmostIP: true } });
  const agent = `proxies-test client-c ${NAME}`;
  const res = await login(PROXY, { localAddress: '127.0.0.4', agent, forwardedFor: '10.9.8.7' });
  assert.equal(res.status, 400);
  await assertLogged({ [agent]: { userIP: '127.0.0.4', remoteIP: '127.0.0.1' } });
}

// ---------------------------------------------------------------- the proxy itself

async function redirectAndHeaders() {
  const plain = await request(`${PROXY_HTTP}/r/abc?x=1`);
  assert.ok([301, 302, 307, 308].includes(plain.status), `plain HTTP answered ${plain.status}`);
  assert.match(plain.headers.location ?? '', /^https:\/\/127\.0\.0\.1(:\d+)?\/r\/abc\?x=1$/);
  const res = await request(`${PROXY}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers['strict-transport-security'] ?? '', /max-age=\d+/);
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  assert.ok(res.headers['referrer-policy'], 'Referrer-Policy');
}

async function main() {
  await check('http redirects to https; HSTS, nosniff, Referrer-Policy on answers', redirectAndHeaders);
  await check('a poker round over wss:// (create, share link, 3 players join, 2 vote, hidden until the reveal, all see it)', pokerRound);
  await check('raw GET /api/realtime: an uncompressed event stream, PB_CONNECT at once', rawEventStream);
  await check('the SDK (superuser) subscribes over SSE and gets the create event', sdkRealtime);
  await check('over HTTP/2: the room page\'s share link, and PB_CONNECT on an uncompressed event stream', overHttp2);
  await check(`auth rate limit (${LIMIT}/min) per forwarded client: 127.0.0.2 gets 429, 127.0.0.3 still 400`, rateLimitPerClient);
  await check('a direct client\'s forged X-Forwarded-For is not believed (127.0.0.5 is not a trusted proxy)', directForgedHeaderIgnored);
  await check('the request log\'s userIP is the client (127.0.0.2, .3, .5), not the proxy or a forged header; remoteIP the peer', userIpLogged);
  await check('with trustedProxy.useLeftmostIP a forged X-Forwarded-For still loses (the proxy replaces the header)', leftmostStillTheClient);
}

try {
  await withTimeout(main(), 80_000, 'all checks');
} catch (e) {
  results.push({ name: `${NAME}: checks`, ok: false, error: e?.stack || String(e) });
  console.log(`not ok - ${NAME}: checks\n  ${e?.stack || e}`);
} finally {
  for (const ws of sockets) ws.terminate();
  writeFileSync(process.env.RESULTS_FILE, JSON.stringify(results));
}
process.exit(results.every((r) => r.ok) ? 0 : 1);
