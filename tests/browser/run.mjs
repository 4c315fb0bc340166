#!/usr/bin/env node
// Browser tests of the poker pages in real Chromium (no downloaded browser).
//
//   POKER_BIN=../../target/debug/poker node run.mjs          # every language × viewport
//   node run.mjs fr-phone en-desktop                          # only some combinations
//
// Starts the poker binary (`serve --http 127.0.0.1:0 --dir TMP`, address read from its
// "Server started at" line, like tests/sdk/run.mjs), launches /usr/bin/chromium
// (CHROMIUM to override) headless with the flags of /work/shared/TOOLING.md, runs the
// room scenario (scenario.mjs) for en/fr × desktop/phone, prints a summary, and always
// closes the browser and stops the server. Exit code 0 only when every scenario
// passed; 1 on a failure; 124 when the whole run exceeds BROWSER_TIMEOUT_MS.
// After them, once (English, desktop), the host-tools scenario (host_tools.mjs); name
// `host-tools` on the command line to run it alone or with chosen combinations.
// Then the comfort scenario (comfort.mjs: keyboard voting, spectators, personal links,
// the everyone-voted cue, the phone layout at 360 px…) for en/fr × desktop/phone; name
// `comfort` to run its four alone, or `comfort-fr-phone` for one. Just before it, the
// story queue scenario (stories.mjs) runs the same way: `stories`, or `stories-en-phone`.
// Then the admin UI scenario (admin.mjs) on a server of its own that starts without a
// superuser; name `admin` to run it alone. Then passkeys (passkeys.mjs, Chromium's
// virtual authenticator) on a server of its own; name `passkeys` to run it alone.
// Screenshots: tests/browser/artifacts/<lang>-<viewport>-<who>-<step>.png,
// host-tools-<who>-<step>.png and admin-<who>-<step>.png.

import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';
import { ARTIFACTS, VIEWPORTS, runRoomScenario } from './scenario.mjs';
import { ADMIN, runHostToolsScenario } from './host_tools.mjs';
import { runAdminScenario } from './admin.mjs';
import { runPasskeyScenario } from './passkeys.mjs';
import { runStoriesScenario } from './stories.mjs';
import { runComfortScenario } from './comfort.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TOTAL_TIMEOUT_MS = Number(process.env.BROWSER_TIMEOUT_MS || 600_000);
const STEP_TIMEOUT_MS = Number(process.env.BROWSER_STEP_TIMEOUT_MS || 15_000);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const LANGS = ['en', 'fr']; // en first: the fr run compares its reveal button with the English one

const log = (...a) => console.error('[browser]', ...a);

let server = null;
let browser = null;
let finished = false;

async function finish(code, why) {
  if (finished) return;
  finished = true;
  if (why) log(why);
  if (code !== 0 && server) {
    log(`last lines of the server log (${server.logPath}):\n${server.logTail(40)}`);
  }
  if (browser) {
    await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
  }
  if (server) await server.stop({ keep: code !== 0 || !!process.env.BROWSER_KEEP_DATA });
  process.exit(code);
}

const totalTimer = setTimeout(() => finish(124, `total time cap of ${TOTAL_TIMEOUT_MS} ms reached, stopping everything`), TOTAL_TIMEOUT_MS);
totalTimer.unref();
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => finish(130, `got ${sig}`));
process.on('uncaughtException', (e) => { console.error(e); finish(1, 'runner crashed'); });
process.on('unhandledRejection', (e) => { console.error(e); finish(1, 'runner crashed'); });

