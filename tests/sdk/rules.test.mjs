// API rules: null = superusers only, "" = everyone, expressions = row filters / body checks.
//
// Structured by actor so user (auth-collection) cases can be added later: add an entry to
// ACTORS (e.g. `user: async () => clientLoggedInAs(...)`) and rows to the tables below.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Scope, anonClient, expectError, newId } from './support.mjs';

const s = new Scope('rul');
const C = {}; // logical name → collection
const R = {}; // seeded record ids

const ACTORS = {
  anonymous: async () => anonClient(),
  superuser: async () => s.pb,
  // user: async () => ..., // TODO: once auth collections exist in litebase
};

const SUPERUSERS_ONLY = 'Only superusers can perform this action.';

before(async () => {
  await s.init();
  const fields = [
    { name: 'title', type: 'text' },
    { name: 'public', type: 'bool' },
    { name: 'n', type: 'number' },
  ];
  C.locked = await s.collection({ name: 'locked', fields }); // every rule null
  C.open = await s.collection({
    name: 'open', fields, listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '',
  });
  C.expr = await s.collection({
    name: 'expr',
    fields,
    listRule: 'public = true',
    viewRule: 'public = true',
    createRule: '@request.body.title != "forbidden" && @request.body.n < 10',
    updateRule: 'public = true && @request.body.n:isset = false',
    deleteRule: 'public = true && n < 5',
  });
  C.members = await s.collection({
    name: 'members',
    fields,
    listRule: '@request.auth.id != ""',
    viewRule: '@request.auth.id != ""',
    createRule: '@request.auth.id != ""',
    updateRule: '@request.auth.id != ""',
    deleteRule: '@request.auth.id != ""',
  });
  for (const c of ['locked', 'open', 'members']) {
    R[c] = (await s.pb.collection(C[c].name).create({ title: `${c} row`, public: true, n: 1 })).id;
  }
  R.pub = (await s.pb.collection(C.expr.name).create({ title: 'pub', public: true, n: 1 })).id;
  R.pub9 = (await s.pb.collection(C.expr.name).create({ title: 'pub9', public: true, n: 9 })).id;
  R.priv = (await s.pb.collection(C.expr.name).create({ title: 'priv', public: false, n: 1 })).id;
});
after(() => s.cleanup());

describe('null rules: superusers only', () => {
  test('anonymous gets 403 with the superusers-only message on every operation', async () => {
    const pb = await ACTORS.anonymous();
    const L = pb.collection(C.locked.name);
    for (const call of [
      () => L.getList(),
      () => L.getOne(R.locked),
      () => L.getOne(newId()), // even for a record that does not exist
      () => L.create({ title: 'x' }),
      () => L.update(R.locked, { title: 'x' }),
      () => L.update(newId(), { title: 'x' }),
      () => L.delete(R.locked),
    ]) {
      const body = await expectError(call(), 403);
      assert.equal(body.message, SUPERUSERS_ONLY);
      assert.deepEqual(body.data, {});
    }
    assert.equal((await s.pb.collection(C.locked.name).getOne(R.locked)).title, 'locked row', 'nothing changed');
  });

  test('the superuser may do everything', async () => {
    const L = (await ACTORS.superuser()).collection(C.locked.name);
    assert.equal((await L.getList()).totalItems, 1);
    const r = await L.create({ title: 'by su' });
    assert.equal((await L.update(r.id, { title: 'by su 2' })).title, 'by su 2');
    assert.equal(await L.delete(r.id), true);
  });
});

describe('empty rules: everyone', () => {
  for (const actor of Object.keys(ACTORS)) {
    test(`${actor} can list, view, create, update, delete`, async () => {
      const O = (await ACTORS[actor]()).collection(C.open.name);
      const list = await O.getList();
      assert.ok(list.totalItems >= 1);
      assert.equal((await O.getOne(R.open)).title, 'open row');
      const r = await O.create({ title: `by ${actor}` });
      assert.equal((await O.update(r.id, { n: 2 })).n, 2);
      assert.equal(await O.delete(r.id), true);
    });
  }
});

