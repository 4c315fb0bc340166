// Records CRUD through pb.collection(name): envelope, paging, ids, validation, coercion.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Scope, TARGET, expectError, newId, rawFetch } from './support.mjs';

const s = new Scope('rec');
let posts;
let P; // RecordService of posts
let many; // a collection with 35 rows for paging
let L; // RecordService of `lenient`: one field of each kind, for coercion cases
let lenient;

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
  lenient = await s.collection({
    name: 'lenient',
    fields: [
      { name: 'n', type: 'number' },
      { name: 'e', type: 'email' },
      { name: 't', type: 'text' },
      { name: 'f', type: 'file', maxSelect: 3, maxSize: 1000 },
      { name: 'u', type: 'url' },
      { name: 'd', type: 'date' },
      { name: 'b', type: 'bool' },
      { name: 'j', type: 'json' },
      { name: 's', type: 'select', values: ['a', 'b'], maxSelect: 1 },
      { name: 'm', type: 'select', values: ['a', 'b', 'c'], maxSelect: 3 },
      { name: 'r', type: 'relation', collectionId: posts.id, maxSelect: 1 },
      { name: 'rm', type: 'relation', collectionId: posts.id, maxSelect: 5 },
      { name: 'ed', type: 'editor' },
    ],
    listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '',
  });
  L = s.pb.collection(lenient.name);
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

// ---- coercion edge cases (`lenient`): what PocketBase stores, or why it refuses ----

/** Creates a record from `body`, and also PATCHes `body` onto a fresh record: both
 *  must give the same field values. Returns the created record. */
async function bothWays(body) {
  const created = await L.create(body);
  const updated = await L.update((await L.create({})).id, body);
  for (const key of Object.keys(body).filter((k) => k in created)) {
    assert.deepEqual(updated[key], created[key], `PATCH ${key}: ${JSON.stringify(body)}`);
  }
  return created;
}

/** Create and update with `body` must both fail with exactly `data: {[field]: …}`. */
async function refusedBothWays(body, field) {
  const onCreate = await expectError(L.create(body), 400);
  assert.equal(onCreate.message, 'Failed to create record.');
  assert.deepEqual(Object.keys(onCreate.data), [field], JSON.stringify(onCreate));
  const rec = await L.create({});
  const onUpdate = await expectError(L.update(rec.id, body), 400);
  assert.equal(onUpdate.message, 'Failed to update record.');
  assert.deepEqual(onUpdate.data, onCreate.data);
  return onCreate.data[field];
}

test('numbers: NaN and infinities are refused; strings are read untrimmed, in Go float syntax', async () => {
  for (const n of ['NaN', 'nan', '-Infinity', 'Infinity', 'inf', '+Inf']) {
    const e = await refusedBothWays({ n }, 'n');
    assert.deepEqual(e, {
      code: 'validation_not_a_number',
      message: 'The submitted number is not properly formatted.',
    });
  }
  const rec = await L.create({ n: 5 });
  const plus = await expectError(L.update(rec.id, { 'n+': 'NaN' }), 400);
  assert.equal(plus.data.n.code, 'validation_not_a_number');
  const cases = [[' 12 ', 0], ['\t12', 0], ['12\n', 0], ['12', 12], ['0x1p4', 16], ['1_000', 1000],
    ['1e400', 0], ['-nan', 0], ['.5', 0.5], [true, 1], [[1], 0], [{}, 0]];
  for (const [input, want] of cases) {
    assert.equal((await bothWays({ n: input })).n, want, JSON.stringify(input));
  }
  // A JSON number beyond f64 is a malformed body on both servers.
  const raw = await rawFetch(`/api/collections/${lenient.name}/records`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n": 1e400}',
  });
  assert.equal(raw.status, 400);
  assert.deepEqual(raw.json, { status: 400, message: 'Something went wrong while processing your request.', data: {} });
});

