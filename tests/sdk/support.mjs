// Shared helpers for the SDK compatibility tests.
//
// Every test file makes its own Scope: a superuser client plus uniquely named
// collections (so files can run in parallel, and the suite can be re-run
// against the same server), removed again in `after`.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EventSource } from 'eventsource';
import PocketBase, { ClientResponseError } from 'pocketbase';

globalThis.EventSource = EventSource; // before any realtime use

export { PocketBase, ClientResponseError };

export const BASE_URL = process.env.SDK_URL || 'http://127.0.0.1:8090';
export const ADMIN_EMAIL = process.env.SDK_ADMIN_EMAIL || 'admin@example.com';
export const ADMIN_PASSWORD = process.env.SDK_ADMIN_PASSWORD || 'pass123456';
export const TARGET = process.env.SDK_TARGET || 'litebase';

/** A client without any auth. Auto-cancellation is off: tests fire parallel requests. */
export function anonClient() {
  const pb = new PocketBase(BASE_URL);
  pb.autoCancellation(false);
  return pb;
}

/** A client authenticated as the superuser. */
export async function adminClient() {
  const pb = anonClient();
  await pb.collection('_superusers').authWithPassword(ADMIN_EMAIL, ADMIN_PASSWORD);
  return pb;
}

/** A short unique lowercase suffix, valid inside collection names. */
export function uniqueSuffix() {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** A valid 15-char record id ([a-z0-9]{15}). */
export function newId() {
  const abc = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(15), (b) => abc[b % abc.length]).join('');
}

export class Scope {
  /** @param {string} tag short prefix of every collection this scope creates */
  constructor(tag) {
    this.tag = tag;
    this.suffix = uniqueSuffix();
    this.created = []; // collection ids, in creation order
    this.pb = null;
  }

  async init() {
    this.pb = await adminClient();
    return this;
  }

  /** Unique collection name for a logical name, e.g. name('posts') → "rec_posts_lq3x9a1b2c". */
  name(logical) {
    return `${this.tag}_${logical}_${this.suffix}`;
  }

  /** Create a collection (def.name is the logical name) and remember it for cleanup. */
  async collection(def) {
    const body = { type: 'base', ...def, name: this.name(def.name) };
    const col = await this.pb.collections.create(body);
    this.created.push(col.id);
    return col;
  }

  /** Delete the collections again, newest first (views and relations depend on older ones). */
  async cleanup() {
    if (!this.pb) return;
    const failures = [];
    for (const id of [...this.created].reverse()) {
      try {
        await this.pb.collections.delete(id);
      } catch (e) {
        if (e?.status !== 404) failures.push(`${id}: ${e?.message}`);
      }
    }
    this.created = [];
    if (failures.length) console.error('cleanup failures:', failures);
  }
}

/**
 * Await a promise that must fail with a ClientResponseError of the given status.
 * Checks PocketBase's error envelope: exactly the keys status, message, data.
 * Returns the error's `response` body for further assertions.
 */
