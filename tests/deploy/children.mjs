// The child processes of a deploy suite (servers, proxies, S3, Litestream): each
// in a process group of its own, its output appended to a log file, and every
// one of them stopped on every exit path of the run.

import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';

/** The processes one run started, until they exit. */
export class Children {
  constructor(log = console.error) {
    this.running = new Set();
    this.closed = false;
    this.log = log;
  }

  /**
   * Starts `cmd` in a process group of its own (so it is stopped with whatever it
   * starts), stdout and stderr appended to `logPath` and the latest half megabyte
   * kept in `entry.text`. Returns the entry `{ name, child, logPath, text }` that
   * the functions below take. Refused once the run is stopping.
   */
  spawn(name, cmd, args, { env = process.env, cwd, logPath }) {
    if (this.closed) throw new Error(`not starting ${name}: the run is stopping`);
    const out = createWriteStream(logPath, { flags: 'a' });
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd, env });
    const entry = { name, child, logPath, text: '' };
    const onData = (chunk) => {
      if (!out.writableEnded) out.write(chunk);
      entry.text += chunk.toString();
      if (entry.text.length > 1_000_000) entry.text = entry.text.slice(-500_000);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => this.log(`${name}: cannot start ${cmd}: ${e.message}`));
    // The log closes with the child's pipes (`close`), which may outlive `exit`:
    // a grandchild that kept them open can still write.
    child.on('exit', () => this.running.delete(entry));
    child.on('close', () => out.end());
    this.running.add(entry);
    return entry;
  }

  /** Refuses new children, then stops every running one (a few rounds, for late starters). */
  async stopAll() {
    this.closed = true;
    for (let round = 0; this.running.size > 0 && round < 5; round += 1) {
      await Promise.all([...this.running].map((entry) => stop(entry, 3000)));
    }
  }
}

/** Whether the entry's process is still running. */
export const alive = (entry) => Boolean(entry) && entry.child.exitCode === null && entry.child.signalCode === null;

/** Sends `sig` to the entry's whole process group (to the process alone if that fails). */
export function signal(entry, sig) {
  if (!alive(entry)) return;
  try {
    process.kill(-entry.child.pid, sig);
  } catch {
    try { entry.child.kill(sig); } catch { /* gone */ }
  }
}

/** Waits up to `ms` for the entry's process to exit; true if it did. */
export function waitExit(entry, ms) {
  if (!alive(entry)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    entry.child.once('exit', () => { clearTimeout(t); resolve(true); });
  });
}

/** `sig` (SIGTERM), up to `ms` to exit, then SIGKILL. True if it exited by itself. */
export async function stop(entry, ms = 5000, sig = 'SIGTERM') {
  if (!alive(entry)) return true;
  signal(entry, sig);
  const clean = await waitExit(entry, ms);
  if (!clean) {
    signal(entry, 'SIGKILL');
    await waitExit(entry, 3000);
  }
  return clean;
}

/** The last `n` lines of a log file ('(no log)' when there is none). */
export function tailFile(file, n = 30) {
  try { return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n'); } catch { return '(no log)'; }
}

/** The last `n` lines an entry printed. */
export function tail(entry, n = 25) {
  return existsSync(entry.logPath) ? tailFile(entry.logPath, n) : entry.text.trimEnd().split('\n').slice(-n).join('\n');
}