test('text, email, url and editor fields read arrays and objects as ""; numbers in plain decimal', async () => {
  for (const v of [['x'], { a: 1 }, [null]]) {
    const rec = await bothWays({ t: v, e: v, u: v, ed: v });
    assert.deepEqual([rec.t, rec.e, rec.u, rec.ed], ['', '', '', ''], JSON.stringify(v));
  }
  const e = await bothWays({ e: ['a@b.co'], u: ['http://a.b'] });
  assert.deepEqual([e.e, e.u], ['', '']);
  assert.equal((await bothWays({ t: 1e21 })).t, '1000000000000000000000');
  assert.equal((await bothWays({ t: 1e-7 })).t, '0.0000001');
  assert.equal((await bothWays({ t: 1.5 })).t, '1.5');
  assert.equal((await bothWays({ t: true })).t, 'true');
});

test('emails and urls: no surrounding whitespace, well-formed names', async () => {
  for (const bad of [' a@b.co', 'a@b.co ', 'a@b.co\n', '.a@b.co', 'a.@b.co', 'a..b@c.de', 'a@b..co',
    'a@-b.cd', 'a@1.2.3.4', 'a@[1.2.3.4]', 'a(b)@c.de', '"a b"@c.de']) {
    const err = await refusedBothWays({ e: bad }, 'e');
    assert.equal(err.code, 'validation_is_email', JSON.stringify(bad));
  }
  for (const ok of ['a@b.co.', 'A@B.CO', 'a@b_c.de', "a'b@c.de"]) {
    assert.equal((await bothWays({ e: ok })).e, ok);
  }
  for (const bad of [' http://a.b', 'http://a.b/ x', 'http://.a.b', 'http://a..b.cd', 'http://-a.b',
    'http://a-.b', 'http://a.b1', 'http://a.b:abc', 'http://a.b:', 'http://a.b:123456', 'http://a.b/%zz',
    'http://a.b#%zz', 'http://1.2.3', 'http://999.1.1.1', 'http://a\\b.cd', 'HTTP://A.B', 'a.b']) {
    const err = await refusedBothWays({ u: bad }, 'u');
    assert.equal(err.code, 'validation_invalid_url', JSON.stringify(bad));
  }
  for (const ok of ['http://a.b.', 'http://a_b.cd', 'http://a.b?%zz', 'http://10.0.0.1', 'http://u@p@a.b:99999/x']) {
    assert.equal((await bothWays({ u: ok })).u, ok);
  }
});

test('selects and relations: objects are no value, JSON-array strings are lists, too many before unknown', async () => {
  const cases = [
    [{ s: {} }, 's', ''], [{ s: ['a', 'b'] }, 's', 'b'], [{ s: ['a', {}] }, 's', ''], [{ s: '["a"]' }, 's', 'a'],
    [{ m: {} }, 'm', []], [{ m: { a: 1 } }, 'm', []], [{ m: ['a', {}] }, 'm', []], [{ m: ['a', ['b']] }, 'm', []],
    [{ m: ['a', null] }, 'm', ['a']], [{ m: '["a","b"]' }, 'm', ['a', 'b']], [{ m: '[]' }, 'm', []],
    [{ r: {} }, 'r', ''], [{ r: ['x', {}] }, 'r', ''], [{ rm: { a: 1 } }, 'rm', []],
  ];
  for (const [body, key, want] of cases) {
    assert.deepEqual((await bothWays(body))[key], want, JSON.stringify(body));
  }
  const tooMany = await refusedBothWays({ m: ['a', 'x', 'y', 'z'] }, 'm');
  assert.equal(tooMany.code, 'validation_too_many_values');
  const number = await refusedBothWays({ m: [1.0] }, 'm');
  assert.deepEqual(number.params, { value: '1' });
  const rec = await L.create({ m: ['c'] });
  assert.deepEqual((await L.update(rec.id, { 'm+': {} })).m, ['c']);
  assert.deepEqual((await L.update(rec.id, { 'm+': '["a","b"]' })).m, ['c', 'a', 'b']);
});

test('bools: strings as Go ParseBool reads them', async () => {
  for (const b of ['1', 't', 'T', 'TRUE', 'true', 'True', 2, -1]) {
    assert.equal((await bothWays({ b })).b, true, JSON.stringify(b));
  }
  for (const b of ['0', ' true', 'tRuE', 'yes', '2', 'F', '', [true], {}]) {
    assert.equal((await bothWays({ b })).b, false, JSON.stringify(b));
  }
});

