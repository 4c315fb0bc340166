#!/usr/bin/env node
// `make bench-cluster`: the poker cluster under load on loopback. SeaweedFS (S3),
// NATS, N poker nodes (one shard each, release build) each replicated by its own
// Litestream, a standby for the node that is killed (deploy/cluster/standby.sh),
// M identical HAProxy instances (deploy/cluster/haproxy-cfg.sh, each on its own
// port, all of their runtime APIs known to the standby), then `loadgen ws
// --target …` with several worker processes: P players in R rooms held for the
// hold time, voting at a set rate; a third of the way in, one node is killed with
// SIGKILL (its Litestream survives, as when only the process dies) and its rooms
// must come back on the standby, every player in its seat with every vote it had
// an ack for. Prints loadgen's Markdown table; exits 1 if anything did not hold.
//
//   POKER_BIN=../../target/release/poker LOADGEN_BIN=../../target/release/loadgen \
//     node bench_cluster.mjs [--quick]
//
// Sizes: 100,000 players / 10,000 rooms / 300 s at 500 votes/s by default;
// --quick (or BENCH_CLUSTER_QUICK=1) 3,000 / 300 / 30 s at 100 votes/s.
// BENCH_CLUSTER_PLAYERS, _ROOMS, _HOLD (seconds), _RATE, _NODES, _PROXIES,
// _WORKERS override them. No process here needs more than 20,000 open files: a
// node holds players/N sockets, an HAProxy instance 2 x players/M, a worker
// players/W. BENCH_CLUSTER_KEEP=1 keeps the temp dir (logs).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, waitExit } from './children.mjs';
import {
  createRun, freePorts, haproxyCommand, healthy, litestreamEnv, serverEnv, startSeaweed, startServer, until,
} from './kit.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const POKER_BIN = path.resolve(HERE, process.env.POKER_BIN || '../../target/release/poker');
const LOADGEN_BIN = path.resolve(HERE, process.env.LOADGEN_BIN || '../../target/release/loadgen');
const LITESTREAM = process.env.LITESTREAM_BIN || 'litestream';
const HAPROXY = process.env.HAPROXY_BIN || 'haproxy';
const NATS = process.env.NATS_BIN || 'nats-server';
const CONFIG = path.join(ROOT, 'deploy/litestream.yml');
const BUCKET = 'poker-bench';
const VICTIM = 1; // the shard whose node is killed

const QUICK = process.argv.includes('--quick') || process.env.BENCH_CLUSTER_QUICK === '1';
const num = (name, fallback) => {
  const v = process.env[`BENCH_CLUSTER_${name}`];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`BENCH_CLUSTER_${name}=${v}: want a positive number`);
  return n;
};
const PLAYERS = num('PLAYERS', QUICK ? 3_000 : 100_000);
const ROOMS = num('ROOMS', QUICK ? 300 : 10_000);
const HOLD_S = num('HOLD', QUICK ? 30 : 300);
const RATE = num('RATE', QUICK ? 100 : 500);
// Each node under ~15,000 sockets, each HAProxy under ~8,500 clients (two files
// each), each worker under ~14,000: all well inside 20,000 open files.
const NODES = num('NODES', Math.max(3, Math.ceil(PLAYERS / 15_000)));
const PROXIES = num('PROXIES', Math.max(2, Math.ceil(PLAYERS / 8_500)));
const WORKERS = num('WORKERS', Math.max(2, Math.ceil(PLAYERS / 14_000)));
const SOURCES = 16; // 127.0.0.2 … 127.0.0.17: ~6,300 ports each at 100,000 players
const RECONNECT_S = 120;
const MAXCONN = Math.ceil(PLAYERS / PROXIES) + 500;

const run = createRun({
  tag: 'bench-cluster',
  timeoutMs: (HOLD_S + (QUICK ? 360 : 1500)) * 1000,
  keepVar: 'BENCH_CLUSTER_KEEP',
});
const { log, check, tmpRoot, runSync, spawnChild } = run;
const replicaPrefix = (n) => `bench/shard-${n}`;

