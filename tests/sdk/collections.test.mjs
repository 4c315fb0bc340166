// Collections API: create with every field type, read back, list, update, truncate, delete, views.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Scope, anonClient, expectError } from './support.mjs';

const s = new Scope('col');
let authors;
let posts;

const byName = (col) => Object.fromEntries(col.fields.map((f) => [f.name, f]));

before(async () => {
  await s.init();
  authors = await s.collection({ name: 'authors', fields: [{ name: 'name', type: 'text', required: true }] });
});
after(() => s.cleanup());

test('create a base collection with every field type', async () => {
  const postsName = s.name('posts');
  posts = await s.collection({
    name: 'posts',
    listRule: '',
    viewRule: '',
    createRule: null,
    fields: [
      { name: 'title', type: 'text', required: true, min: 2, max: 50, pattern: '^[A-Za-z0-9 ]+$' },
      { name: 'score', type: 'number', min: 0, max: 100 },
      { name: 'flag', type: 'bool' },
      { name: 'mail', type: 'email' },
      { name: 'site', type: 'url' },
      { name: 'when', type: 'date' },
      { name: 'status', type: 'select', maxSelect: 1, values: ['draft', 'published'] },
      { name: 'tags', type: 'select', maxSelect: 3, values: ['a', 'b', 'c'] },
      { name: 'meta', type: 'json' },
      { name: 'author', type: 'relation', collectionId: authors.id, maxSelect: 1 },
      { name: 'coauthors', type: 'relation', collectionId: authors.id, maxSelect: 5, cascadeDelete: true },
      { name: 'created', type: 'autodate', onCreate: true, onUpdate: false },
      { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
      { name: 'body', type: 'editor' },
    ],
    indexes: [`CREATE UNIQUE INDEX idx_${postsName}_title ON ${postsName} (title)`],
  });

  assert.equal(posts.name, postsName);
  assert.equal(posts.type, 'base');
  assert.equal(posts.system, false);
  assert.match(posts.id, /^\S+$/);
  assert.equal(posts.listRule, '');
  assert.equal(posts.viewRule, '');
  assert.equal(posts.createRule, null);
  assert.equal(posts.updateRule, null, 'an omitted rule is null (superusers only)');
  assert.equal(posts.deleteRule, null);
  assert.deepEqual(posts.indexes, [`CREATE UNIQUE INDEX idx_${postsName}_title ON ${postsName} (title)`]);
  assert.equal(typeof posts.created, 'string');
  assert.equal(typeof posts.updated, 'string');

  // fields come back as an array, in order, with the implicit system `id` field first
  assert.ok(Array.isArray(posts.fields));
  assert.deepEqual(posts.fields.map((f) => f.name), [
    'id', 'title', 'score', 'flag', 'mail', 'site', 'when', 'status', 'tags', 'meta',
    'author', 'coauthors', 'created', 'updated', 'body',
  ]);
  for (const f of posts.fields) {
    assert.equal(typeof f.id, 'string', `field ${f.name} has an id`);
    assert.ok(f.id.length > 0);
    assert.equal(typeof f.hidden, 'boolean');
    assert.equal(typeof f.system, 'boolean');
  }
  const f = byName(posts);
  assert.equal(f.id.type, 'text');
  assert.equal(f.id.primaryKey, true);
  assert.equal(f.id.system, true);
  assert.equal(f.id.min, 15);
  assert.equal(f.id.max, 15);
  assert.equal(f.id.pattern, '^[a-z0-9]+$');
  assert.equal(f.id.autogeneratePattern, '[a-z0-9]{15}');

  assert.deepEqual(
    { type: f.title.type, required: f.title.required, min: f.title.min, max: f.title.max, pattern: f.title.pattern },
    { type: 'text', required: true, min: 2, max: 50, pattern: '^[A-Za-z0-9 ]+$' },
  );
  assert.deepEqual([f.score.type, f.score.min, f.score.max, f.score.onlyInt], ['number', 0, 100, false]);
  assert.equal(f.flag.type, 'bool');
  assert.equal(f.mail.type, 'email');
  assert.equal(f.site.type, 'url');
  assert.equal(f.when.type, 'date');
  assert.deepEqual([f.status.type, f.status.maxSelect, f.status.values], ['select', 1, ['draft', 'published']]);
  assert.deepEqual([f.tags.type, f.tags.maxSelect, f.tags.values], ['select', 3, ['a', 'b', 'c']]);
  assert.equal(f.meta.type, 'json');
  assert.deepEqual(
    [f.author.type, f.author.collectionId, f.author.maxSelect, f.author.cascadeDelete],
    ['relation', authors.id, 1, false],
  );
  assert.deepEqual(
    [f.coauthors.type, f.coauthors.collectionId, f.coauthors.maxSelect, f.coauthors.cascadeDelete],
    ['relation', authors.id, 5, true],
  );
  assert.deepEqual([f.created.type, f.created.onCreate, f.created.onUpdate], ['autodate', true, false]);
  assert.deepEqual([f.updated.type, f.updated.onCreate, f.updated.onUpdate], ['autodate', true, true]);
  assert.equal(f.body.type, 'editor');
});

test('a base collection gets only the `id` field implicitly (no created/updated)', async () => {
  assert.deepEqual(authors.fields.map((f) => f.name), ['id', 'name']);
});

test('field values round-trip through a record with the declared types', async () => {
  const a = await s.pb.collection(authors.name).create({ name: 'Ann' });
  const rec = await s.pb.collection(posts.name).create({
    title: 'Typed', score: 42.5, flag: true, mail: 'x@example.com', site: 'https://example.com/a',
    when: '2024-01-02 03:04:05.678Z', status: 'draft', tags: ['a', 'c'], meta: { k: [1, 'two', null] },
    author: a.id, coauthors: [a.id], body: '<p>Hi</p>',
  });
  assert.equal(rec.score, 42.5);
  assert.equal(rec.flag, true);
  assert.equal(rec.when, '2024-01-02 03:04:05.678Z');
  assert.equal(rec.status, 'draft');
  assert.deepEqual(rec.tags, ['a', 'c']);
  assert.deepEqual(rec.meta, { k: [1, 'two', null] });
  assert.equal(rec.author, a.id);
  assert.deepEqual(rec.coauthors, [a.id]);
  assert.equal(rec.body, '<p>Hi</p>');
  assert.match(rec.created, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(rec.created, rec.updated);
  assert.equal(rec.collectionId, posts.id);
  assert.equal(rec.collectionName, posts.name);

  // deleting the author cascades to the post (coauthors has cascadeDelete)
  await s.pb.collection(authors.name).delete(a.id);
  await expectError(s.pb.collection(posts.name).getOne(rec.id), 404);
});

test('empty values: every field type has a zero value', async () => {
  const rec = await s.pb.collection(posts.name).create({ title: 'Empty' });
  assert.deepEqual(
    {
      score: rec.score, flag: rec.flag, mail: rec.mail, site: rec.site, when: rec.when, status: rec.status,
      tags: rec.tags, meta: rec.meta, author: rec.author, coauthors: rec.coauthors, body: rec.body,
    },
    { score: 0, flag: false, mail: '', site: '', when: '', status: '', tags: [], meta: null, author: '', coauthors: [], body: '' },
  );
});

test('the unique index is enforced as a validation_not_unique error', async () => {
  await s.pb.collection(posts.name).create({ title: 'Only once' });
  const body = await expectError(s.pb.collection(posts.name).create({ title: 'Only once' }), 400);
  assert.equal(body.data.title.code, 'validation_not_unique');
});

test('getOne by name and by id return the same collection', async () => {
  const one = await s.pb.collections.getOne(posts.name);
  const two = await s.pb.collections.getOne(posts.id);
  assert.deepEqual(one, two);
  assert.deepEqual(one.fields, posts.fields);
  await expectError(s.pb.collections.getOne('no_such_collection_' + s.suffix), 404);
});

test('getList returns the list envelope and can be filtered by name', async () => {
  const list = await s.pb.collections.getList(1, 10, { filter: `name ~ "${s.suffix}"`, sort: 'name' });
  assert.deepEqual(Object.keys(list).sort(), ['items', 'page', 'perPage', 'totalItems', 'totalPages']);
  assert.equal(list.page, 1);
  assert.equal(list.perPage, 10);
  assert.deepEqual(list.items.map((c) => c.name), [authors.name, posts.name].sort());
  assert.equal(list.totalItems, 2);
});

test('getFullList includes our collections and the system _superusers', async () => {
  const all = await s.pb.collections.getFullList();
  const names = all.map((c) => c.name);
  assert.ok(names.includes(posts.name));
  assert.ok(names.includes('_superusers'));
  const su = all.find((c) => c.name === '_superusers');
  assert.equal(su.type, 'auth');
  assert.equal(su.system, true);
});

test('update: add a field, rename a field (data kept), change a rule, rename the collection', async () => {
  const col = await s.pb.collection(authors.name).create({ name: 'Keep me' });
  const fields = authors.fields.map((f) => (f.name === 'name' ? { ...f, name: 'fullName' } : f));
  fields.push({ name: 'age', type: 'number' });
  const newName = s.name('writers');
  const updated = await s.pb.collections.update(authors.id, { name: newName, fields, listRule: 'age > 0' });
  assert.equal(updated.id, authors.id);
  assert.equal(updated.name, newName);
  assert.equal(updated.listRule, 'age > 0');
  assert.deepEqual(updated.fields.map((f) => f.name), ['id', 'fullName', 'age']);
  const renamed = updated.fields.find((f) => f.name === 'fullName');
  assert.equal(renamed.id, authors.fields.find((f) => f.name === 'name').id, 'field id is stable across a rename');

  const rec = await s.pb.collection(newName).getOne(col.id);
  assert.equal(rec.fullName, 'Keep me');
  assert.equal(rec.age, 0);
  assert.equal(rec.name, undefined);
  // the old name is gone
  await expectError(s.pb.collection(authors.name).getList(), 404);
  // the relation in posts still points to it by id
  const p = await s.pb.collections.getOne(posts.id);
  assert.equal(p.fields.find((f) => f.name === 'author').collectionId, authors.id);
  authors = updated;
});

test('invalid collection definitions fail with field-level errors', async () => {
  const body = await expectError(
    s.pb.collections.create({
      name: s.name('bad'),
      type: 'base',
      fields: [{ name: 'tags', type: 'select', maxSelect: 3, values: ['only'] }],
    }),
    400,
  );
  assert.ok(body.data.fields, JSON.stringify(body));
  const dup = await expectError(s.pb.collections.create({ name: authors.name, type: 'base' }), 400);
  assert.equal(dup.data.name.code, 'validation_collection_name_exists');
});

test('an index that is not a CREATE INDEX is refused with data.indexes, and nothing is stored', async () => {
  const name = s.name('badidx');
  const fields = [{ name: 'title', type: 'text' }];
  const created = await expectError(
    s.pb.collections.create({
      name,
      type: 'base',
      fields,
      indexes: [`CREATE INDEX idx_${name}_title ON ${name} (title)`, `DROP TABLE ${posts.name}`],
    }),
    400,
  );
  assert.ok(created.data.indexes, JSON.stringify(created));
  assert.equal(created.data.indexes['1'].code, 'validation_invalid_index_expression');
  assert.equal(created.data.indexes['0'], undefined);
  await expectError(s.pb.collections.getOne(name), 404);

  const c = await s.collection({ name: 'goodidx', fields });
  for (const index of ['CREATE INDEX', `CREATE INDEX i ON ${c.name} (title); DROP TABLE ${posts.name}`]) {
    const updated = await expectError(s.pb.collections.update(c.id, { indexes: [index] }), 400);
    assert.equal(updated.data.indexes['0'].code, 'validation_invalid_index_expression', index);
  }
  assert.deepEqual((await s.pb.collections.getOne(c.id)).indexes, []);
  // the table the statements named is still there
  assert.equal((await s.pb.collection(posts.name).getList()).page, 1);
});

test('truncate removes every record but keeps the collection', async () => {
  const c = await s.collection({ name: 'trunc', fields: [{ name: 'v', type: 'number' }] });
  for (let i = 0; i < 3; i++) await s.pb.collection(c.name).create({ v: i });
  assert.equal((await s.pb.collection(c.name).getList()).totalItems, 3);
  assert.equal(await s.pb.collections.truncate(c.name), true);
  assert.equal((await s.pb.collection(c.name).getList()).totalItems, 0);
  assert.equal((await s.pb.collections.getOne(c.id)).name, c.name);
});

test('delete removes the collection; its records endpoint is then 404', async () => {
  const c = await s.collection({ name: 'gone', fields: [{ name: 'v', type: 'number' }] });
  assert.equal(await s.pb.collections.delete(c.id), true);
  await expectError(s.pb.collections.getOne(c.id), 404);
  await expectError(s.pb.collection(c.name).getList(), 404);
});

test('collections API needs a superuser', async () => {
  const anon = anonClient();
  await expectError(anon.collections.getList(), 401);
  await expectError(anon.collections.create({ name: s.name('nope'), type: 'base' }), 401);
});

test('a view collection exposes the rows of its query, read-only', async () => {
  const P = s.pb.collection(posts.name);
  await P.create({ title: 'View one', score: 10, flag: true });
  await P.create({ title: 'View two', score: 20, flag: true });
  await P.create({ title: 'Hidden', score: 30, flag: false });
  const view = await s.collection({
    name: 'flagged',
    type: 'view',
    listRule: '',
    viewRule: '',
    viewQuery: `SELECT id, title, score FROM ${posts.name} WHERE flag = 1`,
  });
  assert.equal(view.type, 'view');
  assert.equal(view.viewQuery, `SELECT id, title, score FROM ${posts.name} WHERE flag = 1`);
  assert.deepEqual(view.fields.map((f) => f.name), ['id', 'title', 'score']);
  const f = byName(view);
  assert.equal(f.title.type, 'text', 'a plain column keeps its source field type');
  assert.equal(f.score.type, 'number');
  assert.deepEqual(view.indexes, []);

  const rows = await anonClient().collection(view.name).getFullList({ sort: 'score' });
  assert.deepEqual(rows.map((r) => [r.title, r.score]), [['View one', 10], ['View two', 20]]);
  assert.equal(rows[0].collectionName, view.name);
  const one = await anonClient().collection(view.name).getOne(rows[0].id);
  assert.equal(one.title, 'View one');
  // filters work on views like on tables
  const filtered = await s.pb.collection(view.name).getFullList({ filter: 'score > 15' });
  assert.deepEqual(filtered.map((r) => r.title), ['View two']);
  // views are read-only
  const err = await expectError(s.pb.collection(view.name).create({ title: 'no' }), 400);
  assert.equal(typeof err.message, 'string');
  // a view has no indexes of its own
  const withIndex = await expectError(
    s.pb.collections.create({
      name: s.name('indexed'),
      type: 'view',
      viewQuery: `SELECT id, title FROM ${posts.name}`,
      indexes: [`CREATE INDEX idx_${s.suffix}_v ON ${s.name('indexed')} (title)`],
    }),
    400,
  );
  assert.equal(withIndex.data.indexes?.code, 'validation_indexes_not_supported');
  // a view without an id column is rejected
  await expectError(
    s.pb.collections.create({ name: s.name('noid'), type: 'view', viewQuery: `SELECT title FROM ${posts.name}` }),
    400,
  );
});

// Collections import (pb.collections.import), never with deleteMissing here:
// the other files' collections live on the same server.
test('import creates collections, then updates one and keeps what it leaves out', async () => {
  const authorsId = `pbc_ia${s.suffix}`;
  const booksId = `pbc_ib${s.suffix}`;
  const done = await s.pb.collections.import([
    { id: authorsId, name: s.name('iauthors'), type: 'base', listRule: '', fields: [{ name: 'name', type: 'text' }] },
    {
      id: booksId,
      name: s.name('ibooks'),
      type: 'base',
      fields: [
        { name: 'title', type: 'text', required: true },
        { name: 'author', type: 'relation', collectionId: authorsId, maxSelect: 1 },
      ],
    },
  ], false);
  assert.equal(done, true);
  s.created.push(authorsId, booksId);
  const books = await s.pb.collections.getOne(booksId);
  assert.equal(byName(books).author.collectionId, authorsId);
  const ada = await s.pb.collection(authorsId).create({ name: 'Ada' });

  // A second import adds a field to authors; its `name` field stays (no deleteMissing).
  await s.pb.collections.import([{ id: authorsId, name: s.name('iauthors'), fields: [{ name: 'bio', type: 'text' }] }]);
  const authors = await s.pb.collections.getOne(authorsId);
  assert.deepEqual(Object.keys(byName(authors)).sort(), ['bio', 'id', 'name']);
  assert.equal((await s.pb.collection(authorsId).getOne(ada.id)).name, 'Ada', 'records stay');

  // Importing what was read back changes nothing.
  const { created, updated, ...again } = authors;
  assert.equal(await s.pb.collections.import([again]), true);
  const after = await s.pb.collections.getOne(authorsId);
  assert.deepEqual(after.fields, authors.fields);
  assert.equal(after.listRule, '');
});

test('a bad import is refused whole, in PocketBase\'s shape', async () => {
  const empty = await expectError(s.pb.collections.import([]), 400);
  assert.equal(empty.data.collections?.code, 'validation_required', JSON.stringify(empty));

  const good = s.name('igood');
  const bad = await expectError(
    s.pb.collections.import([
      { name: good, type: 'base', fields: [{ name: 'a', type: 'text' }] },
      { name: s.name('ibad'), type: 'base', fields: [{ name: 'a', type: 'relation', collectionId: 'no_such_collection' }] },
    ]),
    400,
  );
  assert.equal(bad.message, 'Failed to import collections.');
  assert.equal(bad.data.collections?.code, 'validation_collections_import_failure', JSON.stringify(bad));
  await expectError(s.pb.collections.getOne(good), 404);

  await expectError(anonClient().collections.import([{ name: s.name('ianon'), type: 'base' }]), 401);
});
