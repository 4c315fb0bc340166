// Outgoing webhooks through the official SDK (`pb.send`): litebase's extra, so the
// file is skipped against PocketBase, which has none (its issue #317). A receiver
// on loopback checks the signature the way a Node service would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Scope, TARGET, expectError } from './support.mjs';

const skip = TARGET === 'pocketbase' ? 'PocketBase has no outgoing webhooks' : false;
const s = new Scope('whk');
const SECRET = 'sdk-webhook-secret-0123456789';
const got = [];
let receiver;
let url;

before(async () => {
  if (skip) return;
  await s.init();
  receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.end('ok');
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${receiver.address().port}/hook`;
});
after(async () => {
  if (skip) return;
  await s.cleanup();
  receiver.close();
});

function verified({ headers, body }) {
  const ts = headers['x-litebase-timestamp'];
  const expected = 'sha256=' + createHmac('sha256', SECRET).update(`${ts}.`).update(body).digest('hex');
  const given = String(headers['x-litebase-signature'] || '');
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

async function until(check, ms = 10_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail('timed out');
}

test('a webhook set up with pb.send receives each create, signed', { skip }, async () => {
  const c = await s.collection({ name: 'items', createRule: '', fields: [{ name: 'title', type: 'text' }] });
  const hook = await s.pb.send('/api/webhooks', {
    method: 'POST', body: { collection: c.name, url, actions: ['create'], secret: SECRET },
  });
  try {
    assert.equal(hook.collection, c.id);
    const listed = await s.pb.send('/api/webhooks', {});
    assert.ok(listed.some((w) => w.id === hook.id));
    const rec = await s.pb.collection(c.name).create({ title: 'hello' });
    await until(() => got.length >= 1);
    assert.ok(verified(got[0]), 'the signature matches');
    const event = JSON.parse(got[0].body);
    assert.deepEqual(Object.keys(event), ['action', 'record']);
    assert.equal(event.action, 'create');
    assert.equal(event.record.id, rec.id);
    assert.equal(event.record.title, 'hello');
    assert.equal(event.record.collectionName, c.name);
    const log = await s.pb.send(`/api/webhooks/${hook.id}/deliveries`, {});
    assert.equal(log.totalItems, 1);
  } finally {
    await s.pb.send(`/api/webhooks/${hook.id}`, { method: 'DELETE' });
  }
});

test('bad webhooks get the error shape, strangers are refused', { skip }, async () => {
  const body = await expectError(
    s.pb.send('/api/webhooks', { method: 'POST', body: { collection: 'nope', url: 'x', actions: [] } }),
    400,
  );
  assert.ok(body.data.collection && body.data.url && body.data.actions, JSON.stringify(body.data));
  const { anonClient } = await import('./support.mjs');
  await expectError(anonClient().send('/api/webhooks', {}), 401);
});
