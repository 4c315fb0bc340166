// Realtime (SSE) through the SDK and on the wire: record events, per-record topics,
// unsubscribe, per-subscription expand/fields/filter options, API rules per subscriber,
// how the subscription auth binds to the connection, reconnects, and the raw protocol.
//
// Every wait is bounded: nextEvent(q, ms) rejects after ms, expectNoEvent(q, ms) waits ms
// and fails if anything arrived. Every client that subscribes is tracked and disconnected
// in `after`, so the file's process can exit.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Scope, anonClient, adminClient, createUser, userClient, rawFetch, assertErrorShape, TARGET,
  EventQueue, nextEvent, nextEvents, expectNoEvent, openSSE, tcpProxy, PocketBase,
} from './support.mjs';

const s = new Scope('rt');
let posts; // public rules; title, n, author -> authors
let authors; // public rules; name, bio
let docs; // list/view: owner = @request.auth.id; writes by the superuser
let secret; // every rule null
let split; // listRule null, viewRule "" (which rule guards which topic)
let hdr; // listRule on @request.headers.x_token
let userA; let userB; // {record, email, password}

const clients = []; // every SDK client that subscribes
const sseStreams = []; // every raw SSE stream
const proxies = [];

// PocketBase sends every message from its own goroutine (routine.FireAndForget → client.Send), so
// events of back-to-back writes can arrive out of order there; we saw it happen. litebase
// promises write order, so the order is asserted only against litebase (SDK_STRICT_ORDER=1
// forces it, SDK_STRICT_ORDER=0 relaxes it); otherwise the events are compared as a multiset.
const STRICT_ORDER = process.env.SDK_STRICT_ORDER ? process.env.SDK_STRICT_ORDER === '1' : TARGET !== 'pocketbase';
const canon = (v) => JSON.stringify(v, (_, x) => (x && typeof x === 'object' && !Array.isArray(x)
  ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));
const byJson = (xs) => [...xs].sort((a, b) => (canon(a) < canon(b) ? -1 : 1));
function assertEvents(actual, expected, msg) {
  if (STRICT_ORDER) assert.deepEqual(actual, expected, msg);
  else assert.deepEqual(byJson(actual), byJson(expected), msg);
}

/** Remember a client so `after` disconnects it. */
function track(pb) {
  clients.push(pb);
  return pb;
}

const guest = () => track(anonClient());
const superuser = async () => track(await adminClient());
const asUser = async (u) => track(await userClient(u.email, u.password));

async function sse(path, init) {
  const st = await openSSE(path, init);
  sseStreams.push(st);
  return st;
}

/** Subscribe `pb` to `collection/topic`; returns an EventQueue with `.unsub` (the SDK's unsubscribe function). */
async function listen(pb, collection, topic, options, label) {
  const q = new EventQueue(label ?? `${collection}/${topic}`);
  q.unsub = await pb.collection(collection).subscribe(topic, q.push, options);
  return q;
}

/** Wait for the PB_CONNECT message on the raw stream; returns the clientId. */
async function connectRaw(init) {
  const st = await sse('/api/realtime', init);
  const ev = await st.next(5000);
  assert.equal(ev.event, 'PB_CONNECT');
  st.clientId = JSON.parse(ev.data).clientId;
  return st;
}

function postSubs(clientId, subscriptions, headers = {}) {
  return rawFetch('/api/realtime', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ clientId, subscriptions }),
  });
}

before(async () => {
  await s.init();
  authors = await s.collection({
    name: 'authors',
    listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '',
    fields: [{ name: 'name', type: 'text' }, { name: 'bio', type: 'text' }],
  });
  posts = await s.collection({
    name: 'posts',
    listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'n', type: 'number' },
      { name: 'author', type: 'relation', collectionId: authors.id, maxSelect: 1 },
    ],
  });
  docs = await s.collection({
    name: 'docs',
    listRule: 'owner = @request.auth.id',
    viewRule: 'owner = @request.auth.id',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'owner', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 },
    ],
  });
  secret = await s.collection({ name: 'secret', fields: [{ name: 'title', type: 'text' }] });
  split = await s.collection({
    name: 'split', listRule: null, viewRule: '', fields: [{ name: 'title', type: 'text' }],
  });
  hdr = await s.collection({
    name: 'hdr', listRule: '@request.headers.x_token = "abc"', fields: [{ name: 'title', type: 'text' }],
  });
  [userA, userB] = await Promise.all([createUser(), createUser()]);
});

