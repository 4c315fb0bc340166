// Cron jobs through the official SDK (pb.crons), superusers only. Written to
// hold on PocketBase too: only the jobs both have are asserted, and no job
// that changes data is run (a scheduled backup would show up in ops.test's
// backup list, which runs alongside).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminClient, anonClient, expectError } from './support.mjs';

const SHARED = ['__pbDBOptimize__', '__pbLogsCleanup__', '__pbOTPCleanup__'];

test('pb.crons.getFullList() lists the built-in jobs as {id, expression}', async () => {
  const pb = await adminClient();
  const jobs = await pb.crons.getFullList();
  const ids = jobs.map((j) => j.id);
  for (const id of SHARED) assert.ok(ids.includes(id), `${id} in ${JSON.stringify(ids)}`);
  for (const job of jobs) {
    assert.deepEqual(Object.keys(job).sort(), ['expression', 'id'], JSON.stringify(job));
    assert.equal(job.expression.split(' ').length, 5, JSON.stringify(job));
  }
  const byId = Object.fromEntries(jobs.map((j) => [j.id, j.expression]));
  assert.equal(byId.__pbLogsCleanup__, '0 */6 * * *');
  assert.equal(byId.__pbDBOptimize__, '0 0 * * *');
  assert.equal(byId.__pbOTPCleanup__, '0 * * * *');
  // The built-in `__pb…` jobs come last.
  const firstBuiltin = ids.findIndex((id) => id.startsWith('__pb'));
  assert.ok(ids.slice(firstBuiltin).every((id) => id.startsWith('__pb')), JSON.stringify(ids));
});

test('a backup schedule adds __pbAutoBackup__ with its expression (macros expanded)', async () => {
  const pb = await adminClient();
  const before = (await pb.settings.getAll()).backups;
  try {
    const saved = await pb.settings.update({ backups: { cron: '@weekly', cronMaxKeep: 2 } });
    assert.equal(saved.backups.cron, '@weekly');
    assert.equal(saved.backups.cronMaxKeep, 2);
    const jobs = await pb.crons.getFullList();
    const auto = jobs.find((j) => j.id === '__pbAutoBackup__');
    assert.deepEqual(auto, { id: '__pbAutoBackup__', expression: '0 0 * * 0' });
    const bad = await expectError(pb.settings.update({ backups: { cron: 'sometimes' } }), 400);
    assert.equal(bad.data.backups?.cron?.code, 'validation_invalid_cron', JSON.stringify(bad));
  } finally {
    await pb.settings.update({ backups: { cron: before.cron, cronMaxKeep: before.cronMaxKeep } });
  }
  const jobs = await pb.crons.getFullList();
  if (!before.cron) assert.ok(!jobs.some((j) => j.id === '__pbAutoBackup__'), JSON.stringify(jobs));
});

test('pb.crons.run() starts a job (204) and an unknown id is a 404', async () => {
  const pb = await adminClient();
  assert.equal(await pb.crons.run('__pbDBOptimize__'), true);
  const missing = await expectError(pb.crons.run('noSuchJob'), 404);
  assert.equal(missing.message, 'Missing or invalid cron job.');
});

test('guests get 401 from the cron endpoints', async () => {
  const pb = anonClient();
  await expectError(pb.crons.getFullList(), 401);
  await expectError(pb.crons.run('__pbDBOptimize__'), 401);
});
