// Health endpoint and the 404 shape of unknown routes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonClient, expectError, rawFetch } from './support.mjs';

test('pb.health.check() answers 200 with the canonical body', async () => {
  const pb = anonClient();
  const res = await pb.health.check();
  assert.deepEqual(res, { code: 200, message: 'API is healthy.', data: {} });
});

test('GET /api/health is JSON', async () => {
  const res = await rawFetch('/api/health');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.deepEqual(res.json, { code: 200, message: 'API is healthy.', data: {} });
});

test('an unknown API route is a ClientResponseError 404 with {status, message, data:{}}', async () => {
  const pb = anonClient();
  const body = await expectError(pb.send('/api/definitely-not-a-route', {}), 404);
  assert.deepEqual(body.data, {});
});

test('an unknown nested route below a collection is 404 too', async () => {
  const res = await rawFetch('/api/collections/whatever/no-such-thing');
  assert.equal(res.status, 404);
  assert.deepEqual(Object.keys(res.json).sort(), ['data', 'message', 'status']);
  assert.equal(res.json.status, 404);
});