after(async () => {
  for (const pb of clients) {
    try { pb.realtime.unsubscribe(); } catch { /* ignore */ }
    try { pb.realtime.disconnect(); } catch { /* ignore */ }
  }
  for (const st of sseStreams) st.close();
  for (const p of proxies) await p.close();
  const admin = s.pb;
  await s.cleanup();
  for (const u of [userA, userB]) {
    if (u) await admin?.collection('users').delete(u.record.id).catch(() => {});
  }
});

describe('record events through the SDK', () => {
  test("subscribe('*') gets create, update and delete as the REST API renders them, in order", async () => {
    const admin = await superuser();
    const sub = await listen(guest(), posts.name, '*');
    const api = anonClient();

    const created = await api.collection(posts.name).create({ title: 'one', n: 1 });
    const updated = await api.collection(posts.name).update(created.id, { title: 'two', n: 2 });
    const seen = await api.collection(posts.name).getOne(created.id);
    await api.collection(posts.name).delete(created.id);

    const evs = await nextEvents(sub, 3);
    assertEvents(evs, [
      { action: 'create', record: created },
      { action: 'update', record: updated },
      { action: 'delete', record: seen },
    ]);
    // exactly these keys, no expand unless asked for
    assert.deepEqual(Object.keys(evs[0]).sort(), ['action', 'record']);
    assert.deepEqual(Object.keys(evs[0].record).sort(), ['author', 'collectionId', 'collectionName', 'id', 'n', 'title']);
    await expectNoEvent(sub, 300);
    // a superuser's write is an event like any other
    const byAdmin = await admin.collection(posts.name).create({ title: 'admin' });
    assert.deepEqual(await nextEvent(sub), { action: 'create', record: byAdmin });
    await sub.unsub();
  });

  test('a burst of writes arrives complete and in write order', async () => {
    const sub = await listen(guest(), posts.name, '*');
    const api = anonClient();
    const ids = [];
    for (let i = 0; i < 10; i++) ids.push((await api.collection(posts.name).create({ title: `burst ${i}`, n: i })).id);
    const evs = await nextEvents(sub, 10);
    assertEvents(evs.map((e) => [e.action, e.record.id, e.record.n]), ids.map((id, i) => ['create', id, i]));
    await sub.unsub();
  });

  test('subscribe(id) gets only the events of that record, delete included', async () => {
    const api = anonClient();
    const r1 = await api.collection(posts.name).create({ title: 'watched' });
    const r2 = await api.collection(posts.name).create({ title: 'other' });
    const sub = await listen(guest(), posts.name, r1.id);
    await api.collection(posts.name).update(r2.id, { title: 'other 2' });
    const u1 = await api.collection(posts.name).update(r1.id, { title: 'watched 2' });
    await api.collection(posts.name).delete(r2.id);
    await api.collection(posts.name).delete(r1.id);
    await api.collection(posts.name).create({ title: 'new' });
    assertEvents(await nextEvents(sub, 2), [
      { action: 'update', record: u1 },
      { action: 'delete', record: u1 },
    ]);
    await expectNoEvent(sub, 1000);
  });

  test("one client with '*' and an id topic gets the event once per matching subscription", async () => {
    const api = anonClient();
    const r = await api.collection(posts.name).create({ title: 'twice' });
    const pb = guest();
    const all = await listen(pb, posts.name, '*');
    const one = await listen(pb, posts.name, r.id);
    const u = await api.collection(posts.name).update(r.id, { title: 'twice 2' });
    assert.deepEqual(await nextEvent(all), { action: 'update', record: u });
    assert.deepEqual(await nextEvent(one), { action: 'update', record: u });
    await Promise.all([expectNoEvent(all, 500), expectNoEvent(one, 500)]);
  });

  test('events of other collections are not delivered', async () => {
    const sub = await listen(guest(), posts.name, '*');
    await anonClient().collection(authors.name).create({ name: 'elsewhere' });
    await expectNoEvent(sub, 1000);
  });
});

