// Error envelope: malformed JSON, oversized bodies, forged tokens.
// Every error body has exactly the keys status, message, data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Scope, anonClient, expectError, assertErrorShape, rawFetch } from './support.mjs';

const s = new Scope('err');
let open; // createRule "" / listRule "" : everyone may create and list
let locked; // all rules null: superusers only

before(async () => {
  await s.init();
  open = await s.collection({
    name: 'open',
    listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '',
    fields: [{ name: 'title', type: 'text' }],
  });
  locked = await s.collection({ name: 'locked', fields: [{ name: 'title', type: 'text' }] });
});
after(() => s.cleanup());

const recordsPath = (c) => `/api/collections/${c.name}/records`;

test('malformed JSON body → 400 {status, message, data:{}}', async () => {
  const res = await rawFetch(recordsPath(open), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"title": ',
  });
  assert.equal(res.status, 400);
  assertErrorShape(res.json, 400);
  assert.deepEqual(res.json.data, {});
});

test('a JSON array instead of an object → 400', async () => {
  const res = await rawFetch(recordsPath(open), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '[1,2,3]',
  });
  assert.equal(res.status, 400);
  assertErrorShape(res.json, 400);
});

test('malformed JSON is rejected before anything is stored', async () => {
  const before = await s.pb.collection(open.name).getList(1, 1);
  await rawFetch(recordsPath(open), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"title": "half',
  });
  const afterList = await s.pb.collection(open.name).getList(1, 1);
  assert.equal(afterList.totalItems, before.totalItems);
});

test('a body over the 32 MiB default limit (announced by Content-Length) → 413', async () => {
  const filler = Buffer.alloc(33 * 1024 * 1024, 'a');
  const body = Buffer.concat([Buffer.from('{"title":"'), filler, Buffer.from('"}')]);
  const res = await rawFetch(recordsPath(open), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
    body,
  });
  assert.equal(res.status, 413);
  assertErrorShape(res.json, 413);
  assert.deepEqual(res.json.data, {});
  const list = await s.pb.collection(open.name).getList(1, 1, { filter: 'title ~ "aaaaaaaa"' });
  assert.equal(list.totalItems, 0);
});

test('a forged token on a superuser-only collection → 403 (treated as a guest)', async () => {
  const pb = anonClient();
  pb.authStore.save('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6Inh4eCIsInR5cGUiOiJhdXRoIn0.Zm9yZ2Vk', null);
  await expectError(pb.collection(locked.name).getList(), 403);
});

test('a forged token on a public collection is ignored: the request runs as a guest', async () => {
  const pb = anonClient();
  pb.authStore.save('not-a-jwt-at-all', null);
  const list = await pb.collection(open.name).getList();
  assert.equal(typeof list.totalItems, 'number');
});

test('a forged token where auth is required → 401', async () => {
  const pb = anonClient();
  pb.authStore.save('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6Inh4eCIsInR5cGUiOiJhdXRoIn0.Zm9yZ2Vk', null);
  const body = await expectError(pb.collections.getList(), 401);
  assert.deepEqual(body.data, {});
  // auth-refresh needs a valid token as well
  await expectError(pb.collection('_superusers').authRefresh(), 401);
});

test('a superuser token with a tampered signature is not accepted', async () => {
  const token = s.pb.authStore.token;
  const pb = anonClient();
  pb.authStore.save(token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA'), null);
  await expectError(pb.collections.getList(), 401);
  await expectError(pb.collection(locked.name).getList(), 403);
});

test('no token at all on an admin endpoint → 401', async () => {
  await expectError(anonClient().collections.getList(), 401);
});

test('wrong password → 400 "Failed to authenticate." shape', async () => {
  const body = await expectError(
    anonClient().collection('_superusers').authWithPassword('admin@example.com', 'definitely-wrong'),
    400,
  );
  assert.deepEqual(body.data, {});
});

test('every error we provoke has exactly status, message, data', async () => {
  const pb = anonClient();
  const cases = [
    [() => pb.collection(locked.name).getList(), 403],
    [() => pb.collection(open.name).getOne('zzzzzzzzzzzzzzz'), 404],
    [() => pb.collection('no_such_collection_xyz').getList(), 404],
    [() => pb.collection(open.name).getList(1, 10, { filter: 'title ===' }), 400],
    [() => pb.collection(open.name).getList(1, 10, { sort: 'nope_field' }), 400],
    [() => pb.collections.getList(), 401],
  ];
  for (const [call, status] of cases) await expectError(call(), status);
});
