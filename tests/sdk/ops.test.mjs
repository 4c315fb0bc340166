// Operations through the official SDK: settings, request logs, backups
// (superusers only). Written to hold on PocketBase too: only fields both share
// are asserted, and backups get generated names (PocketBase's are .zip).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminClient, anonClient, expectError } from './support.mjs';

test('pb.settings.getAll() shows meta and hides the SMTP password', async () => {
  const pb = await adminClient();
  const s = await pb.settings.getAll();
  assert.equal(typeof s.meta.appName, 'string');
  assert.equal(typeof s.meta.appURL, 'string');
  assert.equal(typeof s.smtp.enabled, 'boolean');
  assert.equal(s.smtp.password ?? '', '');
  assert.equal(typeof s.logs.maxDays, 'number');
});

test('pb.settings.update() changes one field and keeps the rest', async () => {
  const pb = await adminClient();
  const before = await pb.settings.getAll();
  const after = await pb.settings.update({ meta: { appName: 'SDK renamed' } });
  assert.equal(after.meta.appName, 'SDK renamed');
  assert.equal(after.meta.appURL, before.meta.appURL);
  const again = await pb.settings.getAll();
  assert.equal(again.meta.appName, 'SDK renamed');
  await pb.settings.update({ meta: { appName: before.meta.appName } });
});

test('pb.settings.update() with a bad URL is a 400 naming meta.appURL', async () => {
  const pb = await adminClient();
  const body = await expectError(pb.settings.update({ meta: { appURL: 'not a url' } }), 400);
  assert.ok(body.data.meta?.appURL?.code, JSON.stringify(body));
});

test('settings.trustedProxy has PocketBase\'s shape and round-trips', async () => {
  const pb = await adminClient();
  const before = await pb.settings.getAll();
  assert.deepEqual(Object.keys(before.trustedProxy).sort(), ['headers', 'useLeftmostIP']);
  assert.ok(Array.isArray(before.trustedProxy.headers), JSON.stringify(before.trustedProxy));
  assert.equal(typeof before.trustedProxy.useLeftmostIP, 'boolean');
  // A header no other test sends, so parallel files keep their addresses.
  const headers = ['X-Sdk-Client-IP', 'X-Forwarded-For'];
  try {
    const saved = await pb.settings.update({ trustedProxy: { headers, useLeftmostIP: true } });
    assert.deepEqual(saved.trustedProxy, { headers, useLeftmostIP: true });
    assert.deepEqual((await pb.settings.getAll()).trustedProxy, { headers, useLeftmostIP: true });
    // A partial update keeps the other key.
    const partial = await pb.settings.update({ trustedProxy: { useLeftmostIP: false } });
    assert.deepEqual(partial.trustedProxy, { headers, useLeftmostIP: false });
    // null is the empty list.
    const cleared = await pb.settings.update({ trustedProxy: { headers: null } });
    assert.deepEqual(cleared.trustedProxy, { headers: [], useLeftmostIP: false });
  } finally {
    await pb.settings.update({ trustedProxy: before.trustedProxy });
  }
});

test('settings.trustedProxy values of the wrong type are a 400 that changes nothing', async () => {
  const pb = await adminClient();
  const before = (await pb.settings.getAll()).trustedProxy;
  for (const trustedProxy of [
    { headers: 'X-Forwarded-For' },
    { headers: [1] },
    { headers: { a: 1 } },
    { useLeftmostIP: 'yes' },
    'X-Forwarded-For',
  ]) {
    const body = await expectError(pb.settings.update({ trustedProxy }), 400);
    assert.deepEqual(body.data, {}, JSON.stringify(trustedProxy));
  }
  assert.deepEqual((await pb.settings.getAll()).trustedProxy, before);
});

test('guests may not read settings, logs or backups', async () => {
  const pb = anonClient();
  await expectError(pb.settings.getAll(), 401);
  await expectError(pb.logs.getList(1, 5), 401);
  await expectError(pb.backups.getFullList(), 401);
});

test('pb.logs.getList() pages request logs in PocketBase\'s shape', async () => {
  const pb = await adminClient();
  await pb.health.check();
  let list;
  for (let i = 0; i < 50; i++) {
    list = await pb.logs.getList(1, 5);
    if (list.items.length > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(list.page, 1);
  assert.equal(list.perPage, 5);
  assert.ok(list.items.length > 0, 'requests were logged');
  const item = list.items[0];
  assert.equal(typeof item.id, 'string');
  assert.equal(typeof item.created, 'string');
  assert.equal(typeof item.data.method, 'string');
  assert.equal(typeof item.data.status, 'number');
  const one = await pb.logs.getOne(item.id);
  assert.equal(one.id, item.id);
  const stats = await pb.logs.getStats();
  assert.ok(Array.isArray(stats) && stats.length > 0 && stats[0].total > 0, JSON.stringify(stats));
});

test('pb.backups create, getFullList, delete', async () => {
  const pb = await adminClient();
  const before = await pb.backups.getFullList();
  await pb.backups.create('');
  const after = await pb.backups.getFullList();
  assert.equal(after.length, before.length + 1);
  const made = after.find((b) => !before.some((o) => o.key === b.key));
  assert.ok(made && made.size > 0 && typeof made.modified === 'string', JSON.stringify(after));
  await pb.backups.delete(made.key);
  assert.equal((await pb.backups.getFullList()).length, before.length);
});