describe('unsubscribe', () => {
  test('unsubscribe(topic) stops that topic only; unsubscribe() stops everything and closes the connection', async () => {
    const api = anonClient();
    const r = await api.collection(posts.name).create({ title: 'u' });
    const pb = guest();
    const all = await listen(pb, posts.name, '*');
    const one = await listen(pb, posts.name, r.id);
    const other = await listen(pb, authors.name, '*');

    await pb.collection(posts.name).unsubscribe(r.id);
    assert.equal(pb.realtime.isConnected, true);
    const u = await api.collection(posts.name).update(r.id, { title: 'u2' });
    assert.deepEqual(await nextEvent(all), { action: 'update', record: u });
    await expectNoEvent(one, 800);

    await pb.collection(posts.name).unsubscribe(); // every topic of the collection
    const a = await api.collection(authors.name).create({ name: 'still here' });
    assert.deepEqual(await nextEvent(other), { action: 'create', record: a });
    await api.collection(posts.name).update(r.id, { title: 'u3' });
    await expectNoEvent(all, 800);

    await pb.realtime.unsubscribe(); // everything
    assert.equal(pb.realtime.isConnected, false, 'no subscriptions left → the SDK closes the SSE connection');
    await api.collection(authors.name).create({ name: 'gone' });
    await api.collection(posts.name).update(r.id, { title: 'u4' });
    await Promise.all([expectNoEvent(all, 800), expectNoEvent(one, 800), expectNoEvent(other, 800)]);
  });

  test('the returned unsubscribe function removes only its own listener', async () => {
    const pb = guest();
    const first = await listen(pb, posts.name, '*', undefined, 'first');
    const second = await listen(pb, posts.name, '*', undefined, 'second');
    const api = anonClient();
    const c1 = await api.collection(posts.name).create({ title: 'both' });
    assert.deepEqual(await nextEvent(first), { action: 'create', record: c1 });
    assert.deepEqual(await nextEvent(second), { action: 'create', record: c1 });

    await first.unsub();
    assert.equal(pb.realtime.isConnected, true);
    const c2 = await api.collection(posts.name).create({ title: 'second only' });
    assert.deepEqual(await nextEvent(second), { action: 'create', record: c2 });
    await expectNoEvent(first, 800);

    await second.unsub();
    assert.equal(pb.realtime.isConnected, false);
    await api.collection(posts.name).create({ title: 'nobody' });
    await expectNoEvent(second, 800);
  });
});

