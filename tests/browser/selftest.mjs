#!/usr/bin/env node
// Checks the browser harness itself against fake_poker.mjs: the scenario must pass on
// the honest fake, and must fail, naming the secrecy check, when the fake shows cards
// (FAKE_LEAK=1) or results (FAKE_LEAK=results) before reveal. A test that cannot fail
// would pass all three.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const run = (env, combos) => spawnSync(process.execPath, ['run.mjs', ...combos], {
  cwd: HERE, encoding: 'utf8', timeout: 180_000,
  env: { ...process.env, POKER_BIN: path.join(HERE, 'fake_poker.mjs'), BROWSER_STEP_TIMEOUT_MS: '5000', ...env },
});

// The four room combinations; host-tools needs the real binary (superusers, admin API).
const honest = run({}, ['en-desktop', 'en-phone', 'fr-desktop', 'fr-phone']);
const leaky = run({ FAKE_LEAK: '1' }, ['en-desktop']);
const early = run({ FAKE_LEAK: 'results' }, ['fr-phone']);
const problems = [];
if (honest.status !== 0) problems.push(`the honest fake failed (exit ${honest.status}):\n${honest.stderr}`);
if (leaky.status !== 1 || !/cards stay secret/.test(leaky.stderr)) {
  problems.push(`the leaky fake did not fail the secrecy step (exit ${leaky.status}):\n${leaky.stderr}`);
}
if (early.status !== 1 || !/sees results before reveal/.test(early.stderr)) {
  problems.push(`the fake showing results early did not fail (exit ${early.status}):\n${early.stderr}`);
}
if (problems.length) {
  console.error(`[selftest] FAIL\n${problems.join('\n')}`);
  process.exit(1);
}
console.error('[selftest] ok: passes on the honest fake, catches both leaking ones');
