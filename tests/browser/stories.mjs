// The story queue in real Chromium, for one language and viewport: a host fills the
// queue by pasting a list and by importing a tracker's file (with a preview), reorders
// it (buttons, Alt+arrows, drag on desktop), edits a story, sets a results webhook,
// plays through it (estimate, next story, skip, vote again), and a voter sees all of
// it without the host's buttons; then the session summary and the estimates export.
// Axe on every page.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { axeViolations } from './a11y.mjs';
import { ARTIFACTS, VIEWPORTS } from './scenario.mjs';
import { StepError, stepTools } from './steps.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.resolve(HERE, '../fixtures/tracker');
const LOCALES = { en: 'en-US', fr: 'fr-FR' };
const PASTED = ['Sign up', 'Sign in', 'Reset password'];

export async function runStoriesScenario({ browser, baseUrl, lang, viewport, timeoutMs = 15_000 }) {
  const tag = `stories-${lang}-${viewport}`;
  const people = [];
  const pageErrors = [];
  const problems = [];
  const { step, check, shot, waitIn, current, setCurrent } = stepTools({ tag, artifacts: ARTIFACTS, timeoutMs });
  const newPerson = async (who, name) => {
    const context = await browser.newContext({
      ...VIEWPORTS[viewport], locale: LOCALES[lang], colorScheme: 'light', reducedMotion: 'reduce',
    });
    context.setDefaultTimeout(timeoutMs);
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${who}: ${e.message}`));
    const p = { who, name, context, page };
    people.push(p);
    return p;
  };
  const press = (p, locator) => (viewport === 'phone' ? locator.tap() : locator.click());
  const titles = (p) => p.page.evaluate(() => [...document.querySelectorAll('#queue [data-testid=story]')]
    .map((s) => ({ title: s.querySelector('[data-testid=story-title]')?.textContent.trim(), status: s.dataset.status })));
  const waitQueue = (p, want) => waitIn(p, `the queue reads ${JSON.stringify(want)}`, (w) => {
    const got = [...document.querySelectorAll('#queue [data-testid=story]')]
      .map((s) => `${s.querySelector('[data-testid=story-title]')?.textContent.trim()}:${s.dataset.status}`);
    return JSON.stringify(got) === JSON.stringify(w);
  }, want, '#queue');
  const waitTopic = (p, topic) => waitIn(p, `the topic reads ${JSON.stringify(topic)}`,
    (t) => document.querySelector('#round [data-testid=topic]')?.textContent.trim() === t, topic, '#round');
  const story = (p, title) => p.page.locator('#queue [data-testid=story]').filter({
    has: p.page.locator('[data-testid=story-title]', { hasText: new RegExp(`^${title}$`) }),
  });
  const axe = async (p, what) => {
    const found = await axeViolations(p.page);
    if (found) problems.push(`axe found serious/critical violations on ${what}:\n${found}`);
  };

  try {
    const host = await newPerson('host', 'Hana Host');
    const voter = await newPerson('voter', 'Vic Voter');
    let code;

    await step('host creates a room and a voter joins', async () => {
      await host.page.goto(`${baseUrl}/?lang=${lang}`);
      const form = host.page.locator('form[data-testid=create-room]');
      await form.locator('[name=room_name]').fill('Backlog refinement');
      await form.locator('[name=your_name]').fill(host.name);
      await press(host, form.locator('[data-testid=create-submit]'));
      await host.page.waitForURL(/\/r\/[^/?#]+\/?(\?.*)?$/);
      code = new URL(host.page.url()).pathname.split('/')[2];
      await voter.page.goto(`${baseUrl}/r/${code}`);
      const join = voter.page.locator('form[data-testid=join-room]');
      await join.locator('[name=name]').fill(voter.name);
      await press(voter, join.locator('[data-testid=join-submit]'));
      for (const p of [host, voter]) {
        await waitIn(p, 'the live connection is open', () => document.querySelector('[data-testid=connection]')?.dataset.state === 'open', null, '[data-testid=connection]');
      }
      await waitIn(voter, 'an empty queue says how to fill it', () => !!document.querySelector('#queue [data-testid=queue-empty]'), null, '#queue');
    });

    await step('host pastes a list; the first story becomes the topic', async () => {
      const form = host.page.locator('#queue form[data-testid=story-add-form]');
      await form.locator('textarea[name=title]').fill(PASTED.map((t) => `- ${t}`).join('\n'));
      await press(host, form.locator('[data-testid=story-add]'));
      const want = ['Sign up:active', 'Sign in:pending', 'Reset password:pending'];
      for (const p of [host, voter]) {
        await waitQueue(p, want);
        await waitTopic(p, 'Sign up');
      }
      check(!(await voter.page.locator('#queue [data-testid=story-add-form]').isVisible()), 'the voter sees the add form');
      check(await voter.page.locator('#queue [data-testid=story-up]:visible').count() === 0, 'the voter sees move buttons');
      check(await host.page.locator('#queue [data-testid=story-up]:visible').count() === 3, 'the host does not see a move button per story');
      await shot(host, 'pasted');
    });

    await step('host reorders with a button and with Alt+arrow', async () => {
      await press(host, story(host, 'Reset password').locator('[data-testid=story-up]'));
      await waitQueue(voter, ['Sign up:active', 'Reset password:pending', 'Sign in:pending']);
      if (viewport === 'desktop') {
        await story(host, 'Sign in').locator('[data-testid=story-up]').focus();
        await host.page.keyboard.press('Alt+ArrowUp');
        await waitQueue(voter, ['Sign up:active', 'Sign in:pending', 'Reset password:pending']);
        await waitIn(host, 'focus stays on the moved story', () =>
          document.activeElement?.closest('[data-testid=story]')?.querySelector('[data-testid=story-title]')?.textContent.trim() === 'Sign in', null, '#queue');
        // Drag "Reset password" by its grip onto "Sign in": it takes that place.
        await story(host, 'Reset password').locator('.grip').dragTo(story(host, 'Sign in'));
        await waitQueue(voter, ['Sign up:active', 'Reset password:pending', 'Sign in:pending']);
      } else {
        await press(host, story(host, 'Sign in').locator('[data-testid=story-up]'));
        await press(host, story(host, 'Sign in').locator('[data-testid=story-down]'));
        await waitQueue(voter, ['Sign up:active', 'Reset password:pending', 'Sign in:pending']);
      }
    });

    await step('host gives a story a key and a link', async () => {
      const item = story(host, 'Sign up');
      await press(host, item.locator('[data-testid=story-edit]'));
      const form = item.locator('form[data-testid=story-edit-form]');
      await form.locator('[name=key]').fill('AUTH-1');
      await form.locator('[name=url]').fill('https://tracker.example/AUTH-1');
      await press(host, form.locator('button[type=submit]'));
      await waitIn(voter, 'the story shows its key as a link', () => {
        const a = document.querySelector('#queue [data-testid=story] a.story-key');
        return a?.textContent.trim() === 'AUTH-1' && a.getAttribute('href') === 'https://tracker.example/AUTH-1';
      }, null, '#queue');
    });

    await step('host sends results to a Slack webhook', async () => {
      const panel = host.page.locator('#controls details.manage');
      if (!(await panel.evaluate((d) => d.open))) await press(host, panel.locator('summary'));
      const form = host.page.locator('#controls form[data-testid=webhook-form]');
      await form.locator('select[name=kind]').selectOption('slack');
      await form.locator('input[name=url]').fill('https://hooks.example.com/services/T0/B0/s3cret');
      await press(host, form.locator('[data-testid=webhook-save]'));
      await waitIn(host, 'the webhook shows as set, its URL masked', () => {
        const url = document.querySelector('#controls [data-testid=webhook-url]')?.textContent ?? '';
        return url.startsWith('https://hooks.example.com/') && !url.includes('s3cret');
      }, null, '#controls');
      await axe(host, "the host's settings with a webhook");
      await press(host, panel.locator('summary'));
    });

    await step('the room estimates the story and moves to the next one', async () => {
      for (const p of [host, voter]) {
        await press(p, p.page.locator('#hand [data-testid=card][data-card="5"]'));
        await waitIn(p, 'my card 5 is pressed', () => document.querySelector('#hand [data-card="5"]')?.getAttribute('aria-pressed') === 'true', null, '#hand');
      }
      await press(host, host.page.locator('#controls [data-testid=reveal]'));
      const form = host.page.locator('#controls form[data-testid=estimate-form]');
      await waitIn(host, 'the estimate form appears', () => !!document.querySelector('#controls [data-testid=estimate-form]'), null, '#controls');
      await form.locator('[name=value]').fill('5');
      await press(host, form.locator('[data-testid=estimate-submit]'));
      await waitQueue(voter, ['Sign up:estimated', 'Reset password:pending', 'Sign in:pending']);
      await waitIn(voter, 'the estimated story shows 5', () =>
        document.querySelector('#queue [data-testid=story][data-status=estimated] [data-testid=story-estimate]')?.textContent.trim() === '5', null, '#queue');
      await waitIn(voter, 'the estimated story shows its votes (two fives)', () =>
        /5 ×2/.test(document.querySelector('#queue [data-testid=story][data-status=estimated] [data-testid=story-votes]')?.textContent ?? ''), null, '#queue');
      const next = host.page.locator('#controls [data-testid=next-round]');
      check((await next.textContent()).includes('Reset password'), `the next button does not name the next story: ${await next.textContent()}`);
      await press(host, next);
      for (const p of [host, voter]) await waitTopic(p, 'Reset password');
      await axe(host, "the host's room with a queue");
      await axe(voter, "the voter's room with a queue");
      await shot(host, 'estimated');
      await shot(voter, 'estimated');
    });

    await step('host skips a story, then votes again on the first', async () => {
      await press(host, host.page.locator('#controls [data-testid=story-skip]'));
      await waitQueue(voter, ['Sign up:estimated', 'Reset password:skipped', 'Sign in:active']);
      await waitTopic(voter, 'Sign in');
      await press(host, story(host, 'Sign up').locator('[data-testid=story-play]'));
      await waitQueue(voter, ['Sign up:active', 'Reset password:skipped', 'Sign in:pending']);
      await waitTopic(voter, 'Sign up');
    });

    await step('the session summary and the estimates export', async () => {
      const link = voter.page.locator('#history [data-testid=summary-link]');
      await press(voter, link);
      await voter.page.waitForURL(/\/summary/);
      await waitIn(voter, 'the summary counts 1 estimated and 1 skipped', () =>
        document.querySelector('[data-testid=summary-estimated]')?.textContent.trim() === '1'
        && document.querySelector('[data-testid=summary-skipped]')?.textContent.trim() === '1', null, 'main');
      const rows = await voter.page.locator('[data-testid=summary-story]').count();
      check(rows === 3, `the summary lists ${rows} stories, not 3`);
      await axe(voter, 'the session summary');
      await shot(voter, 'summary');
      const res = await voter.context.request.get(`${baseUrl}/r/${code}/estimates.csv?format=jira-csv`);
      const text = await res.text();
      check(res.status() === 200, `the Jira estimates export answered ${res.status()}: ${text.slice(0, 200)}`);
      check(/AUTH-1/.test(text) && /(^|,)"?5"?(\r?\n|,|$)/m.test(text), `the Jira export lacks AUTH-1 with 5:\n${text}`);
    });

    await step('host imports a Jira CSV export with a preview', async () => {
      await host.page.goto(`${baseUrl}/r/${code}/import`);
      await axe(host, 'the import page');
      await host.page.locator('input[type=file][name=file]').setInputFiles(path.join(FIXTURES, 'jira.csv'));
      await press(host, host.page.locator('[data-testid=import-preview]'));
      await waitIn(host, 'the preview lists the stories of the file', () =>
        document.querySelectorAll('[data-testid=preview-story]').length > 0, null, 'main');
      const count = await host.page.locator('[data-testid=preview-story]').count();
      await axe(host, 'the import preview');
      await shot(host, 'import-preview');
      await press(host, host.page.locator('[data-testid=import-confirm]'));
      await host.page.waitForURL(new RegExp(`/r/${code}/?(\\?.*)?$`));
      await voter.page.goto(`${baseUrl}/r/${code}`);
      await waitIn(voter, `the queue grew by ${count} stories`, (n) =>
        document.querySelectorAll('#queue [data-testid=story]').length === 3 + n, count, '#queue');
    });

    setCurrent('end checks');
    if (pageErrors.length) problems.push(`uncaught errors in the pages:\n  ${pageErrors.join('\n  ')}`);
    if (problems.length) throw new StepError(`[${tag}] the queue worked, but:\n${problems.join('\n')}`);
  } catch (e) {
    if (current() !== 'end checks') await Promise.all(people.map((p) => shot(p, `failed-${current().replace(/\W+/g, '-')}`).catch(() => {})));
    throw e instanceof StepError ? e : new StepError(`[${tag}] step "${current()}": ${e?.message || e}`);
  } finally {
    await Promise.all(people.map((p) => p.context.close().catch(() => {})));
  }
}