describe('subscription options', () => {
  test('expand and fields are applied per subscriber, like the REST API with the same query', async () => {
    const api = anonClient();
    const author = await api.collection(authors.name).create({ name: 'Ann', bio: 'long bio' });
    const opts = { expand: 'author', fields: 'id,title,expand.author.name' };
    const pb = guest();
    const shaped = await listen(pb, posts.name, '*', opts, 'shaped');
    const expanded = await listen(pb, posts.name, '*', { expand: 'author' }, 'expanded');
    const plain = await listen(guest(), posts.name, '*', undefined, 'plain');

    const created = await api.collection(posts.name).create({ title: 'with author', n: 7, author: author.id });
    const restShaped = await api.collection(posts.name).getOne(created.id, opts);
    const restExpanded = await api.collection(posts.name).getOne(created.id, { expand: 'author' });
    assert.deepEqual(restShaped, { id: created.id, title: 'with author', expand: { author: { name: 'Ann' } } });

    assert.deepEqual(await nextEvent(shaped), { action: 'create', record: restShaped });
    assert.deepEqual(await nextEvent(expanded), { action: 'create', record: restExpanded });
    assert.deepEqual(await nextEvent(plain), { action: 'create', record: created });

    // delete events are shaped the same way
    await api.collection(posts.name).delete(created.id);
    assert.deepEqual(await nextEvent(shaped), { action: 'delete', record: restShaped });
    assert.deepEqual(await nextEvent(expanded), { action: 'delete', record: restExpanded });
    assert.deepEqual(await nextEvent(plain), { action: 'delete', record: created });
  });

  test('fields without expand, and fields on an id topic', async () => {
    const api = anonClient();
    const r = await api.collection(posts.name).create({ title: 'f', n: 3 });
    const all = await listen(guest(), posts.name, '*', { fields: 'id,n' });
    const one = await listen(guest(), posts.name, r.id, { fields: 'title' });
    await api.collection(posts.name).update(r.id, { n: 4 });
    assert.deepEqual(await nextEvent(all), { action: 'update', record: { id: r.id, n: 4 } });
    assert.deepEqual(await nextEvent(one), { action: 'update', record: { title: 'f' } });
  });

  test('filter is honoured per subscriber, for create, update and delete', async () => {
    const api = anonClient();
    const pb = guest();
    const filtered = await listen(pb, posts.name, '*', { filter: 'title ~ "x"' }, 'filtered');
    const plain = await listen(pb, posts.name, '*', undefined, 'plain');

    const miss = await api.collection(posts.name).create({ title: 'abc' });
    const hit = await api.collection(posts.name).create({ title: 'xyz' });
    assertEvents((await nextEvents(plain, 2)).map((e) => e.record.id), [miss.id, hit.id]);
    assert.deepEqual(await nextEvent(filtered), { action: 'create', record: hit });

    // the filter sees the new values: an update into the filter is delivered, out of it is not
    const into = await api.collection(posts.name).update(miss.id, { title: 'now x' });
    const outOf = await api.collection(posts.name).update(hit.id, { title: 'none' });
    assertEvents(await nextEvents(plain, 2), [
      { action: 'update', record: into },
      { action: 'update', record: outOf },
    ]);
    assert.deepEqual(await nextEvent(filtered), { action: 'update', record: into });

    // delete: evaluated on the deleted record's data
    await api.collection(posts.name).delete(hit.id); // title "none" → filtered out
    await api.collection(posts.name).delete(miss.id); // title "now x" → delivered
    assertEvents((await nextEvents(plain, 2)).map((e) => [e.action, e.record.id]), [['delete', hit.id], ['delete', miss.id]]);
    assert.deepEqual(await nextEvent(filtered), { action: 'delete', record: into });
    await expectNoEvent(filtered, 800);
  });

  test('an invalid filter in the options silently delivers nothing (the subscribe itself succeeds)', async () => {
    const bad = await listen(guest(), posts.name, '*', { filter: 'title ~~ (' }, 'bad filter');
    const unknown = await listen(guest(), posts.name, '*', { filter: 'nope = 1' }, 'unknown field');
    await anonClient().collection(posts.name).create({ title: 'bad filter' });
    await Promise.all([expectNoEvent(bad, 1000), expectNoEvent(unknown, 1000)]);
  });
});

