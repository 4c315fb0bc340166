// What both browser scenarios use to run named steps: a step that says which
// step and which person failed, a bounded wait inside a page that shows what the
// page held instead, and full-page screenshots into artifacts/.
import path from 'node:path';

/** A failure already worded for the reader (no stack needed). */
export class StepError extends Error {}

/**
 * Step helpers for one scenario run; `tag` prefixes messages and screenshot names.
 * `current()` names the step that is running (for the scenario's final catch).
 */
export function stepTools({ tag, artifacts, timeoutMs }) {
  let current = 'setup';
  const step = async (name, fn) => {
    current = name;
    try {
      await fn();
    } catch (e) {
      const msg = e instanceof StepError ? e.message : (e?.message || String(e)).split('\n').slice(0, 6).join('\n');
      throw new StepError(`[${tag}] step "${name}": ${msg}`);
    }
  };
  const check = (cond, msg) => { if (!cond) throw new StepError(msg); };
  const shot = (p, stepName, page = p.page) =>
    page.screenshot({ path: path.join(artifacts, `${tag}-${p.who}-${stepName}.png`), fullPage: true, timeout: timeoutMs });
  /** Waits until `predicate(arg)` holds in `page`; on timeout says what, and shows `probe`. */
  const waitIn = async (p, what, predicate, arg = null, probe = '#participants', page = p.page) => {
    try {
      await page.waitForFunction(predicate, arg, { timeout: timeoutMs });
    } catch {
      const seen = await page.evaluate((sel) => document.querySelector(sel)?.outerHTML ?? `(no ${sel})`, probe).catch(() => '(page gone)');
      throw new StepError(`${p.who} (${p.name}): ${what} — not true within ${timeoutMs} ms. ${probe} is:\n${seen.slice(0, 1500)}`);
    }
  };
  return {
    step,
    check,
    shot,
    waitIn,
    current: () => current,
    setCurrent: (name) => { current = name; },
  };
}
