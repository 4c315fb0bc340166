// One planning-poker round in real Chromium, written against /work/plan/CONTRACT.md
// ("Pages … and the DOM contract"): a host, two voters and a spectator, each in its own
// browser context, from room creation to the recorded estimate in the history.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { axeViolations } from './a11y.mjs';
import { StepError, stepTools } from './steps.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = path.join(HERE, 'artifacts');

export const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
};

/** Browser locales: voters get their language from Accept-Language, the host from ?lang=. */
const LOCALES = { en: 'en-US', fr: 'fr-FR' };

/**
 * The round everyone plays. Cards are chosen so that none of them is a substring
 * token of anything else the participants list shows (round 1, 4 people), and the
 * numbers tell average from median: 13, 3, 2 → average 6, median 3, min 2, max 13,
 * agreement 1/3. The host records the median.
 */
const PEOPLE = [
  { who: 'host', name: 'Hélène Host', role: 'voter', card: '13' },
  { who: 'voter1', name: 'Zoë Voter', role: 'voter', card: '3' },
  { who: 'voter2', name: 'Kai Keys', role: 'voter', card: '2', byKeyboard: true },
  { who: 'spectator', name: 'Sam Spectator', role: 'spectator', card: null },
];
const EXPECTED = { average: 6, median: 3, min: 2, max: 13, agreement: 100 / 3, estimate: '3' };
const ROOM_NAME = 'Sprint <42> & "Friends"';
const TOPIC = 'Login page <em>with</em> SSO & 2FA';

/** The reveal button's English text, learnt from an English run, to tell French from it. */
let englishRevealText = null;

/** Thrown with the step and the person, so a failure says what broke where. */