describe('API rules per subscriber', () => {
  test('owner rules: each subscriber gets exactly what list/view allow, delete included', async () => {
    const admin = await superuser();
    const docA = await admin.collection(docs.name).create({ title: 'a1', owner: userA.record.id });
    const [pbA, pbB] = await Promise.all([asUser(userA), asUser(userB)]);
    const pbG = guest();
    const pbS = await superuser();
    const subs = {};
    for (const [who, pb] of Object.entries({ A: pbA, B: pbB, G: pbG, S: pbS })) {
      subs[who] = await listen(pb, docs.name, '*', undefined, `${who} *`);
      subs[`${who}id`] = await listen(pb, docs.name, docA.id, undefined, `${who} ${docA.id}`);
    }

    const a2 = await admin.collection(docs.name).create({ title: 'a2', owner: userA.record.id });
    const a1u = await admin.collection(docs.name).update(docA.id, { title: 'a1 updated' });
    const b1 = await admin.collection(docs.name).create({ title: 'b1', owner: userB.record.id });
    const none = await admin.collection(docs.name).create({ title: 'nobody' });
    await admin.collection(docs.name).delete(b1.id);
    await admin.collection(docs.name).delete(docA.id);

    const ev = (action, record) => ({ action, record });
    assertEvents(await nextEvents(subs.A, 3), [ev('create', a2), ev('update', a1u), ev('delete', a1u)]);
    assertEvents(await nextEvents(subs.Aid, 2), [ev('update', a1u), ev('delete', a1u)]);
    assertEvents(await nextEvents(subs.B, 2), [ev('create', b1), ev('delete', b1)]);
    assertEvents(await nextEvents(subs.S, 6), [
      ev('create', a2), ev('update', a1u), ev('create', b1), ev('create', none), ev('delete', b1), ev('delete', a1u),
    ]);
    assertEvents(await nextEvents(subs.Sid, 2), [ev('update', a1u), ev('delete', a1u)]);
    // a record without owner matches `owner = @request.auth.id` for a guest ("" = ""), exactly as in a
    // guest's REST list
    assert.deepEqual(await nextEvent(subs.G), ev('create', none));
    assert.deepEqual((await anonClient().collection(docs.name).getFullList()).map((r) => r.id), [none.id]);
    // nobody gets anything more; B and the guest never see A's record, not even its id
    await Promise.all(Object.values(subs).map((q) => expectNoEvent(q, 1000)));
  });

  test('an update that moves a record to another owner is checked on the new data', async () => {
    const admin = await superuser();
    const d = await admin.collection(docs.name).create({ title: 'moving', owner: userA.record.id });
    const subA = await listen(await asUser(userA), docs.name, '*', undefined, 'A');
    const subB = await listen(await asUser(userB), docs.name, '*', undefined, 'B');
    const moved = await admin.collection(docs.name).update(d.id, { owner: userB.record.id });
    assert.deepEqual(await nextEvent(subB), { action: 'update', record: moved });
    await expectNoEvent(subA, 1000);
    await admin.collection(docs.name).delete(d.id);
    assert.deepEqual(await nextEvent(subB), { action: 'delete', record: moved });
    await expectNoEvent(subA, 300);
  });

  test('a null rule: only the superuser receives', async () => {
    const admin = await superuser();
    const subs = {
      S: await listen(await superuser(), secret.name, '*', undefined, 'S'),
      A: await listen(await asUser(userA), secret.name, '*', undefined, 'A'),
      G: await listen(guest(), secret.name, '*', undefined, 'G'),
    };
    const r = await admin.collection(secret.name).create({ title: 'top secret' });
    const G2 = await listen(guest(), secret.name, r.id, undefined, 'G id');
    const u = await admin.collection(secret.name).update(r.id, { title: 'still secret' });
    await admin.collection(secret.name).delete(r.id);
    assertEvents(await nextEvents(subs.S, 3), [
      { action: 'create', record: r }, { action: 'update', record: u }, { action: 'delete', record: u },
    ]);
    await Promise.all([expectNoEvent(subs.A, 1000), expectNoEvent(subs.G, 1000), expectNoEvent(G2, 1000)]);
  });

  test("'*' is guarded by the listRule, an id topic by the viewRule", async () => {
    const admin = await superuser();
    const r = await admin.collection(split.name).create({ title: 's' });
    const pb = guest();
    const all = await listen(pb, split.name, '*', undefined, 'guest *'); // listRule null
    const one = await listen(pb, split.name, r.id, undefined, 'guest id'); // viewRule ""
    const u = await admin.collection(split.name).update(r.id, { title: 's2' });
    assert.deepEqual(await nextEvent(one), { action: 'update', record: u });
    await expectNoEvent(all, 1000);
  });

  test('options.headers reach the rules as @request.headers.* (names snake_cased)', async () => {
    const admin = await superuser();
    const right = await listen(guest(), hdr.name, '*', { headers: { 'X-Token': 'abc' } }, 'right header');
    const wrong = await listen(guest(), hdr.name, '*', { headers: { 'X-Token': 'nope' } }, 'wrong header');
    const none = await listen(guest(), hdr.name, '*', undefined, 'no header');
    const r = await admin.collection(hdr.name).create({ title: 'h' });
    assert.deepEqual(await nextEvent(right), { action: 'create', record: r });
    await Promise.all([expectNoEvent(wrong, 1000), expectNoEvent(none, 1000)]);
  });

  test('subscribing to a collection the client may not read still answers 204 (silently no events)', async () => {
    // the SDK resolves the subscribe; nothing is rejected up front
    const q = await listen(guest(), secret.name, '*');
    assert.equal(typeof q.unsub, 'function');
  });
});

