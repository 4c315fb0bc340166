#!/usr/bin/env node
// The differential authorization matrix: the real PocketBase 0.40.6 and litebase
// side by side, the same schema, data and requests (cases.mjs) sent by a guest,
// two users and a superuser. PocketBase's answers are the expectations.
//
// Two checks per cell:
// - **same answer**: litebase's normalized answer (status, and the records, or the
//   error's `data` codes) equals PocketBase's;
// - **no leak**: every read is sent twice by the guest and by Alice, and between the
//   two passes the superuser changes only data they may not see (schema.mjs,
//   SECRET_CHANGES). Any answer that changes is a leak. A leak in PocketBase itself
//   is reported; in litebase it fails the run. Where PocketBase leaks, litebase's
//   expectation is "no leak" instead of PocketBase's answer.
//
//   node run.mjs            (needs `pocketbase` on PATH and target/debug/poker)
//   AUTHZ_VERBOSE=1 node run.mjs   also prints every cell
//
// Exit code 0 only when every cell matches and litebase leaks nothing.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventSource } from 'eventsource';
import PocketBase from 'pocketbase';

import { ADMIN_EMAIL, ADMIN_PASSWORD, logTail, startLitebase, startPocketBase } from './servers.mjs';
import { LEAK_PASSES, USERS, seed } from './schema.mjs';
import { EXPECTED_DIFFERENCES, IDENTITIES, REALTIME_WRITES, SUBSCRIPTIONS, readRequests, writeRequests } from './cases.mjs';

globalThis.EventSource = EventSource;

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../../..');
const VERBOSE = !!process.env.AUTHZ_VERBOSE;
const GLOBAL_TIMEOUT_MS = Number(process.env.AUTHZ_TIMEOUT_MS || 300_000);
const log = (...a) => console.error('[authz]', ...a);

/** An SDK client for one identity on one server. */
async function clientFor(server, who) {
  const pb = new PocketBase(server.url);
  pb.autoCancellation(false);
  pb.__target = server.name;
  if (who === 'superuser') await pb.collection('_superusers').authWithPassword(ADMIN_EMAIL, ADMIN_PASSWORD);
  else if (who !== 'guest') await pb.collection('users').authWithPassword(USERS[who].email, USERS[who].password);
  return pb;
}

/**
 * A record (or any JSON) without what differs between two servers by nature:
 * timestamps, and the order of object keys.
 */
function normRecord(r) {
  if (Array.isArray(r)) return r.map(normRecord);
  if (!r || typeof r !== 'object') return r;
  const out = {};
  for (const k of Object.keys(r).sort()) {
    if (k === 'created' || k === 'updated') continue;
    out[k] = normRecord(r[k]);
  }
  return out;
}

/** The comparable part of an answer: status, then records or error codes. */
function normAnswer(status, body) {
  if (status >= 400 || status === 0) {
    const data = body && typeof body.data === 'object' && body.data ? body.data : {};
    const shape = body && Object.keys(body).sort().join(',') === 'data,message,status' ? 'pb-error' : `bad error body ${JSON.stringify(body)}`;
    return { status, shape, data: codes(data) };
  }
  if (body && Array.isArray(body.items)) {
    return { status, page: body.page, perPage: body.perPage, totalItems: body.totalItems, totalPages: body.totalPages, items: body.items.map(normRecord) };
  }
  if (Array.isArray(body)) return { status, batch: body.map((x) => ({ status: x.status, body: x.body && normRecord(x.body) })) };
  // an auth answer: the record (tokens differ by nature; their claims are checked by the SDK suite)
  if (body && typeof body.token === 'string' && body.record) return { status, record: normRecord(body.record), meta: body.meta };
  return { status, body: normRecord(body) };
}

function codes(data) {
  const out = {};
  for (const k of Object.keys(data).sort()) {
    const v = data[k];
    out[k] = v && typeof v === 'object' && 'code' in v ? v.code : codes(v && typeof v === 'object' ? v : {});
  }
  return out;
}