async function main() {
  const all = LANGS.flatMap((lang) => Object.keys(VIEWPORTS).map((viewport) => ({ lang, viewport })));
  const wanted = process.argv.slice(2);
  const named = ['host-tools', 'admin', 'passkeys', 'comfort', 'stories'];
  const comfortNamed = (w) => all.some((c) => `comfort-${c.lang}-${c.viewport}` === w || `stories-${c.lang}-${c.viewport}` === w);
  const unknown = wanted.filter((w) => !named.includes(w) && !comfortNamed(w) && !all.some((c) => `${c.lang}-${c.viewport}` === w));
  if (unknown.length) return finish(2, `unknown combination(s) ${unknown.join(', ')}; known: ${all.map((c) => `${c.lang}-${c.viewport}`).join(', ')}, ${named.join(', ')}`);
  const combos = wanted.length ? all.filter((c) => wanted.includes(`${c.lang}-${c.viewport}`)) : all;
  const comfortCombos = !wanted.length || wanted.includes('comfort') ? all
    : all.filter((c) => wanted.includes(`comfort-${c.lang}-${c.viewport}`));
  const storiesCombos = !wanted.length || wanted.includes('stories') ? all
    : all.filter((c) => wanted.includes(`stories-${c.lang}-${c.viewport}`));
  const hostTools = !wanted.length || wanted.includes('host-tools');
  const adminUi = !wanted.length || wanted.includes('admin');
  const passkeys = !wanted.length || wanted.includes('passkeys');

  if (!existsSync(CHROMIUM)) return finish(1, `no Chromium at ${CHROMIUM}: run \`apt-get install -y chromium\` (or \`make browser\`), or set CHROMIUM`);
  const bin = path.resolve(HERE, process.env.POKER_BIN || '../../target/debug/poker');

  rmSync(ARTIFACTS, { recursive: true, force: true });
  const needsShared = combos.length > 0 || hostTools || comfortCombos.length > 0 || storiesCombos.length > 0;
  if (needsShared) server = await startServer(bin, { superuser: hostTools ? ADMIN : undefined, onUnexpectedExit: (why) => finish(1, `the poker server stopped during the tests: ${why}`) });
  if (server) log(`poker is up at ${server.url}`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
  log(`Chromium ${browser.version()}`);

  const failures = [];
  for (const { lang, viewport } of combos) {
    const started = Date.now();
    try {
      await runRoomScenario({ browser, baseUrl: server.url, lang, viewport, timeoutMs: STEP_TIMEOUT_MS });
      log(`ok   ${lang}-${viewport} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      log(`FAIL ${lang}-${viewport} (${((Date.now() - started) / 1000).toFixed(1)} s)\n${e.message}`);
      failures.push(`${lang}-${viewport}`);
    }

  }
  if (hostTools) {
    const started = Date.now();
    try {
      await runHostToolsScenario({ browser, baseUrl: server.url, timeoutMs: STEP_TIMEOUT_MS });
      log(`ok   host-tools (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      log(`FAIL host-tools (${((Date.now() - started) / 1000).toFixed(1)} s)\n${e.message}`);
      failures.push('host-tools');
    }
  }
  for (const { lang, viewport } of storiesCombos) {
    const started = Date.now();
    try {
      await runStoriesScenario({ browser, baseUrl: server.url, lang, viewport, timeoutMs: STEP_TIMEOUT_MS });
      log(`ok   stories-${lang}-${viewport} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      log(`FAIL stories-${lang}-${viewport} (${((Date.now() - started) / 1000).toFixed(1)} s)\n${e.message}`);
      failures.push(`stories-${lang}-${viewport}`);
    }
  }
  for (const { lang, viewport } of comfortCombos) {
    const started = Date.now();
    try {
      await runComfortScenario({ browser, baseUrl: server.url, lang, viewport, timeoutMs: STEP_TIMEOUT_MS });
      log(`ok   comfort-${lang}-${viewport} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      log(`FAIL comfort-${lang}-${viewport} (${((Date.now() - started) / 1000).toFixed(1)} s)\n${e.message}`);
      failures.push(`comfort-${lang}-${viewport}`);
    }
  }
  if (adminUi) {
    const started = Date.now();
    try {
      await runAdminScenario({ browser, bin, timeoutMs: STEP_TIMEOUT_MS, onServerExit: (why) => finish(1, `the admin test server stopped during the tests: ${why}`) });
      log(`ok   admin (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      log(`FAIL admin (${((Date.now() - started) / 1000).toFixed(1)} s)\n${e.message}`);
      failures.push('admin');
    }
  }
  if (passkeys) {
    const started = Date.now();
    try {
      await runPasskeyScenario({ browser, bin, timeoutMs: STEP_TIMEOUT_MS, onServerExit: (why) => finish(1, `the passkey test server stopped during the tests: ${why}`) });
      log(`ok   passkeys (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      log(`FAIL passkeys (${((Date.now() - started) / 1000).toFixed(1)} s)\n${e.message}`);
      failures.push('passkeys');
    }
  }
  const total = combos.length + storiesCombos.length + comfortCombos.length + (hostTools ? 1 : 0) + (adminUi ? 1 : 0) + (passkeys ? 1 : 0);
  log(`screenshots in ${ARTIFACTS}`);
  if (failures.length) return finish(1, `${failures.length} of ${total} scenario(s) failed: ${failures.join(', ')}`);
  log(`all ${total} scenario(s) passed`);
  return finish(0);
}

main().catch((e) => finish(1, e?.stack || String(e)));