describe('auth binding', () => {
  test('the auth of the first subscription request sticks to the connection; another auth is refused with 403', async () => {
    const admin = await superuser();
    const pb = await asUser(userA);
    const sub = await listen(pb, docs.name, '*', undefined, 'A then B');
    const clientId = pb.realtime.clientId;

    // the SDK does not resubscribe when its authStore changes ...
    await pb.collection('users').authWithPassword(userB.email, userB.password);
    assert.equal(pb.realtime.clientId, clientId);
    // ... so the live subscription still runs with A's auth
    const forA = await admin.collection(docs.name).create({ title: 'for A', owner: userA.record.id });
    await admin.collection(docs.name).create({ title: 'for B', owner: userB.record.id });
    assert.deepEqual(await nextEvent(sub), { action: 'create', record: forA });
    await expectNoEvent(sub, 800);

    // the next subscribe sends B's token with the same clientId: refused
    let err;
    try {
      await pb.collection(posts.name).subscribe('*', () => {});
    } catch (e) { err = e; }
    assert.ok(err, 'subscribing with a different auth on the same connection fails');
    assert.equal(err.status, 403);
    assertErrorShape(err.response, 403);
    assert.equal(err.response.message, "The current and the previous request authorization don't match.");
    // the old subscriptions stay as they were (still A's)
    const forA2 = await admin.collection(docs.name).create({ title: 'for A again', owner: userA.record.id });
    assert.deepEqual(await nextEvent(sub), { action: 'create', record: forA2 });

    // a fresh connection binds the new auth: events now follow B
    pb.realtime.disconnect();
    const subB = await listen(pb, docs.name, '*', undefined, 'B fresh');
    assert.notEqual(pb.realtime.clientId, clientId);
    await admin.collection(docs.name).create({ title: 'for A 3', owner: userA.record.id });
    const forB = await admin.collection(docs.name).create({ title: 'for B 2', owner: userB.record.id });
    assert.deepEqual(await nextEvent(subB), { action: 'create', record: forB });
    // the old listener was resubscribed on the new connection too (the SDK keeps its topic map)
    assert.deepEqual(await nextEvent(sub), { action: 'create', record: forB });
    await Promise.all([expectNoEvent(subB, 800), expectNoEvent(sub, 800)]);
  });

  test('guest → auth is an allowed upgrade: the resubmitted topics then run with the new auth', async () => {
    const admin = await superuser();
    const pb = guest();
    const sub = await listen(pb, docs.name, '*', undefined, 'guest then A');
    await admin.collection(docs.name).create({ title: 'guest sees nothing', owner: userA.record.id });
    await expectNoEvent(sub, 800);

    await pb.collection('users').authWithPassword(userA.email, userA.password);
    await listen(pb, posts.name, '*'); // POSTs all topics again, now with A's token → 204
    const forA = await admin.collection(docs.name).create({ title: 'A sees this', owner: userA.record.id });
    assert.deepEqual(await nextEvent(sub), { action: 'create', record: forA });

    // and back to guest is a change too: refused
    pb.authStore.clear();
    let err;
    try { await pb.collection(authors.name).subscribe('*', () => {}); } catch (e) { err = e; }
    assert.equal(err?.status, 403);
    assert.equal(err.response.message, "The current and the previous request authorization don't match.");
  });
});

describe('reconnect', () => {
  test('disconnect() then a new subscribe: new clientId, every earlier topic is resubscribed', async () => {
    const api = anonClient();
    const pb = guest();
    const sub = await listen(pb, posts.name, '*');
    const first = pb.realtime.clientId;
    assert.equal(pb.realtime.isConnected, true);
    assert.match(first, /^\S+$/);

    pb.realtime.disconnect();
    assert.equal(pb.realtime.isConnected, false);
    await api.collection(posts.name).create({ title: 'while disconnected' });
    await expectNoEvent(sub, 800);

    const other = await listen(pb, authors.name, '*');
    assert.equal(pb.realtime.isConnected, true);
    assert.notEqual(pb.realtime.clientId, first);
    const c = await api.collection(posts.name).create({ title: 'after reconnect' });
    const a = await api.collection(authors.name).create({ name: 'after reconnect' });
    assert.deepEqual(await nextEvent(sub), { action: 'create', record: c });
    assert.deepEqual(await nextEvent(other), { action: 'create', record: a });
  });

  test('a dropped connection: the SDK reconnects by itself, PB_CONNECT gives a new clientId, events flow again', async () => {
    const proxy = await tcpProxy();
    proxies.push(proxy);
    const pb = track(new PocketBase(proxy.url));
    pb.autoCancellation(false);
    const connects = new EventQueue('PB_CONNECT');
    await pb.realtime.subscribe('PB_CONNECT', connects.push);
    const c0 = await nextEvent(connects);
    assert.deepEqual(Object.keys(c0), ['clientId']);
    assert.equal(c0.clientId, pb.realtime.clientId);
    const sub = await listen(pb, posts.name, '*');
    const disconnects = [];
    pb.realtime.onDisconnect = (active) => disconnects.push(active);

    proxy.dropAll();
    const c1 = await nextEvent(connects, 10_000);
    assert.notEqual(c1.clientId, c0.clientId);
    assert.equal(pb.realtime.clientId, c1.clientId);
    assert.equal(pb.realtime.isConnected, true);
    assert.ok(disconnects.length >= 1, 'onDisconnect was called');
    assert.ok(disconnects[0].includes(`${posts.name}/*`), `active subscriptions: ${disconnects[0]}`);

    // the resubscription is sent right before PB_CONNECT is handed out: events flow
    const c = await anonClient().collection(posts.name).create({ title: 'after drop' });
    assert.deepEqual(await nextEvent(sub), { action: 'create', record: c });
  });
});