describe('expression rules', () => {
  test('list: the rule filters rows (no error), and totals count only visible rows', async () => {
    const E = anonClient().collection(C.expr.name);
    const list = await E.getList(1, 30, { sort: 'title' });
    assert.deepEqual(list.items.map((r) => r.title), ['pub', 'pub9']);
    assert.equal(list.totalItems, 2);
    // a user filter is ANDed with the rule
    const none = await E.getList(1, 30, { filter: 'title = "priv"' });
    assert.deepEqual(none.items, []);
    assert.equal(none.totalItems, 0);
    const some = await E.getList(1, 30, { filter: 'n > 5' });
    assert.deepEqual(some.items.map((r) => r.title), ['pub9']);
  });

  test('view of a hidden row → 404 (not 403)', async () => {
    const E = anonClient().collection(C.expr.name);
    assert.equal((await E.getOne(R.pub)).title, 'pub');
    const body = await expectError(E.getOne(R.priv), 404);
    assert.deepEqual(body.data, {});
  });

  test('create rejected by the rule → 400 "Failed to create record." with empty data', async () => {
    const E = anonClient().collection(C.expr.name);
    for (const payload of [{ title: 'forbidden', n: 1 }, { title: 'big', n: 11 }, {}]) {
      const body = await expectError(E.create(payload), 400);
      assert.equal(body.message, 'Failed to create record.');
      assert.deepEqual(body.data, {});
    }
    const ok = await E.create({ title: 'allowed', n: 2 });
    assert.equal(ok.title, 'allowed');
    assert.equal(ok.public, false);
    // it was created, but the creator cannot read it back (viewRule: public = true)
    await expectError(E.getOne(ok.id), 404);
    await s.pb.collection(C.expr.name).delete(ok.id);
  });

  test('the rule sees the body after type coercion ("abc" as a number is 0 < 10)', async () => {
    const r = await anonClient().collection(C.expr.name).create({ title: 'coerced', n: 'abc' });
    assert.equal(r.n, 0);
    await s.pb.collection(C.expr.name).delete(r.id);
  });

  test('update: hidden row → 404; a rule failing on the body → 404 as well', async () => {
    const E = anonClient().collection(C.expr.name);
    await expectError(E.update(R.priv, { title: 'x' }), 404);
    await expectError(E.update(R.pub, { n: 3 }), 404); // @request.body.n:isset = false
    await expectError(E.update(newId(), { title: 'x' }), 404);
    const ok = await E.update(R.pub, { title: 'pub (edited)' });
    assert.equal(ok.title, 'pub (edited)');
    assert.equal((await s.pb.collection(C.expr.name).getOne(R.priv)).title, 'priv', 'hidden row untouched');
    await s.pb.collection(C.expr.name).update(R.pub, { title: 'pub' });
  });

  test('delete: hidden row or failing condition → 404', async () => {
    const E = anonClient().collection(C.expr.name);
    await expectError(E.delete(R.priv), 404);
    await expectError(E.delete(R.pub9), 404); // n < 5 fails
    await expectError(E.delete(newId()), 404);
    const tmp = await s.pb.collection(C.expr.name).create({ title: 'tmp', public: true, n: 1 });
    assert.equal(await E.delete(tmp.id), true);
    await expectError(s.pb.collection(C.expr.name).getOne(tmp.id), 404);
  });

  test('the superuser bypasses expression rules', async () => {
    const E = (await ACTORS.superuser()).collection(C.expr.name);
    assert.deepEqual((await E.getFullList({ sort: 'title' })).map((r) => r.title), ['priv', 'pub', 'pub9']);
    assert.equal((await E.getOne(R.priv)).title, 'priv');
    const r = await E.create({ title: 'forbidden', n: 50 });
    assert.equal((await E.update(r.id, { n: 60 })).n, 60);
    assert.equal(await E.delete(r.id), true);
  });
});

describe('@request.auth rules (guest side; user cases come with auth collections)', () => {
  test('anonymous: list is an empty page, view/update/delete 404, create 400', async () => {
    const M = anonClient().collection(C.members.name);
    const list = await M.getList();
    assert.deepEqual(list.items, []);
    assert.equal(list.totalItems, 0);
    await expectError(M.getOne(R.members), 404);
    await expectError(M.update(R.members, { title: 'x' }), 404);
    await expectError(M.delete(R.members), 404);
    const body = await expectError(M.create({ title: 'x' }), 400);
    assert.equal(body.message, 'Failed to create record.');
  });

  test('superuser passes @request.auth.id != ""', async () => {
    const M = (await ACTORS.superuser()).collection(C.members.name);
    assert.equal((await M.getList()).totalItems, 1);
    assert.equal((await M.getOne(R.members)).title, 'members row');
  });
});

test('rules are returned and updatable through the collections API', async () => {
  const c = await s.pb.collections.getOne(C.expr.id);
  assert.equal(c.listRule, 'public = true');
  assert.equal(c.createRule, '@request.body.title != "forbidden" && @request.body.n < 10');
  const u = await s.pb.collections.update(C.locked.id, { listRule: '' });
  assert.equal(u.listRule, '');
  assert.equal(u.viewRule, null);
  assert.equal((await anonClient().collection(C.locked.name).getList()).totalItems, 1);
  await expectError(anonClient().collection(C.locked.name).getOne(R.locked), 403);
  await s.pb.collections.update(C.locked.id, { listRule: null });
  await expectError(anonClient().collection(C.locked.name).getList(), 403);
});

test('an invalid rule expression is rejected when saving the collection', async () => {
  const body = await expectError(
    s.pb.collections.create({ name: s.name('badrule'), type: 'base', listRule: 'nope = 1', fields: [{ name: 'title', type: 'text' }] }),
    400,
  );
  assert.ok(body.data.listRule, JSON.stringify(body));
  assert.equal(typeof body.data.listRule.code, 'string');
});
