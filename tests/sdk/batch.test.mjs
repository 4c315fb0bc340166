// Batch API (POST /api/batch): all-or-nothing transactions of record operations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Scope, anonClient, expectError, ensureBatchEnabled, newId } from './support.mjs';

const s = new Scope('bat');
let items;
let locked;

before(async () => {
  await s.init();
  await ensureBatchEnabled(s.pb);
  items = await s.collection({
    name: 'items',
    fields: [
      { name: 'title', type: 'text', required: true },
      { name: 'n', type: 'number' },
    ],
  });
  locked = await s.collection({ name: 'locked', fields: [{ name: 'title', type: 'text' }] });
});
after(() => s.cleanup());

const titles = async () => (await s.pb.collection(items.name).getFullList({ sort: 'title' })).map((r) => r.title);
const reset = async () => s.pb.collections.truncate(items.name);

test('creates, updates, upserts and deletes in one batch are all applied, results in order', async () => {
  await reset();
  const keep = await s.pb.collection(items.name).create({ title: 'keep', n: 1 });
  const drop = await s.pb.collection(items.name).create({ title: 'drop', n: 1 });
  const upsertId = newId();

  const batch = s.pb.createBatch();
  batch.collection(items.name).create({ title: 'new one', n: 10 });
  batch.collection(items.name).create({ title: 'new two', n: 20 });
  batch.collection(items.name).update(keep.id, { title: 'kept', n: 2 });
  batch.collection(items.name).upsert({ id: upsertId, title: 'upserted' });
  batch.collection(items.name).upsert({ id: keep.id, title: 'kept again' });
  batch.collection(items.name).delete(drop.id);
  const res = await batch.send();

  assert.ok(Array.isArray(res));
  assert.equal(res.length, 6);
  for (const r of res) assert.deepEqual(Object.keys(r).sort(), ['body', 'status']);
  assert.deepEqual(res.map((r) => r.status), [200, 200, 200, 200, 200, 204]);
  assert.equal(res[0].body.title, 'new one');
  assert.match(res[0].body.id, /^[a-z0-9]{15}$/);
  assert.equal(res[0].body.collectionName, items.name);
  assert.equal(res[2].body.title, 'kept');
  assert.equal(res[3].body.id, upsertId);
  assert.equal(res[4].body.title, 'kept again');
  assert.equal(res[5].body, null);

  assert.deepEqual(await titles(), ['kept again', 'new one', 'new two', 'upserted']);
});

test('one failing operation → nothing applied; 400 with the failing index in data.requests', async () => {
  await reset();
  const existing = await s.pb.collection(items.name).create({ title: 'existing', n: 1 });
  const batch = s.pb.createBatch();
  batch.collection(items.name).create({ title: 'would be created' });
  batch.collection(items.name).update(existing.id, { n: 99 });
  batch.collection(items.name).create({ n: 3 }); // title is required
  batch.collection(items.name).delete(existing.id);
  const body = await expectError(batch.send(), 400);

  assert.equal(body.message, 'Batch transaction failed.');
  assert.deepEqual(Object.keys(body.data), ['requests']);
  assert.deepEqual(Object.keys(body.data.requests), ['2'], 'only the failing request is reported, keyed by index');
  const failed = body.data.requests['2'];
  assert.equal(failed.code, 'batch_request_failed');
  assert.equal(typeof failed.message, 'string');
  assert.equal(failed.response.status, 400);
  assert.equal(failed.response.message, 'Failed to create record.');
  assert.equal(failed.response.data.title.code, 'validation_required');

  assert.deepEqual(await titles(), ['existing']);
  assert.equal((await s.pb.collection(items.name).getOne(existing.id)).n, 1, 'the update was rolled back');
});

test('a 404 inside the batch rolls back too, and is wrapped the same way', async () => {
  await reset();
  const batch = s.pb.createBatch();
  batch.collection(items.name).create({ title: 'first' });
  batch.collection(items.name).delete(newId());
  const body = await expectError(batch.send(), 400);
  assert.equal(body.data.requests['1'].response.status, 404);
  assert.deepEqual(await titles(), []);
});

test('rules apply per request: an anonymous batch on a superuser-only collection fails with the inner 403', async () => {
  const batch = anonClient().createBatch();
  batch.collection(locked.name).create({ title: 'nope' });
  const body = await expectError(batch.send(), 400);
  assert.equal(body.data.requests['0'].response.status, 403);
  assert.equal((await s.pb.collection(locked.name).getList()).totalItems, 0);
});

test('an empty batch → 400 validation error on requests', async () => {
  const body = await expectError(s.pb.createBatch().send(), 400);
  assert.equal(body.data.requests.code, 'validation_required');
});

test('more than maxRequests (50) → 400 before anything runs', async () => {
  await reset();
  const batch = s.pb.createBatch();
  for (let i = 0; i < 51; i++) batch.collection(items.name).create({ title: `t${i}` });
  const body = await expectError(batch.send(), 400);
  assert.equal(body.data.requests.code, 'validation_length_too_long');
  assert.deepEqual(await titles(), []);
});

test('plain JSON body {requests:[{method,url,body}]} works without the SDK', async () => {
  await reset();
  const res = await s.pb.send('/api/batch', {
    method: 'POST',
    body: { requests: [{ method: 'POST', url: `/api/collections/${items.name}/records`, body: { title: 'json' } }] },
  });
  assert.equal(res.length, 1);
  assert.equal(res[0].status, 200);
  assert.equal(res[0].body.title, 'json');
});
