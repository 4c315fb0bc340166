// Records CRUD through pb.collection(name): envelope, paging, ids, validation, coercion.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Scope, expectError, newId, rawFetch } from './support.mjs';

const s = new Scope('rec');
let posts;
let P; // RecordService of posts
let many; // a collection with 35 rows for paging

const TS = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/;

before(async () => {
  await s.init();
  posts = await s.collection({
    name: 'posts',
    fields: [
      { name: 'title', type: 'text', required: true, max: 40 },
      { name: 'views', type: 'number', min: 0, onlyInt: true },
      { name: 'flag', type: 'bool' },
      { name: 'when', type: 'date' },
      { name: 'tags', type: 'select', maxSelect: 2, values: ['a', 'b', 'c'] },
      { name: 'meta', type: 'json' },
      { name: 'created', type: 'autodate', onCreate: true, onUpdate: false },
      { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
    ],
  });
  P = s.pb.collection(posts.name);
  many = await s.collection({ name: 'many', fields: [{ name: 'n', type: 'number' }] });
  const batch = [];
  for (let i = 1; i <= 35; i++) batch.push(s.pb.collection(many.name).create({ n: i }));
  await Promise.all(batch);
});
after(() => s.cleanup());

test('create → getOne → update → delete', async () => {
  const rec = await P.create({ title: 'First', views: 3, flag: true, tags: ['a'], meta: { x: 1 } });
  assert.match(rec.id, /^[a-z0-9]{15}$/);
  assert.equal(rec.collectionId, posts.id);
  assert.equal(rec.collectionName, posts.name);
  assert.equal(rec.title, 'First');
  assert.match(rec.created, TS);
  assert.match(rec.updated, TS);

  const got = await P.getOne(rec.id);
  assert.deepEqual(got, rec);

  await new Promise((r) => setTimeout(r, 5)); // `updated` has ms resolution
  const upd = await P.update(rec.id, { title: 'First (edited)', views: 4 });
  assert.equal(upd.title, 'First (edited)');
  assert.equal(upd.views, 4);
  assert.equal(upd.flag, true, 'fields not in the body are kept');
  assert.deepEqual(upd.tags, ['a']);
  assert.equal(upd.created, rec.created, 'onCreate-only autodate does not move');
  assert.ok(upd.updated > rec.updated, 'onUpdate autodate moves forward');

  assert.equal(await P.delete(rec.id), true);
  await expectError(P.getOne(rec.id), 404);
});

test('the record JSON has collectionId, collectionName, id and every field; no expand key by default', async () => {
  const rec = await P.create({ title: 'Keys' });
  assert.deepEqual(Object.keys(rec).sort(), [
    'collectionId', 'collectionName', 'created', 'flag', 'id', 'meta', 'tags', 'title', 'updated', 'views', 'when',
  ]);
});

test('list envelope: {page, perPage, totalItems, totalPages, items}', async () => {
  const list = await s.pb.collection(many.name).getList(2, 10, { sort: 'n' });
  assert.deepEqual(Object.keys(list).sort(), ['items', 'page', 'perPage', 'totalItems', 'totalPages']);
  assert.equal(list.page, 2);
  assert.equal(list.perPage, 10);
  assert.equal(list.totalItems, 35);
  assert.equal(list.totalPages, 4);
  assert.deepEqual(list.items.map((r) => r.n), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
});

test('perPage defaults to 30, page to 1', async () => {
  const res = await rawFetch(`/api/collections/${many.name}/records`, {
    headers: { authorization: s.pb.authStore.token },
  });
  assert.equal(res.status, 200);
  assert.equal(res.json.page, 1);
  assert.equal(res.json.perPage, 30);
  assert.equal(res.json.items.length, 30);
  assert.equal(res.json.totalPages, 2);
});

test('perPage above the maximum is clamped to 1000; 0 or negative falls back to 30', async () => {
  const send = (q) => s.pb.send(`/api/collections/${many.name}/records?${q}`, {});
  const big = await send('perPage=5000');
  assert.equal(big.perPage, 1000);
  assert.equal(big.items.length, 35);
  const exact = await send('perPage=1000');
  assert.equal(exact.perPage, 1000);
  assert.equal((await send('perPage=0')).perPage, 30);
  assert.equal((await send('perPage=-5')).perPage, 30);
  const p0 = await send('page=0');
  assert.equal(p0.page, 1);
  await expectError(send('perPage=abc'), 400);
});

test('a page past the end is an empty page, not an error', async () => {
  const list = await s.pb.collection(many.name).getList(99, 10);
  assert.equal(list.page, 99);
  assert.deepEqual(list.items, []);
  assert.equal(list.totalItems, 35);
  assert.equal(list.totalPages, 4);
});

test('skipTotal: totalItems and totalPages are -1, items still paged', async () => {
  const list = await s.pb.collection(many.name).getList(2, 10, { skipTotal: true, sort: 'n' });
  assert.equal(list.totalItems, -1);
  assert.equal(list.totalPages, -1);
  assert.equal(list.page, 2);
  assert.deepEqual(list.items.map((r) => r.n), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
});

test('getFullList and getFirstListItem', async () => {
  const all = await s.pb.collection(many.name).getFullList({ batch: 10, sort: '-n' });
  assert.equal(all.length, 35);
  assert.equal(all[0].n, 35);
  const first = await s.pb.collection(many.name).getFirstListItem('n = 7');
  assert.equal(first.n, 7);
  // no match: the server just returns an empty page; the SDK itself turns that into a 404
  // (its synthetic error body uses `code`, not `status`, so only the status is checked here)
  await assert.rejects(s.pb.collection(many.name).getFirstListItem('n = 7000'), (e) => e.status === 404);
});

test('a client-supplied 15-char id is kept', async () => {
  const id = newId();
  const rec = await P.create({ id, title: 'Own id' });
  assert.equal(rec.id, id);
  assert.equal((await P.getOne(id)).title, 'Own id');
  const dup = await expectError(P.create({ id, title: 'Same id' }), 400);
  assert.equal(dup.data.id.code, 'validation_not_unique');
});

test('bad client ids → 400 with data.id', async () => {
  const short = await expectError(P.create({ id: 'abc', title: 'x' }), 400);
  assert.equal(short.data.id.code, 'validation_min_text_constraint');
  const long = await expectError(P.create({ id: 'a'.repeat(16), title: 'x' }), 400);
  assert.equal(long.data.id.code, 'validation_max_text_constraint');
  const upper = await expectError(P.create({ id: 'ABCDEFGHIJKLMNO', title: 'x' }), 400);
  assert.equal(upper.data.id.code, 'validation_invalid_format');
  const rec = await P.create({ title: 'Fixed id' });
  const change = await expectError(P.update(rec.id, { id: newId() }), 400);
  assert.equal(change.data.id.code, 'validation_pk_change');
});

test('validation errors: {status:400, message, data:{field:{code, message}}}', async () => {
  const body = await expectError(P.create({ views: 1 }), 400);
  assert.equal(body.message, 'Failed to create record.');
  assert.deepEqual(Object.keys(body.data), ['title']);
  assert.equal(body.data.title.code, 'validation_required');
  assert.equal(typeof body.data.title.message, 'string');

  const many = await expectError(
    P.create({ title: 'x'.repeat(41), views: -1, tags: ['a', 'z'] }),
    400,
  );
  assert.deepEqual(Object.keys(many.data).sort(), ['tags', 'title', 'views']);
  assert.equal(many.data.title.code, 'validation_max_text_constraint');
  assert.deepEqual(many.data.title.params, { max: 40 });
  assert.equal(many.data.views.code, 'validation_min_number_constraint');
  assert.equal(many.data.tags.code, 'validation_invalid_value');

  const frac = await expectError(P.create({ title: 'frac', views: 1.5 }), 400);
  assert.equal(frac.data.views.code, 'validation_only_int_constraint');

  const tooMany = await expectError(P.create({ title: 'tags', tags: ['a', 'b', 'c'] }), 400);
  assert.equal(tooMany.data.tags.code, 'validation_too_many_values');

  const rec = await P.create({ title: 'valid' });
  const upd = await expectError(P.update(rec.id, { title: '' }), 400);
  assert.equal(upd.message, 'Failed to update record.');
  assert.equal(upd.data.title.code, 'validation_required');
});

test('unknown fields and read-only keys in the body are silently ignored', async () => {
  const rec = await P.create({
    title: 'Extra', bogus: 'x', collectionName: 'nope', collectionId: 'nope',
    created: '2000-01-01 00:00:00.000Z', expand: { a: 1 },
  });
  assert.equal(rec.bogus, undefined);
  assert.equal(rec.collectionName, posts.name);
  assert.equal(rec.collectionId, posts.id);
  assert.notEqual(rec.created, '2000-01-01 00:00:00.000Z');
  assert.equal(rec.expand, undefined);
  const upd = await P.update(rec.id, { alsoBogus: 1, updated: '2000-01-01 00:00:00.000Z' });
  assert.equal(upd.alsoBogus, undefined);
  assert.notEqual(upd.updated, '2000-01-01 00:00:00.000Z');
});

test('loose input is coerced to the field type rather than rejected', async () => {
  const rec = await P.create({
    title: 12345, views: '12', flag: 'true', tags: 'b', when: '2024-01-02', meta: '{"k":1}',
  });
  assert.equal(rec.title, '12345');
  assert.equal(rec.views, 12);
  assert.equal(rec.flag, true);
  assert.deepEqual(rec.tags, ['b'], 'a single value for a multi select becomes a one-element array');
  assert.equal(rec.when, '2024-01-02 00:00:00.000Z');
  assert.deepEqual(rec.meta, { k: 1 }, 'a JSON string is parsed');

  const odd = await P.create({ title: 'odd', views: 'abc', flag: 'yes', when: 'not a date', meta: 'not json' });
  assert.equal(odd.views, 0, 'a non-numeric string is 0');
  assert.equal(odd.flag, false, 'only "true"/"1"-like strings are true');
  assert.equal(odd.when, '', 'an unparseable date is stored as empty');
  assert.equal(odd.meta, 'not json', 'a non-JSON string is stored as a JSON string');

  const dedup = await P.create({ title: 'dedup', tags: ['a', 'a', 'b'] });
  assert.deepEqual(dedup.tags, ['a', 'b'], 'duplicate select values collapse');
});

test('null clears a field to its zero value; field+ / field- modifiers', async () => {
  const rec = await P.create({ title: 'Mods', views: 5, tags: ['a'], meta: { k: 1 }, flag: true });
  const cleared = await P.update(rec.id, { views: null, tags: null, meta: null, flag: null });
  assert.deepEqual([cleared.views, cleared.tags, cleared.meta, cleared.flag], [0, [], null, false]);
  const inc = await P.update(rec.id, { 'views+': 3, 'tags+': 'b' });
  assert.equal(inc.views, 3);
  assert.deepEqual(inc.tags, ['b']);
  const more = await P.update(rec.id, { 'views-': 1, '+tags': 'a' });
  assert.equal(more.views, 2);
  assert.deepEqual(more.tags, ['a', 'b'], '+field prepends');
  const less = await P.update(rec.id, { 'tags-': 'a' });
  assert.deepEqual(less.tags, ['b']);
});

test('missing records → 404 {status:404, message, data:{}} for get, update and delete', async () => {
  const missing = newId();
  for (const call of [() => P.getOne(missing), () => P.update(missing, { title: 'x' }), () => P.delete(missing)]) {
    const body = await expectError(call(), 404);
    assert.deepEqual(body.data, {});
  }
  await expectError(P.getOne('../weird id'), 404);
});

test('records of an unknown collection → 404', async () => {
  await expectError(s.pb.collection('no_such_' + s.suffix).getList(), 404);
  await expectError(s.pb.collection('no_such_' + s.suffix).create({ a: 1 }), 404);
});

test('a deleted record stays deleted; deleting twice is 404', async () => {
  const rec = await P.create({ title: 'Twice' });
  await P.delete(rec.id);
  await expectError(P.delete(rec.id), 404);
});

test('raw HTTP: create and update answer 200 with the record, delete answers 204 with no body', async () => {
  const headers = { authorization: s.pb.authStore.token, 'content-type': 'application/json' };
  const path = `/api/collections/${posts.name}/records`;
  const created = await rawFetch(path, { method: 'POST', headers, body: JSON.stringify({ title: 'Raw' }) });
  assert.equal(created.status, 200);
  assert.match(created.headers.get('content-type'), /^application\/json/);
  assert.equal(created.json.title, 'Raw');
  const updated = await rawFetch(`${path}/${created.json.id}`, { method: 'PATCH', headers, body: JSON.stringify({ title: 'Raw 2' }) });
  assert.equal(updated.status, 200);
  assert.equal(updated.json.title, 'Raw 2');
  const deleted = await rawFetch(`${path}/${created.json.id}`, { method: 'DELETE', headers });
  assert.equal(deleted.status, 204);
  assert.equal(deleted.text, '');
});
