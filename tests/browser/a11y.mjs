// Accessibility check with axe-core (from node_modules, no CDN): run on the page as it
// is, fail on violations of impact "serious" or "critical", describe them readably.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BLOCKING = new Set(['serious', 'critical']);

/**
 * Runs axe on `page`; returns the blocking violations as a readable string ('' when
 * there are none). The source is evaluated through the DevTools protocol, so a strict
 * Content-Security-Policy on the page does not stop it.
 */
export async function axeViolations(page) {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html, summary: n.failureSummary })),
    }));
  });
  const blocking = violations.filter((v) => BLOCKING.has(v.impact));
  return blocking.map((v) => {
    const nodes = v.nodes.slice(0, 5).map((n) =>
      `      - ${n.target}\n        ${n.html.slice(0, 200)}\n        ${(n.summary || '').replace(/\n/g, '\n        ')}`);
    const more = v.nodes.length > 5 ? `\n      … and ${v.nodes.length - 5} more` : '';
    return `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes.join('\n')}${more}`;
  }).join('\n');
}
