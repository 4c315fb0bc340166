// The built-in admin UI at /_/ in real Chromium (English, desktop, then a phone-sized
// check), against its own fresh server that starts WITHOUT a superuser, so the
// first-run setup link printed by `serve` is part of the test.
//
// Sections run in order on one admin browser context (admin/*.mjs); each is a list of
// named steps that wait on the DOM (no sleeps) and take screenshots into
// artifacts/admin-<who>-<step>.png. A section receives the shared `ctx` (below) and
// may add to it what later sections need (e.g. the collection it created).

import { mkdirSync } from 'node:fs';
import { startServer } from './server.mjs';
import { ARTIFACTS, VIEWPORTS } from './scenario.mjs';
import { StepError, stepTools } from './steps.mjs';
import { axeViolations } from './a11y.mjs';
import * as setup from './admin/setup.mjs';
import * as collections from './admin/collections.mjs';
import * as records from './admin/records.mjs';
import * as ops from './admin/ops.mjs';

/** The sections, in the order they run. */
const SECTIONS = [setup, collections, records, ops];

/** The superuser the first-run setup creates. */
export const FIRST_ADMIN = { email: 'root@example.com', password: 'first-admin-pass-1' };

/**
 * Runs every admin section. Resolves when all passed; rejects with the step and the
 * reason otherwise. Starts and always stops its own server.
 */
export async function runAdminScenario({ browser, bin, timeoutMs = 15_000, onServerExit }) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const server = await startServer(bin, { onUnexpectedExit: onServerExit });
  const tools = stepTools({ tag: 'admin', artifacts: ARTIFACTS, timeoutMs });
  const contexts = [];
  const pageErrors = [];
  const newContext = async (viewport = 'desktop', locale = 'en-US') => {
    const context = await browser.newContext({ ...VIEWPORTS[viewport], locale, colorScheme: 'light', reducedMotion: 'reduce' });
    context.setDefaultTimeout(timeoutMs);
    context.setDefaultNavigationTimeout(timeoutMs);
    contexts.push(context);
    return context;
  };
  try {
    const context = await newContext();
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`admin: ${e.message}`));
    const admin = { who: 'admin', name: FIRST_ADMIN.email, context, page };
    const ctx = {
      ...tools,
      browser,
      server,
      baseUrl: server.url,
      admin,
      credentials: FIRST_ADMIN,
      timeoutMs,
      newContext,
      /** Fails the step when axe finds serious or critical problems on `page`. */
      async accessible(p, what) {
        const found = await axeViolations(p.page);
        if (found) throw new StepError(`${what}: axe found serious/critical problems:\n${found}`);
      },
      /** The text of the first visible error message on the page (inline or toast). */
      errorText: (page2 = page) => page2.evaluate(() =>
        [...document.querySelectorAll('[role=alert], .field-error, .error, [data-testid=error]')]
          .map((el) => el.textContent.trim()).filter(Boolean).join(' | ')),
    };
    for (const section of SECTIONS) await section.run(ctx);
    if (pageErrors.length) throw new StepError(`script errors in the admin pages:\n${pageErrors.join('\n')}`);
  } catch (e) {
    if (e instanceof StepError) throw e;
    throw new StepError(`[admin] step "${tools.current()}": ${e?.message || e}`);
  } finally {
    for (const c of contexts) await c.close().catch(() => {});
    await server.stop({ keep: !!process.env.BROWSER_KEEP_DATA });
  }
}