const css = (s) => s.replace(/["\\]/g, '\\$&');
const numberIn = (text) => {
  const m = String(text ?? '').match(/-?\d+(?:[.,]\d+)?/);
  return m ? Number(m[0].replace(',', '.')) : NaN;
};
/** Whether `card` appears in `html` as a whole token (not inside an id or a longer number). */
const containsToken = (html, card) =>
  new RegExp(`(^|[^\\w.,])${card.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\w.,])`).test(html);

/**
 * Runs the scenario for one language and viewport. Resolves when every check passed;
 * rejects with a message naming the step otherwise. Closes its contexts either way.
 */
export async function runRoomScenario({ browser, baseUrl, lang, viewport, timeoutMs = 15_000 }) {
  const tag = `${lang}-${viewport}`;
  mkdirSync(ARTIFACTS, { recursive: true });
  const people = [];
  const pageErrors = [];
  // Failures that do not stop the scenario (accessibility): reported at its end.
  const problems = [];
  const { step, check, shot, waitIn, current, setCurrent } = stepTools({ tag, artifacts: ARTIFACTS, timeoutMs });
  const shotAll = (stepName) => Promise.all(people.map((p) => shot(p, stepName)));

  const newPerson = async (spec) => {
    const context = await browser.newContext({
      ...VIEWPORTS[viewport], locale: LOCALES[lang], colorScheme: 'light', reducedMotion: 'reduce',
    });
    context.setDefaultTimeout(timeoutMs);
    context.setDefaultNavigationTimeout(timeoutMs);
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${spec.who}: ${e.message}`));
    const p = { ...spec, context, page };
    people.push(p);
    return p;
  };
  const press = (p, locator) => (viewport === 'phone' ? locator.tap() : locator.click());
  /** Submits a form the way a person does: its submit button, else Enter in its first field. */
  const submit = async (p, form) => {
    const button = form.locator('button[type=submit], button:not([type]), input[type=submit]');
    if (await button.count()) await press(p, button.first());
    else await form.locator('input:not([type=hidden])').first().press('Enter');
  };
  const connected = (p) => waitIn(p, 'the room\'s live connection is open ([data-testid=connection][data-state=open])',
    () => document.querySelector('[data-testid=connection]')?.dataset.state === 'open', null, '[data-testid=connection]');
  const htmlLang = (p) => waitIn(p, `<html lang="${lang}">`, (l) => document.documentElement.lang === l, lang, 'head');

  try {
    const [host, voter1, voter2, spectator] = await Promise.all(PEOPLE.map(newPerson));
    const voters = [host, voter1, voter2];
    let code;
    let shareUrl;

    await step('home page', async () => {
      const res = await host.page.goto(`${baseUrl}/?lang=${lang}`);
      check(res && res.status() === 200, `GET /?lang=${lang} answered ${res?.status()}`);
      await htmlLang(host);
      await host.page.locator('form[data-testid=create-room]').waitFor();
      for (const l of ['en', 'fr']) {
        check(await host.page.locator(`[data-testid=lang-${l}]`).count() > 0, `no language switch [data-testid=lang-${l}] on the home page`);
      }
      await shot(host, 'home');
      // The theme toggle flips <html data-theme> between light and dark, and back.
      const theme = () => host.page.evaluate(() => document.documentElement.dataset.theme ?? '');
      const before = await theme();
      for (let i = 0; i < 2; i++) {
        const was = await theme();
        await press(host, host.page.locator('[data-testid=theme-toggle]').first());
        await waitIn(host, `the theme toggle changes <html data-theme> from ${JSON.stringify(was)} to light or dark`,
          (w) => ['light', 'dark'].includes(document.documentElement.dataset.theme) && document.documentElement.dataset.theme !== w, was, 'head');
      }
      check(!before || (await theme()) === before, `toggling the theme twice did not come back to ${before}`);
      const a11y = await axeViolations(host.page);
      if (a11y) problems.push(`axe found serious/critical violations on the home page:\n${a11y}`);
    });

    await step('host creates the room', async () => {
      const form = host.page.locator('form[data-testid=create-room]');
      await form.locator('[name=room_name]').fill(ROOM_NAME);
      await form.locator('[name=your_name]').fill(host.name);
      await form.locator('input[name=role][value=voter]').check();
      await form.locator('select[name=deck]').selectOption('fibonacci');
      await press(host, form.locator('[data-testid=create-submit]'));
      await host.page.waitForURL(/\/r\/[^/?#]+\/?(\?.*)?$/);
      code = new URL(host.page.url()).pathname.split('/')[2];
      await connected(host);
      await htmlLang(host);
      await waitIn(host, `the page shows the room name ${JSON.stringify(ROOM_NAME)} as text`,
        (n) => document.body.textContent.includes(n), ROOM_NAME, '#room-header');
      shareUrl = await host.page.locator('[data-testid=share-link]').inputValue();
      check(new URL(shareUrl, baseUrl).pathname.replace(/\/$/, '') === `/r/${code}`, `share link ${shareUrl} is not /r/${code}`);
      check(await host.page.locator('[data-testid=expires]').count() > 0, 'the room page does not say when the room expires ([data-testid=expires])');
      const hostLink = await host.page.locator('[data-testid=seat-link]').inputValue();
      check(new RegExp(`^https?://[^/]+/r/${code}/seat/[^/]+$`).test(hostLink), `host's personal link ${hostLink} is not an absolute /r/${code}/seat/{token} URL`);
    });

    await step('the others join through the share link', async () => {
      await Promise.all([voter1, voter2, spectator].map(async (p) => {
        const res = await p.page.goto(shareUrl);
        check(res && res.status() === 200, `${p.who}: GET ${shareUrl} answered ${res?.status()}`);
        await htmlLang(p);
        const form = p.page.locator('form[data-testid=join-room]');
        await form.locator('[name=name]').fill(p.name);
        await form.locator(`input[name=role][value=${p.role}]`).check();
        await press(p, form.locator('[data-testid=join-submit]'));
        await p.page.locator('form[data-testid=join-room]').waitFor({ state: 'detached' });
        await connected(p);
      }));
    });

    await step('all four see each other online', async () => {
      const expected = people.map((p) => ({ name: p.name, role: p.role }));
      await Promise.all(people.map((p) => waitIn(p, `4 participants online with roles ${JSON.stringify(expected)}`, (exp) => {
        const els = [...document.querySelectorAll('#participants [data-testid=participant]')];
        return els.length === exp.length && exp.every((e) => els.some((el) =>
          el.dataset.name === e.name && el.dataset.presence === 'online' && el.dataset.role === e.role && el.dataset.pid));
      }, expected)));
      await shotAll('joined');
    });

    await step('host sets the topic', async () => {
      const form = host.page.locator('#controls form[data-testid=topic-form]');
      await form.locator('[name=text]').fill(TOPIC);
      await submit(host, form);
      await Promise.all(people.map((p) => waitIn(p, `the topic reads ${JSON.stringify(TOPIC)}`,
        (t) => document.querySelector('#round [data-testid=topic]')?.textContent.trim() === t, TOPIC, '#round')));
    });

    await step('voters vote (voter2 with the keyboard)', async () => {
      for (const p of voters) {
        const card = p.page.locator(`#hand [data-testid=card][data-card="${css(p.card)}"]`);
        if (p.byKeyboard) {
          const kbd = card.locator('kbd');
          check(await kbd.count() === 1, `${p.who}: card ${p.card} shows no <kbd> shortcut hint`);
          const key = (await kbd.textContent()).trim();
          check(key.length === 1, `${p.who}: the shortcut hint of card ${p.card} is ${JSON.stringify(key)}, not one key`);
          await p.page.evaluate(() => document.activeElement?.blur?.());
          await p.page.keyboard.press(key);
        } else {
          await press(p, card);
        }
        await waitIn(p, `my card ${p.card} is aria-pressed="true" and no other card is`, (c) => {
          const cards = [...document.querySelectorAll('#hand [data-testid=card]')];
          return cards.some((el) => el.dataset.card === c && el.getAttribute('aria-pressed') === 'true')
            && cards.filter((el) => el.getAttribute('aria-pressed') === 'true').length === 1;
        }, p.card, '#hand');
      }
      check(await spectator.page.locator('#hand [data-testid=card]:not([disabled])').count() === 0,
        'the spectator has cards to play');
    });

    await step('before reveal, others show as voted but their cards stay secret', async () => {
      const voterNames = voters.map((p) => p.name);
      for (const viewer of [host, voter1, spectator]) {
        await waitIn(viewer, `the 3 voters are data-voted="true" in phase voting`, (names) => {
          if (document.querySelector('#round')?.dataset.phase !== 'voting') return false;
          const els = [...document.querySelectorAll('#participants [data-testid=participant]')];
          return names.every((n) => els.find((el) => el.dataset.name === n)
            ?.querySelector('[data-testid=vote-status]')?.dataset.voted === 'true');
        }, voterNames);
        const others = voters.filter((p) => p !== viewer);
        const seen = await viewer.page.evaluate((names) => {
          const els = [...document.querySelectorAll('#participants [data-testid=participant]')];
          return {
            html: document.querySelector('#participants').outerHTML,
            texts: names.map((n) => els.find((el) => el.dataset.name === n)?.textContent ?? ''),
          };
        }, others.map((p) => p.name));
        others.forEach((p, i) => {
          check(!containsToken(seen.texts[i], p.card),
            `${viewer.who} sees ${p.who}'s card ${p.card} before reveal: ${JSON.stringify(seen.texts[i])}`);
        });
        for (const p of others) {
          check(!containsToken(seen.html, p.card),
            `${viewer.who}'s #participants HTML contains ${p.who}'s card ${p.card} before reveal:\n${seen.html.slice(0, 1500)}`);
        }
      }
      for (const viewer of people) {
        const early = await viewer.page.evaluate(() => ({
          stat: document.querySelector('#results [data-testid=stat-average]')?.textContent.trim() ?? '',
          bars: [...document.querySelectorAll('#results [data-testid=bar]')].filter((b) => Number(b.dataset.count) > 0).length,
        }));
        check(!/\d/.test(early.stat) && early.bars === 0,
          `${viewer.who} sees results before reveal (average ${JSON.stringify(early.stat)}, ${early.bars} non-empty bars): they give the votes away`);
      }
      await waitIn(host, 'votes cast shows 3', () => /(^|\D)3(\D|$)/.test(document.querySelector('[data-testid=votes-cast]')?.textContent ?? ''), null, '#round');
      await shotAll('voted');
    });

    await step('host reveals', async () => {
      const reveal = host.page.locator('#controls [data-testid=reveal]');
      const text = (await reveal.textContent()).trim();
      check(text.length > 0, 'the reveal button has no text');
      if (lang === 'en') englishRevealText = text;
      if (lang === 'fr') {
        check(!/^reveal\b/i.test(text) && text !== englishRevealText,
          `the French reveal button reads ${JSON.stringify(text)}, the English text (${JSON.stringify(englishRevealText)})`);
      }
      await press(host, reveal);
    });

    await step('everyone sees the cards, the stats and the distribution', async () => {
      const votes = voters.map((p) => ({ name: p.name, card: p.card }));
      await Promise.all(people.map(async (p) => {
        await waitIn(p, `phase revealed and each voter's vote-status shows their card ${JSON.stringify(votes)}`, (vs) => {
          if (document.querySelector('#round')?.dataset.phase !== 'revealed') return false;
          const els = [...document.querySelectorAll('#participants [data-testid=participant]')];
          return vs.every((v) => els.find((el) => el.dataset.name === v.name)
            ?.querySelector('[data-testid=vote-status]')?.textContent.trim() === v.card);
        }, votes);
        const stats = await p.page.evaluate(() => Object.fromEntries(
          ['average', 'median', 'min', 'max', 'agreement', 'mode'].map((k) =>
            [k, document.querySelector(`#results [data-testid=stat-${k}]`)?.textContent.trim() ?? null])));
        for (const k of ['average', 'median', 'min', 'max']) {
          check(Math.abs(numberIn(stats[k]) - EXPECTED[k]) < 0.01,
            `${p.who}: stat-${k} reads ${JSON.stringify(stats[k])}, expected ${EXPECTED[k]} (all stats: ${JSON.stringify(stats)})`);
        }
        check(Math.abs(numberIn(stats.agreement) - EXPECTED.agreement) < 0.5,
          `${p.who}: stat-agreement reads ${JSON.stringify(stats.agreement)}, expected about ${EXPECTED.agreement.toFixed(1)}`);
        check(stats.mode !== null, `${p.who}: no [data-testid=stat-mode]`);
        const bars = await p.page.evaluate(() => [...document.querySelectorAll('#results [data-testid=distribution] [data-testid=bar]')]
          .map((b) => ({ card: b.dataset.card, count: Number(b.dataset.count) })).filter((b) => b.count > 0)
          .sort((a, b) => a.card.localeCompare(b.card)));
        const want = voters.map((v) => ({ card: v.card, count: 1 })).sort((a, b) => a.card.localeCompare(b.card));
        check(JSON.stringify(bars) === JSON.stringify(want),
          `${p.who}: distribution bars with votes are ${JSON.stringify(bars)}, expected ${JSON.stringify(want)}`);
      }));
      await shotAll('revealed');
      // Both themes: the host's page as it is (light), then switched to dark and back.
      for (const theme of ['light', 'dark']) {
        if (theme === 'dark') {
          await press(host, host.page.locator('[data-testid=theme-toggle]').first());
          await waitIn(host, '<html data-theme="dark"> after the theme toggle',
            () => document.documentElement.dataset.theme === 'dark', null, 'head');
        }
        const a11y = await axeViolations(host.page);
        if (a11y) problems.push(`axe found serious/critical violations on the host's room page after reveal (${theme} theme):\n${a11y}`);
      }
      await press(host, host.page.locator('[data-testid=theme-toggle]').first());
      await waitIn(host, '<html data-theme="light"> after toggling back',
        () => document.documentElement.dataset.theme === 'light', null, 'head');
    });

    await step('host records the final estimate; the history shows it', async () => {
      const form = host.page.locator('#controls form[data-testid=estimate-form]');
      await form.locator('[name=value]').fill(EXPECTED.estimate);
      await submit(host, form);
      await Promise.all(people.map(async (p) => {
        await waitIn(p, `history round 1 with estimate ${EXPECTED.estimate}`, (e) => {
          const est = document.querySelector('#history [data-testid=history-round][data-round="1"] [data-testid=history-estimate]');
          return !!est && new RegExp(`(^|[^\\w.,])${e}($|[^\\w.,])`).test(est.textContent.trim());
        }, EXPECTED.estimate, '#history');
        await waitIn(p, `phase completed, final estimate ${EXPECTED.estimate}`, (e) =>
          document.querySelector('#round')?.dataset.phase === 'completed'
          && document.querySelector('[data-testid=final-estimate]')?.textContent.trim() === e, EXPECTED.estimate, '#results');
      }));
      await shotAll('completed');
    });

    await step('the history exports name everyone who voted', async () => {
      for (const kind of ['csv', 'md', 'json']) {
        const link = host.page.locator(`#history [data-testid=export-${kind}]`);
        check(await link.count() > 0, `no export link [data-testid=export-${kind}] in #history`);
        const href = new URL(await link.first().getAttribute('href'), host.page.url()).href;
        const res = await host.context.request.get(href, { timeout: timeoutMs });
        const text = await res.text();
        if (res.status() !== 200) {
          problems.push(`GET ${new URL(href).pathname} answered ${res.status()}: ${text.slice(0, 200)}`);
          continue;
        }
        const missing = voters.filter((p) => !text.includes(p.name)).map((p) => p.name);
        if (kind === 'json') {
          try { JSON.parse(text); } catch (e) { problems.push(`export.json is not JSON (${e.message})`); }
        }
        if (missing.length) problems.push(`export.${kind} does not name ${missing.join(', ')}:\n${text.slice(0, 600)}`);
      }
    });

    setCurrent('end checks');
    if (pageErrors.length) problems.push(`uncaught errors in the pages:\n  ${pageErrors.join('\n  ')}`);
    if (problems.length) throw new StepError(`[${tag}] the round went through, but:\n${problems.join('\n')}`);
  } catch (e) {
    if (current() !== 'end checks') await Promise.all(people.filter((p) => p.page.url() !== 'about:blank')
      .map((p) => shot(p, `failed-${current().replace(/\W+/g, '-')}`).catch(() => {})));
    throw e instanceof StepError ? e : new StepError(`[${tag}] step "${current()}": ${e?.message || e}`);
  } finally {
    await Promise.all(people.map((p) => p.context.close().catch(() => {})));
  }
}