async function send(pb, req) {
  try {
    const body = await pb.send(req.path, { method: req.method, query: req.query, body: req.body });
    const answer = normAnswer(req.method === 'DELETE' ? 204 : 200, body);
    // Without a sort, neither server promises an order.
    if (answer.items && !req.query?.sort) answer.items.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return answer;
  } catch (e) {
    return normAnswer(e.status ?? 0, e.response);
  }
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

async function runReads(clients, identities, { leakPass = false } = {}) {
  const out = {};
  for (const req of readRequests()) {
    if (leakPass && req.leakCheck === false) continue;
    for (const who of identities) out[`${req.key} | ${who}`] = await send(clients[who], req);
  }
  return out;
}

async function runWrites(clients) {
  const out = {};
  for (const w of writeRequests()) {
    for (const who of IDENTITIES) {
      out[`write ${w.key} | ${who}`] = await send(clients[who], w.make(who));
      out[`write ${w.key} | ${who} → stored`] = await send(clients.superuser, w.check(who));
    }
  }
  return out;
}

async function runRealtime(server, clients, identities) {
  const got = {};
  const subs = [];
  for (const who of identities) {
    for (const s of SUBSCRIPTIONS) {
      // one client per subscription, so each has its own options and connection
      const pb = await clientFor(server, who);
      const key = `realtime ${s.key} | ${who}`;
      got[key] = [];
      try {
        await pb.collection(s.collection).subscribe(s.topic, (e) => got[key].push(`${e.action} ${e.record?.id} ${JSON.stringify(normRecord(e.record))}`), s.options ?? {});
        subs.push(pb);
      } catch (e) {
        got[key].push(`subscribe failed ${e.status}`);
        pb.realtime.unsubscribe().catch(() => {});
      }
    }
  }
  await new Promise((r) => setTimeout(r, 300));
  for (const [c, id, body] of REALTIME_WRITES) await clients.superuser.collection(c).update(id, body);
  await new Promise((r) => setTimeout(r, 1500));
  for (const pb of subs) await pb.realtime.unsubscribe().catch(() => {});
  const out = {};
  for (const [k, events] of Object.entries(got)) out[k] = [...events].sort(); // PocketBase does not keep event order
  return out;
}

/** Applies `changes`; returns the changes that put the old values back. */
async function apply(su, changes) {
  const undo = [];
  for (const [c, id, body] of changes) {
    const before = await su.collection(c).getOne(id);
    undo.unshift([c, id, Object.fromEntries(Object.keys(body).map((k) => [k, before[k]]))]);
    await su.collection(c).update(id, body);
  }
  return undo;
}

async function runServer(server, litebaseSu) {
  const su = await clientFor(server, 'superuser');
  await seed(su, litebaseSu ?? su);
  const clients = { superuser: su };
  for (const who of IDENTITIES) if (who !== 'superuser') clients[who] = await clientFor(server, who);
  const first = { ...(await runRealtime(server, clients, IDENTITIES)), ...(await runReads(clients, IDENTITIES)) };
  const leaks = new Set();
  const changed = {};
  for (const pass of LEAK_PASSES) {
    const undo = await apply(su, pass.changes);
    for (const [c, record] of pass.creates ?? []) await su.collection(c).create(record);
    const again = {
      ...(await runRealtime(server, clients, pass.who)),
      ...(await runReads(clients, pass.who, { leakPass: true })),
    };
    for (const k of Object.keys(again)) {
      if (!same(first[k], again[k]) && !leaks.has(k)) {
        leaks.add(k);
        changed[k] = again[k];
      }
    }
    for (const [c, record] of pass.creates ?? []) await su.collection(c).delete(record.id);
    await apply(su, undo);
  }
  const writes = await runWrites(clients);
  return { cells: { ...first, ...writes }, leaks, pass2: changed };
}

async function main() {
  const root = mkdtempSync(path.join(tmpdir(), 'authz-'));
  const servers = [];
  const timer = setTimeout(() => { log(`global timeout ${GLOBAL_TIMEOUT_MS} ms`); process.exit(124); }, GLOBAL_TIMEOUT_MS);
  let code = 1;
  try {
    const lb = await startLitebase(root, REPO);
    servers.push(lb);
    const pbServer = await startPocketBase(root);
    servers.push(pbServer);
    log(`litebase ${lb.url}, pocketbase ${pbServer.url}`);
    const lbSu = await clientFor(lb, 'superuser');
    const ours = await runServer(lb);
    const ref = await runServer(pbServer, lbSu);
    code = report(ours, ref);
  } catch (e) {
    log(e.stack || String(e));
    for (const s of servers) log(`${s.name} log:\n${logTail(s)}`);
  } finally {
    for (const s of servers) await s.stop();
    clearTimeout(timer);
    if (!process.env.AUTHZ_KEEP) rmSync(root, { recursive: true, force: true });
  }
  process.exit(code);
}

function report(ours, ref) {
  const keys = Object.keys(ref.cells);
  const byWho = {};
  const mismatches = [];
  const stricter = [];
  const explained = [];
  for (const k of keys) {
    const who = k.split(' | ')[1].split(' ')[0];
    byWho[who] ??= { cells: 0, same: 0, stricter: 0, listed: 0, fail: 0 };
    byWho[who].cells++;
    let ok;
    let kind = 'same';
    if (EXPECTED_DIFFERENCES[k]) {
      kind = 'listed';
      const ids = ours.cells[k]?.items?.map((i) => i.id);
      ok = same(ids, EXPECTED_DIFFERENCES[k].ids) && !ours.leaks.has(k);
      explained.push(k);
    } else if (ref.leaks.has(k)) {
      // PocketBase's answer depends on data this identity may not see: the
      // expectation is that litebase's does not.
      ok = !ours.leaks.has(k);
      kind = 'stricter';
      if (ok) stricter.push(k);
    } else {
      ok = same(ours.cells[k], ref.cells[k]);
    }
    byWho[who][ok ? kind : 'fail']++;
    if (!ok) mismatches.push(k);
    if (VERBOSE) console.log(`${ok ? 'ok  ' : 'FAIL'} ${k}\n     ours ${JSON.stringify(ours.cells[k])}\n     pb   ${JSON.stringify(ref.cells[k])}`);
  }
  for (const k of Object.keys(ours.cells)) if (!(k in ref.cells)) mismatches.push(`${k} (only on litebase)`);
  console.log('\n| identity | cells | same answer as PocketBase | PocketBase leaks, litebase does not | listed difference | FAIL |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [who, s] of Object.entries(byWho)) console.log(`| ${who} | ${s.cells} | ${s.same} | ${s.stricter} | ${s.listed} | ${s.fail} |`);
  const total = keys.length;
  console.log(`\n${total} cells; ${total - mismatches.length} pass (${total - stricter.length - explained.length} with PocketBase's very answer); leaks: litebase ${ours.leaks.size}, PocketBase ${ref.leaks.size}.`);
  if (stricter.length) {
    console.log(`\nPocketBase's answer changes with data the caller may not see in ${stricter.length} cell(s); litebase's does not:`);
    for (const k of stricter) console.log(`  - ${k}\n      pocketbase pass 1 ${JSON.stringify(ref.cells[k])}\n      pocketbase changed ${JSON.stringify(ref.pass2[k])}\n      litebase          ${JSON.stringify(ours.cells[k])}`);
  }
  if (explained.length) {
    console.log(`\nExpected differences (cases.mjs, EXPECTED_DIFFERENCES), ${explained.length} cell(s):`);
    for (const k of explained) console.log(`  - ${k}: litebase ${JSON.stringify(ours.cells[k]?.items?.map((i) => i.id))}, PocketBase ${JSON.stringify(ref.cells[k]?.items?.map((i) => i.id))} (${EXPECTED_DIFFERENCES[k].why})`);
  }
  if (ref.leaks.size) {
    console.log('\nPocketBase itself leaks here (its answer changed when only hidden data changed):');
    for (const k of ref.leaks) console.log(`  - ${k}\n      pass 1 ${JSON.stringify(ref.cells[k])}\n      changed ${JSON.stringify(ref.pass2[k])}`);
  }
  if (ours.leaks.size) {
    console.log('\nLEAKS in litebase (the answer changed when only hidden data changed):');
    for (const k of ours.leaks) console.log(`  - ${k}\n      pass 1 ${JSON.stringify(ours.cells[k])}\n      changed ${JSON.stringify(ours.pass2[k])}`);
  }
  if (mismatches.length) {
    console.log(`\n${mismatches.length} cell(s) differ from PocketBase:`);
    for (const k of mismatches) console.log(`  - ${k}\n      litebase   ${JSON.stringify(ours.cells[k])}\n      pocketbase ${JSON.stringify(ref.cells[k])}`);
  }
  writeFileSync(path.join(HERE, 'last-run.json'), JSON.stringify({ ours: ours.cells, pocketbase: ref.cells }, null, 1));
  return mismatches.length === 0 && ours.leaks.size === 0 ? 0 : 1;
}

main();