/** Whether every shard's primary is up (op state 2) in the HAProxy at `admin`. */
async function primariesUp(admin, shards) {
  const text = await haproxyCommand(admin, 'show servers state');
  // Columns: be_id be_name srv_id srv_name srv_addr srv_op_state ...
  const up = new Set();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length > 6 && f[3] === 'primary' && f[5] === '2') up.add(f[1]);
  }
  return shards.every((n) => up.has(`shard_${n}`));
}

async function main() {
  for (const bin of [POKER_BIN, LOADGEN_BIN]) {
    if (!existsSync(bin)) throw new Error(`${bin} not found: cargo build --release -p poker -p loadgen`);
  }
  for (const [bin, args] of [[LITESTREAM, ['version']], [HAPROXY, ['-v']], [NATS, ['--version']], ['curl', ['--version']]]) {
    const r = runSync(bin, args);
    if (!r.ok) throw new Error(`${bin} is missing (make deploy-deps): ${r.error?.message ?? r.out}`);
  }
  if (PLAYERS / NODES > 18_000 || MAXCONN > 9_500 || PLAYERS / WORKERS > 18_000) {
    throw new Error(`${PLAYERS} players on ${NODES} nodes, ${PROXIES} proxies, ${WORKERS} workers: some process would pass 20,000 open files`);
  }
  const shards = Array.from({ length: NODES }, (_, i) => i);
  log(`${PLAYERS} players, ${ROOMS} rooms, ${HOLD_S} s at ${RATE} votes/s; ${NODES} nodes, ${PROXIES} HAProxy instances, ${WORKERS} workers; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  const s3 = await startSeaweed(run, { bucket: BUCKET });
  const ports = await freePorts(NODES + 2 + 2 * PROXIES);
  const natsPort = ports.shift();
  const standbyPort = ports.shift();
  const nats = spawnChild('nats', NATS, ['-a', '127.0.0.1', '-p', String(natsPort)]);
  await until('nats-server ready', () => /Server is ready/.test(nats.text), { timeoutMs: 15_000, entry: nats });
  const natsEnv = { LITEBASE_NATS_URL: `nats://127.0.0.1:${natsPort}`, LITEBASE_NATS_PREFIX: 'pokerbench' };
  const quiet = { LITEBASE_LOG_LEVEL: 'warn,litebase::cli=info,litebase::server=info' };

  // ---- the nodes, each with its Litestream
  const nodes = [];
  for (const n of shards) {
    const dir = path.join(tmpRoot, `node-${n}`);
    const port = ports.shift();
    const server = await startServer(run, `node-${n}`, dir, {
      bin: POKER_BIN, http: `127.0.0.1:${port}`, env: { POKER_SHARD: String(n), ...natsEnv, ...quiet },
    });
    const lsEnv = litestreamEnv(s3, path.join(dir, 'data.db'), { bucket: BUCKET, prefix: replicaPrefix(n) });
    const litestream = spawnChild(`litestream-${n}`, LITESTREAM, ['replicate', '-config', CONFIG], { env: lsEnv });
    nodes.push({ n, dir, port, server, litestream });
  }
  for (const node of nodes) {
    await until(`shard ${node.n}'s first Litestream snapshot`, () => /snapshot complete/.test(node.litestream.text),
      { timeoutMs: 60_000, entry: node.litestream });
  }
  const proxies = [];
  for (let i = 0; i < PROXIES; i += 1) proxies.push({ i, port: ports.shift(), admin: `127.0.0.1:${ports.shift()}` });

  // ---- the victim's standby, told about every HAProxy
  const victim = nodes[VICTIM];
  const standby = spawnChild(`standby-${VICTIM}`, 'bash', [path.join(ROOT, 'deploy/cluster/standby.sh')], {
    env: {
      ...serverEnv({}, litestreamEnv(s3, '', { bucket: BUCKET, prefix: replicaPrefix(VICTIM) })),
      ...natsEnv,
      ...quiet,
      POKER_SHARD: String(VICTIM),
      PRIMARY_URL: victim.server.url,
      POKER_HTTP: `127.0.0.1:${standbyPort}`,
      POKER_DIR: path.join(tmpRoot, `standby-${VICTIM}`),
      LITESTREAM_CONFIG: CONFIG,
      HAPROXY_ADMINS: proxies.map((p) => p.admin).join(' '),
      POKER_BIN,
      LITESTREAM_BIN: LITESTREAM,
      STANDBY_INTERVAL: '0.5',
      // A refused connection fails at once (the kill), a saturated node answers
      // late: six failures in a row (each curl up to 2 s) before taking over.
      STANDBY_FAILS: '6',
      STANDBY_SETTLE: '2',
    },
  });

  // ---- M identical HAProxy instances (the same config but for their ports)
  const clusterShards = nodes
    .map((x) => `${x.n}=127.0.0.1:${x.port}${x.n === VICTIM ? `,127.0.0.1:${standbyPort}` : ''}`)
    .join(' ');
  for (const p of proxies) {
    const gen = runSync('bash', [path.join(ROOT, 'deploy/cluster/haproxy-cfg.sh')], {
      env: {
        ...process.env,
        CLUSTER_SHARDS: clusterShards,
        HAPROXY_BIND: `127.0.0.1:${p.port}`,
        HAPROXY_ADMIN: p.admin,
        HAPROXY_MAXCONN: String(MAXCONN),
        // Connecting 100,000 players saturates both cores: a slow health answer
        // must not take a live node out (and shut its sessions down).
        HAPROXY_CHECK_INTER: '1s',
        HAPROXY_CHECK_FALL: '3',
        HAPROXY_CHECK_TIMEOUT: '5s',
      },
    });
    if (!gen.ok) throw new Error(`haproxy-cfg.sh failed: ${gen.out}`);
    const cfg = path.join(tmpRoot, `haproxy-${p.i}.cfg`);
    writeFileSync(cfg, gen.out);
    const valid = runSync(HAPROXY, ['-c', '-f', cfg]);
    if (!valid.ok) throw new Error(`haproxy -c ${cfg}: ${valid.out}`);
    p.entry = spawnChild(`haproxy-${p.i}`, HAPROXY, ['-db', '-f', cfg]);
  }
  for (const p of proxies) {
    await healthy(`HAProxy ${p.i}`, `http://127.0.0.1:${p.port}`, { entry: p.entry });
    await until(`every primary up in HAProxy ${p.i}`, () => primariesUp(p.admin, shards), { timeoutMs: 20_000, entry: p.entry });
  }
  log(`cluster up: nodes ${nodes.map((x) => `${x.n}:${x.port}`).join(' ')}, standby of shard ${VICTIM} on ${standbyPort}, HAProxy on ${proxies.map((p) => p.port).join(' ')}`);

  // ---- the load; loadgen kills the victim a third of the way into the hold
  const report = path.join(tmpRoot, 'report.md');
  const args = [
    'ws',
    '--target', proxies.map((p) => `http://127.0.0.1:${p.port}`).join(','),
    '--players', String(PLAYERS), '--rooms', String(ROOMS), '--rate', String(RATE),
    '--hold', `${HOLD_S}s`, '--workers', String(WORKERS), '--sources', String(SOURCES),
    '--reconnect', String(RECONNECT_S),
    '--kill-pid', String(victim.server.entry.child.pid), '--kill-shard', String(VICTIM),
    '--kill-after', `${Math.round(HOLD_S / 3)}s`,
    '--rss-match', tmpRoot, '--nodes', String(NODES),
    '--slack', String(QUICK ? 240 : 1200),
  ];
  const quoted = [LOADGEN_BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const loadgen = spawnChild('loadgen', 'bash', ['-c', `exec ${quoted} > '${report}'`]);
  await waitExit(loadgen, (HOLD_S + (QUICK ? 300 : 1400)) * 1000);
  const code = loadgen.child.exitCode;
  const table = existsSync(report) ? readFileSync(report, 'utf8') : '';

  check('the killed node\'s Litestream outlived it', alive(victim.litestream));
  check('the standby took the shard over', /serving on/.test(standby.text), standby.text.slice(-600));
  check(`loadgen held the run (exit ${code})`, code === 0, loadgen.text.split('\n').filter((l) => /Error|error:/.test(l)).slice(-5).join(' | '));
  console.log(`\n### Cluster: ${PLAYERS} players, ${ROOMS} rooms, ${NODES} nodes, ${PROXIES} HAProxy instances\n`);
  console.log(table || '(no report: see the log above)');
  console.log(`Load average at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (${os.cpus().length} CPUs).`);
}

run.main(main);