test('dates: untrimmed, with seconds; arrays, objects and numbers are ""', async () => {
  for (const d of [['2024-01-02'], { a: 1 }, 1700000000, true, ' 2024-01-02 ', '2024-01-02 ', '2024-01-02 10:00',
    '2024-01-02T10:00Z', '2024-01-02t10:00:00z', '2024/01/02']) {
    assert.equal((await bothWays({ d })).d, '', JSON.stringify(d));
  }
  for (const [d, want] of [
    ['2024-01-02T10:00:00+0200', '2024-01-02 08:00:00.000Z'],
    ['2024-01-02 10:00:00 +02:00', '2024-01-02 08:00:00.000Z'],
    ['2024-01-02 10:00:00.123456Z', '2024-01-02 10:00:00.123Z'],
    ['2024-01-02T10:00:00', '2024-01-02 10:00:00.000Z'],
  ]) {
    assert.equal((await bothWays({ d })).d, want, d);
  }
});

test('json: a string is JSON only when it starts like JSON; JSON beyond f64 is refused', async () => {
  const cases = [['NaN', 'NaN'], ['Infinity', 'Infinity'], [' 5', ' 5'], [' {}', ' {}'], ['5 ', 5], ['01', '01'],
    ['[1] x', '[1] x'], ['', ''], ['null', null], ['"q"', 'q'], ['{"a":[1]}', { a: [1] }]];
  for (const [j, want] of cases) {
    assert.deepEqual((await bothWays({ j })).j, want, JSON.stringify(j));
  }
  for (const j of ['1e400', '-1e400', '[1e400]', '{"a":1e400}']) {
    const err = await refusedBothWays({ j }, 'j');
    assert.deepEqual(err, { code: 'validation_invalid_json', message: 'Must be a valid json value.' });
  }
});

test('json nested 500 levels: PocketBase stores it; litebase refuses it (stack), saying why', async () => {
  let deep = [];
  for (let i = 1; i < 500; i++) deep = [deep];
  if (TARGET === 'pocketbase') {
    const rec = await L.create({ j: deep });
    assert.deepEqual(rec.j, deep);
    return;
  }
  const body = await expectError(L.create({ j: deep }), 400);
  assert.match(body.message, /nested 501 levels deep; at most 127/);
  assert.deepEqual(body.data, {});
  const asText = await expectError(L.create({ j: JSON.stringify(deep) }), 400);
  assert.equal(asText.data.j.code, 'validation_invalid_json');
  assert.match(asText.data.j.message, /127 levels/);
});

test('ids are read as text: a number or true is a (too short) id; null, [] or {} is none', async () => {
  for (const id of [123, true, 1.5]) {
    const err = await expectError(L.create({ id }), 400);
    assert.equal(err.data.id.code, 'validation_min_text_constraint', JSON.stringify(id));
  }
  for (const id of [null, [], {}, '']) {
    assert.match((await L.create({ id })).id, /^[a-z0-9]{15}$/, JSON.stringify(id));
  }
  const rec = await L.create({});
  for (const id of [123, true, null, [], {}, '']) {
    const err = await expectError(L.update(rec.id, { id }), 400);
    assert.equal(err.data.id.code, 'validation_pk_change', JSON.stringify(id));
  }
  assert.equal((await L.update(rec.id, { id: rec.id, t: 'same id' })).t, 'same id');
});

test('file fields take no new names as plain strings (only uploads add files)', async () => {
  for (const [f, names] of [
    ['../x.png', ['../x.png']], [['../etc/passwd'], ['../etc/passwd']], ['/etc/passwd', ['/etc/passwd']],
    ['x.png', ['x.png']], [['x', {}], ['x']], [5, ['5']], [['a.png', 'b c.png'], ['a.png', 'b c.png']],
  ]) {
    const err = await refusedBothWays({ f }, 'f');
    assert.deepEqual(err, {
      code: 'validation_invalid_file',
      message: `Invalid new files: [${names.join(' ')}].`,
      params: { invalidFiles: names },
    });
  }
  const plus = await refusedBothWays({ 'f+': 'x.png' }, 'f');
  assert.deepEqual(plus.params, { invalidFiles: ['x.png'] });
  for (const f of [{}, [], '', null, [{}]]) {
    assert.deepEqual((await bothWays({ f })).f, [], JSON.stringify(f));
  }
  const rec = await L.create({});
  assert.deepEqual((await L.update(rec.id, { 'f-': 'x.png' })).f, []);
});