describe('raw protocol', () => {
  test('GET /api/realtime: text/event-stream, first event PB_CONNECT with id: and {clientId}', async () => {
    const st = await sse('/api/realtime');
    assert.equal(st.status, 200);
    assert.match(st.headers.get('content-type'), /^text\/event-stream/);
    assert.equal(st.headers.get('cache-control'), 'no-store');
    assert.equal(st.headers.get('x-accel-buffering'), 'no');
    const ev = await st.next(5000);
    const { clientId } = JSON.parse(ev.data);
    assert.match(clientId, /^[A-Za-z0-9]{40}$/);
    assert.equal(ev.raw, `id:${clientId}\nevent:PB_CONNECT\ndata:{"clientId":"${clientId}"}\n\n`);
  });

  test('POST /api/realtime → 204 with an empty body; record events are framed id:/event:/data:', async () => {
    const st = await connectRaw();
    const topic = `${posts.name}/*`;
    const res = await postSubs(st.clientId, [topic]);
    assert.equal(res.status, 204);
    assert.equal(res.text, '');

    const rec = await anonClient().collection(posts.name).create({ title: 'raw' });
    const ev = await st.next(5000);
    // the id: line repeats the clientId (it is not a per-event id); the event name is the topic as subscribed;
    // the data has "record" before "action"
    assert.equal(ev.raw, `id:${st.clientId}\nevent:${topic}\ndata:${JSON.stringify({ record: rec, action: 'create' })}\n\n`);
  });

  test('each POST replaces the subscription set; an empty list unsubscribes everything', async () => {
    const st = await connectRaw();
    assert.equal((await postSubs(st.clientId, [`${posts.name}/*`])).status, 204);
    assert.equal((await postSubs(st.clientId, [`${authors.name}/*`])).status, 204);
    const api = anonClient();
    await api.collection(posts.name).create({ title: 'replaced' });
    const a = await api.collection(authors.name).create({ name: 'current' });
    const ev = await st.next(5000);
    assert.equal(ev.event, `${authors.name}/*`);
    assert.deepEqual(JSON.parse(ev.data), { record: a, action: 'create' });

    assert.equal((await postSubs(st.clientId, [])).status, 204);
    await api.collection(authors.name).create({ name: 'nobody listens' });
    await st.expectNothing(1000);
  });

  test('topics by collection id, the bare collection name, and options echoed in the event name', async () => {
    const st = await connectRaw();
    const opts = `?options=${encodeURIComponent(JSON.stringify({ query: { fields: 'id' } }))}`;
    const topics = [`${posts.id}/*`, posts.name, `${posts.name}/*${opts}`];
    assert.equal((await postSubs(st.clientId, topics)).status, 204);
    const rec = await anonClient().collection(posts.name).create({ title: 'by id' });
    const got = {};
    for (let i = 0; i < 3; i++) {
      const ev = await st.next(5000);
      got[ev.event] = JSON.parse(ev.data);
    }
    assert.deepEqual(got, {
      [`${posts.id}/*`]: { record: rec, action: 'create' },
      [posts.name]: { record: rec, action: 'create' },
      [`${posts.name}/*${opts}`]: { record: { id: rec.id }, action: 'create' },
    });
    await st.expectNothing(500);
  });

  test('unknown clientId → 404; malformed or invalid bodies → 400', async () => {
    const missing = await postSubs('nope', [`${posts.name}/*`]);
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, { status: 404, message: 'Missing or invalid client id.', data: {} });

    const bad = await rawFetch('/api/realtime', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: '{bad',
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json, { status: 400, message: 'Something went wrong while processing your request.', data: {} });

    const wrongType = await rawFetch('/api/realtime', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId: 'x', subscriptions: 'x' }),
    });
    assert.equal(wrongType.status, 400);
    assertErrorShape(wrongType.json, 400);

    const noId = await postSubs('', []);
    assert.equal(noId.status, 400);
    assert.equal(noId.json.message, 'Something went wrong while processing your request.');
    assert.deepEqual(noId.json.data, { clientId: { code: 'validation_required', message: 'Cannot be blank.' } });

    const st = await connectRaw();
    const tooLong = await postSubs(st.clientId, ['x'.repeat(2501)]);
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.json.data.subscriptions['0'].code, 'validation_length_too_long');
    const longId = await postSubs('x'.repeat(256), []);
    assert.equal(longId.status, 400);
    assert.equal(longId.json.data.clientId.code, 'validation_length_out_of_range');
  });

  test('a closed connection forgets its clientId: posting to it later is 404', async () => {
    const st = await connectRaw();
    assert.equal((await postSubs(st.clientId, [`${posts.name}/*`])).status, 204);
    st.close();
    let last;
    for (let i = 0; i < 50; i++) { // the server notices the close asynchronously
      last = await postSubs(st.clientId, [`${posts.name}/*`]);
      if (last.status === 404) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(last.status, 404);
    assert.equal(last.json.message, 'Missing or invalid client id.');
  });

  test('Authorization on POST: guest → auth allowed, any later change 403, the same token (also "Bearer …") 204', async () => {
    const admin = await adminClient();
    const a = await userClient(userA.email, userA.password);
    const b = await userClient(userB.email, userB.password);
    const st = await connectRaw();
    const subs = [`${docs.name}/*`];
    const mismatch = { status: 403, message: "The current and the previous request authorization don't match.", data: {} };

    assert.equal((await postSubs(st.clientId, subs)).status, 204); // guest
    assert.equal((await postSubs(st.clientId, subs, { Authorization: a.authStore.token })).status, 204); // upgrade
    assert.equal((await postSubs(st.clientId, subs, { Authorization: `Bearer ${a.authStore.token}` })).status, 204);
    for (const headers of [{}, { Authorization: b.authStore.token }, { Authorization: admin.authStore.token }, { Authorization: 'garbage' }]) {
      const r = await postSubs(st.clientId, subs, headers);
      assert.equal(r.status, 403, JSON.stringify(headers).slice(0, 40));
      assert.deepEqual(r.json, mismatch);
    }
    // a refused POST leaves the subscriptions (and their auth) as they were: A's docs arrive
    const forA = await admin.collection(docs.name).create({ title: 'raw A', owner: userA.record.id });
    await admin.collection(docs.name).create({ title: 'raw B', owner: userB.record.id });
    const ev = await st.next(5000);
    assert.deepEqual(JSON.parse(ev.data), { record: forA, action: 'create' });
    await st.expectNothing(800);
  });

  test('deleting the auth record of a connection makes it a guest again (then any auth may bind)', async () => {
    const admin = await adminClient();
    const c = await createUser();
    const pbC = await userClient(c.email, c.password);
    const b = await userClient(userB.email, userB.password);
    const st = await connectRaw();
    const subs = [`${docs.name}/*`];
    assert.equal((await postSubs(st.clientId, subs, { Authorization: pbC.authStore.token })).status, 204);
    assert.equal((await postSubs(st.clientId, subs, { Authorization: b.authStore.token })).status, 403);
    await admin.collection('users').delete(c.record.id);
    let r;
    for (let i = 0; i < 20; i++) { // the unbinding runs in an after-delete hook
      r = await postSubs(st.clientId, subs, { Authorization: b.authStore.token });
      if (r.status === 204) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(r.status, 204);
    const forB = await admin.collection(docs.name).create({ title: 'now B', owner: userB.record.id });
    assert.deepEqual(JSON.parse((await st.next(5000)).data), { record: forB, action: 'create' });
  });

  test('the SSE GET ignores its own Authorization: the binding comes from the POST', async () => {
    const admin = await adminClient();
    const st = await connectRaw({ headers: { Authorization: admin.authStore.token } });
    assert.equal((await postSubs(st.clientId, [`${secret.name}/*`])).status, 204); // as guest
    await admin.collection(secret.name).create({ title: 'hidden' });
    await st.expectNothing(1000);
  });
});