export async function expectError(promise, status) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected the request to fail with ${status}, but it succeeded`);
  assert.ok(err instanceof ClientResponseError, `expected ClientResponseError, got ${err}`);
  assert.equal(err.status, status, `status: ${JSON.stringify(err.response)}`);
  assertErrorShape(err.response, status);
  return err.response;
}

/** PocketBase's error JSON: {status, message, data} and nothing else. */
export function assertErrorShape(body, status) {
  assert.deepEqual(Object.keys(body).sort(), ['data', 'message', 'status'], `error keys: ${JSON.stringify(body)}`);
  assert.equal(body.status, status);
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 0, 'message is not empty');
  assert.equal(typeof body.data, 'object');
  assert.ok(body.data !== null && !Array.isArray(body.data), 'data is an object');
}

/** Raw fetch against the server (for things the SDK does not let us send). */
export async function rawFetch(path, init = {}) {
  const res = await fetch(BASE_URL + path, { ...init, signal: init.signal ?? AbortSignal.timeout(30_000) });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

/** Enable batch requests (PocketBase has them off by default; litebase on). */
export async function ensureBatchEnabled(pb) {
  if (TARGET === 'pocketbase') {
    await pb.settings.update({ batch: { enabled: true, maxRequests: 50 } });
  }
}

export const sortStrings = (xs) => [...xs].sort();

/** The decoded payload (claims) of a JWT, or {} when it is not one. */
export function tokenPayload(token) {
  try {
    return JSON.parse(Buffer.from(String(token).split('.')[1], 'base64url').toString('utf8')) || {};
  } catch {
    return {};
  }
}

/** A unique, valid e-mail address (lower case) for a test user. */
export function uniqueEmail(tag = 'user') {
  return `${tag}.${uniqueSuffix()}@example.com`;
}

/**
 * Sign up a user in an auth collection as a guest (createRule "" on `users`) and
 * return {record, email, password}.
 */
export async function createUser(collection = 'users', { email = uniqueEmail(), password = 'password123', ...rest } = {}) {
  const record = await anonClient().collection(collection).create({ email, password, passwordConfirm: password, ...rest });
  return { record, email, password };
}

/** A client signed in with email + password to an auth collection. */
export async function userClient(email, password, collection = 'users') {
  const pb = anonClient();
  await pb.collection(collection).authWithPassword(email, password);
  return pb;
}

// ---------------------------------------------------------------------------
// Realtime helpers (realtime.test.mjs)
// ---------------------------------------------------------------------------

/**
 * A FIFO of received events with bounded waits. `q.push` is a bound function,
 * so it can be handed to `subscribe()` as the callback directly.
 */
export class EventQueue {
  constructor(label = 'events') {
    this.label = label;
    this.items = [];
    this.waiters = [];
    this.push = (ev) => {
      const w = this.waiters.shift();
      if (w) w(ev);
      else this.items.push(ev);
    };
  }

  /** Everything received and not yet taken. */
  drain() {
    return this.items.splice(0);
  }
}

/** The next event of the queue; rejects when none arrives within `ms`. */
export function nextEvent(q, ms = 5000) {
  if (q.items.length) return Promise.resolve(q.items.shift());
  return new Promise((resolve, reject) => {
    const waiter = (ev) => { clearTimeout(timer); resolve(ev); };
    const timer = setTimeout(() => {
      const i = q.waiters.indexOf(waiter);
      if (i >= 0) q.waiters.splice(i, 1);
      reject(new Error(`${q.label}: no event within ${ms} ms`));
    }, ms);
    q.waiters.push(waiter);
  });
}

/** The next `n` events, in order (each with its own bound). */
export async function nextEvents(q, n, ms = 5000) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await nextEvent(q, ms));
  return out;
}

/** Waits `ms` and fails if the queue received anything (before or during the wait). */
export async function expectNoEvent(q, ms = 1000) {
  if (!q.items.length) await new Promise((r) => setTimeout(r, ms));
  assert.deepEqual(q.items, [], `${q.label}: expected no event, got ${JSON.stringify(q.items)}`);
}

/**
 * A raw SSE connection with fetch + a streaming reader (no SDK, no EventSource):
 * `const sse = await openSSE()` → `sse.status`, `sse.headers`, `await sse.next(ms)` gives
 * `{raw, id, event, data}` (raw = the exact text of the event block, blank line included),
 * `sse.close()`.
 */
export async function openSSE(path = '/api/realtime', init = {}) {
  const ac = new AbortController();
  const res = await fetch(BASE_URL + path, { ...init, signal: ac.signal });
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  let ended = false;
  const blocks = [];
  const waiters = [];
  (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const raw = buf.slice(0, i + 2);
          buf = buf.slice(i + 2);
          const ev = { raw, id: undefined, event: undefined, data: undefined };
          for (const line of raw.split('\n')) {
            const m = line.match(/^([a-z]+):\s?(.*)$/);
            if (m && ['id', 'event', 'data'].includes(m[1])) ev[m[1]] = ev[m[1]] === undefined || m[1] !== 'data' ? m[2] : `${ev.data}\n${m[2]}`;
          }
          // A block of comments only (a keep-alive) dispatches no event (SSE spec).
          if (ev.event === undefined && ev.data === undefined) continue;
          const w = waiters.shift();
          if (w) w(ev); else blocks.push(ev);
        }
      }
    } catch { /* aborted */ }
    ended = true;
    for (const w of waiters.splice(0)) w(null);
  })();
  return {
    status: res.status,
    headers: res.headers,
    get ended() { return ended; },
    next(ms = 5000) {
      if (blocks.length) return Promise.resolve(blocks.shift());
      if (ended) return Promise.reject(new Error('SSE stream ended'));
      return new Promise((resolve, reject) => {
        const waiter = (ev) => { clearTimeout(timer); ev ? resolve(ev) : reject(new Error('SSE stream ended')); };
        const timer = setTimeout(() => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`SSE: no event within ${ms} ms`));
        }, ms);
        waiters.push(waiter);
      });
    },
    /** Fails if any event arrives within `ms`. */
    async expectNothing(ms = 1000) {
      if (!blocks.length) await new Promise((r) => setTimeout(r, ms));
      assert.deepEqual(blocks.map((b) => b.raw), [], 'SSE: expected no event');
    },
    close() { ac.abort(); },
  };
}

/**
 * A loopback TCP proxy in front of the server, to cut connections on purpose:
 * `const p = await tcpProxy()` → `p.url` (use it as the SDK base URL), `p.dropAll()`
 * destroys every open connection (the server sees a client disconnect and the client a
 * dropped stream), `await p.close()`.
 */
export async function tcpProxy(target = BASE_URL) {
  const net = await import('node:net');
  const { hostname, port } = new URL(target);
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    dropAll() { for (const s of sockets) s.destroy(); },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
