// The player's and the facilitator's comfort in real Chromium, for en/fr ×
// desktop/phone (the phone at 360 px): an unnamed room titled by its code, no empty
// heading, the code readable in the invite box, a personal link for everyone that
// moves the seat to another device, spectators who watch (never "waiting", no round
// controls, a role switch that says what it does), the skip link landing on the
// first card, keyboard voting by value (13 = "1" then "3", "1" alone after a pause,
// h = ½, ? and c = ☕), the "changed" mark without the card, the "everyone voted" cue
// for the host (highlight, polite announcement, a WebAudio chime when switched on),
// no "most voted" card when each got one vote, the phone's reading order, CSV times
// with three decimals, and axe with no serious or critical violation.
// Screenshots: artifacts/comfort-<lang>-<viewport>-<who>-<step>.png.

import { mkdirSync } from 'node:fs';
import { axeViolations } from './a11y.mjs';
import { StepError, stepTools } from './steps.mjs';
import { ARTIFACTS, VIEWPORTS } from './scenario.mjs';

/** The phone run is narrower than the room scenario's: the smallest common phone. */
const COMFORT_VIEWPORTS = {
  desktop: VIEWPORTS.desktop,
  phone: { ...VIEWPORTS.phone, viewport: { width: 360, height: 780 } },
};
const LOCALES = { en: 'en-US', fr: 'fr-FR' };
/** The words the checks look for, as the pages say them. */
const WORDS = {
  en: { room: 'Room', noTopic: 'No topic yet', watching: 'watching', waiting: 'waiting', voted: 'voted', joinVoter: 'Join as voter', watchOnly: 'Watch only', allVoted: 'Everyone has voted' },
  fr: { room: 'Salle', noTopic: 'Pas encore de sujet', watching: 'observe', waiting: 'en attente', voted: 'a voté', joinVoter: 'Participer au vote', watchOnly: 'Seulement observer', allVoted: 'Tout le monde a voté' },
};
/** Counts the oscillators a page starts: the chime, heard by the test. */
const COUNT_CHIMES = () => {
  window.__chimes = 0;
  const Ctx = window.AudioContext;
  if (!Ctx) return;
  const create = Ctx.prototype.createOscillator;
  Ctx.prototype.createOscillator = function createOscillator() {
    window.__chimes += 1;
    return create.call(this);
  };
};

/**
 * Runs the comfort scenario for one language and viewport. Resolves when every check
 * passed; rejects with a message naming the step otherwise. Closes its contexts.
 */
export async function runComfortScenario({ browser, baseUrl, lang, viewport, timeoutMs = 15_000 }) {
  const tag = `comfort-${lang}-${viewport}`;
  const w = WORDS[lang];
  mkdirSync(ARTIFACTS, { recursive: true });
  const people = [];
  const pageErrors = [];
  const problems = [];
  const { step, check, shot, waitIn, current, setCurrent } = stepTools({ tag, artifacts: ARTIFACTS, timeoutMs });
  const newPerson = async (who, name) => {
    const context = await browser.newContext({
      ...COMFORT_VIEWPORTS[viewport], locale: LOCALES[lang], colorScheme: 'light', reducedMotion: 'reduce',
    });
    context.setDefaultTimeout(timeoutMs);
    context.setDefaultNavigationTimeout(timeoutMs);
    await context.addInitScript(COUNT_CHIMES);
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${who}: ${e.message}`));
    const p = { who, name, context, page };
    people.push(p);
    return p;
  };
  const press = (locator) => (viewport === 'phone' ? locator.tap() : locator.click());
  const connected = (p, page = p.page) => waitIn(p, 'the live connection is open', () =>
    document.querySelector('[data-testid=connection]')?.dataset.state === 'open', null, '[data-testid=connection]', page);
  const myPid = (page) => page.evaluate(() => document.querySelector('.room[data-me]')?.dataset.me ?? null);
  const pressed = (p, card) => waitIn(p, `card ${card} is my vote (aria-pressed="true", and only it)`, (c) => {
    const cards = [...document.querySelectorAll('#hand [data-testid=card]')];
    const on = cards.filter((el) => el.getAttribute('aria-pressed') === 'true').map((el) => el.dataset.card);
    return on.length === 1 && on[0] === c;
  }, card, '#hand');
  const axe = async (p, where) => {
    const found = await axeViolations(p.page);
    if (found) problems.push(`axe found serious/critical violations on ${p.who}'s page ${where}:\n${found}`);
  };
  /** No heading of the page is empty (axe's empty-heading, which it rates minor). */
  const noEmptyHeading = async (p) => {
    const empty = await p.page.evaluate(() => [...document.querySelectorAll('h1, h2, h3, h4, [role=heading]')]
      .filter((h) => !h.textContent.trim()).map((h) => h.outerHTML.slice(0, 120)));
    check(empty.length === 0, `${p.who}: empty headings ${JSON.stringify(empty)}`);
  };

  try {
    const host = await newPerson('host', 'Hana Host');
    const vic = await newPerson('vic', 'Vic Voter');
    const sam = await newPerson('sam', 'Sam Spectator');
    let code;
    let shareUrl;

    await step('an unnamed room is titled by its code, with no empty heading', async () => {
      await host.page.goto(`${baseUrl}/?lang=${lang}`);
      const form = host.page.locator('form[data-testid=create-room]');
      await form.locator('[name=your_name]').fill(host.name);
      await form.locator('select[name=deck]').selectOption('modified');
      await form.locator('input[name=infinity]').check();
      await press(form.locator('[data-testid=create-submit]'));
      await host.page.waitForURL(/\/r\/[^/?#]+\/?(\?.*)?$/);
      code = new URL(host.page.url()).pathname.split('/')[2];
      shareUrl = `${baseUrl}/r/${code}`;
      await connected(host);
      const title = await host.page.title();
      check(title.includes(`${w.room} ${code}`), `the page title is ${JSON.stringify(title)}, not "${w.room} ${code} …"`);
      await waitIn(host, `the heading reads "${w.room} ${code}"`, (t) =>
        document.querySelector('#room-header h1')?.textContent.trim().startsWith(t), `${w.room} ${code}`, '#room-header');
      await waitIn(host, `the round says ${JSON.stringify(w.noTopic)} without a heading`, (t) =>
        document.querySelector('#round [data-testid=no-topic]')?.textContent.trim() === t
        && !document.querySelector('#round [data-testid=topic]'), w.noTopic, '#round');
      await noEmptyHeading(host);
      const shown = await host.page.locator('[data-testid=room-code]').inputValue();
      check(shown === code, `the invite box shows the code ${JSON.stringify(shown)}, not ${code}`);
      check(await host.page.locator(`.invite [data-copy="${code}"]`).count() === 1, 'the code has no copy button');
      await axe(host, 'without a topic');
    });

    await step('a voter and a spectator join; everyone has a personal link of their own', async () => {
      for (const [p, role] of [[vic, 'voter'], [sam, 'spectator']]) {
        await p.page.goto(shareUrl);
        const form = p.page.locator('form[data-testid=join-room]');
        await form.locator('[name=name]').fill(p.name);
        await form.locator(`input[name=role][value=${role}]`).check();
        await press(form.locator('[data-testid=join-submit]'));
        await form.waitFor({ state: 'detached' });
        await connected(p);
      }
      const links = [];
      for (const p of [host, vic, sam]) {
        p.pid = await myPid(p.page);
        const link = await p.page.locator('[data-testid=seat-link]').inputValue();
        check(new RegExp(`^https?://[^/]+/r/${code}/seat/[A-Za-z0-9]+$`).test(link), `${p.who}'s personal link is ${link}`);
        links.push(link);
      }
      check(new Set(links).size === 3, `the personal links are not three different ones: ${links}`);
      sam.link = links[2];
    });

    await step('the spectator watches: "watching", no round controls, a clear role switch', async () => {
      for (const p of [host, vic, sam]) {
        await waitIn(p, `Sam's row says ${JSON.stringify(w.watching)}, never waiting or voted`, ([pid, word, bad]) => {
          const status = document.querySelector(`#participants [data-pid="${pid}"] [data-testid=vote-status]`);
          return !!status && status.dataset.watching === 'true' && status.textContent.trim() === word
            && !bad.includes(status.textContent.trim());
        }, [sam.pid, w.watching, [w.waiting, w.voted]]);
      }
      for (const id of ['reveal', 'reset', 'next-round', 'topic-form']) {
        check(await sam.page.locator(`#controls [data-testid=${id}]`).count() === 0, `the spectator is offered ${id}`);
      }
      const samSwitch = (await sam.page.locator('#controls [data-testid=switch-role]').textContent()).trim();
      check(samSwitch === w.joinVoter, `the spectator's role switch reads ${JSON.stringify(samSwitch)}, not ${JSON.stringify(w.joinVoter)}`);
      const vicSwitch = (await vic.page.locator('#controls [data-testid=switch-role]').textContent()).trim();
      check(vicSwitch === w.watchOnly, `the voter's role switch reads ${JSON.stringify(vicSwitch)}, not ${JSON.stringify(w.watchOnly)}`);
      check(await vic.page.locator('#controls [data-testid=reveal]').count() === 1, 'a voter is not offered Reveal');
      await axe(sam, 'as a spectator');
    });

    await step('the spectator\'s personal link moves the seat to another device', async () => {
      const other = await browser.newContext({ ...COMFORT_VIEWPORTS[viewport], locale: LOCALES[lang], reducedMotion: 'reduce' });
      try {
        const page = await other.newPage();
        await page.goto(sam.link);
        await page.waitForURL(new RegExp(`/r/${code}/?(\\?.*)?$`));
        await connected(sam, page);
        const pid = await myPid(page);
        check(pid === sam.pid, `the other device has seat ${pid}, not Sam's ${sam.pid}`);
        check(await page.locator('form[data-testid=join-room]').count() === 0, 'the other device is asked to join');
      } finally {
        await other.close();
      }
    });

    await step('the skip link lands on the first card', async () => {
      await vic.page.reload();
      await connected(vic);
      await vic.page.keyboard.press('Tab');
      const first = await vic.page.evaluate(() => document.activeElement?.matches('a.skip[href="#hand"]') ?? false);
      check(first, 'Tab from the top does not reach the skip link first');
      await vic.page.keyboard.press('Enter');
      await waitIn(vic, 'the focus is on the first card (0)', () =>
        document.activeElement?.dataset?.testid === 'card' && document.activeElement.dataset.card === '0', null, '#hand');
    });

    await step('the host switches the everyone-voted sound on (off by default)', async () => {
      const toggle = host.page.locator('#controls [data-testid=sound-toggle]');
      check(!(await toggle.isChecked()), 'the sound is on before anyone switched it on');
      await press(toggle);
      await waitIn(host, 'the choice is remembered in this browser', () =>
        localStorage.getItem('poker.sound.everyoneVoted') === 'on', null, '#controls');
      check(await vic.page.locator('#controls [data-testid=sound-toggle]').count() === 0, 'a voter is offered the moderators\' sound');
    });

    await step('typing a value picks that card; others see "changed", never the card', async () => {
      const kbd = await vic.page.locator('#hand [data-testid=card][data-card="13"]').evaluate((el) =>
        ({ kbd: el.querySelector('kbd')?.textContent.trim(), aria: el.getAttribute('aria-keyshortcuts') }));
      check(kbd.kbd === '13' && kbd.aria === '13', `card 13 shows the keys ${JSON.stringify(kbd)}, not 13`);
      await vic.page.evaluate(() => document.activeElement?.blur?.());
      // "1" then "3" at once is 13; "8" has nothing after it; "1" alone waits, then picks 1.
      for (const [keys, card] of [['13', '13'], ['8', '8'], ['1', '1'], ['h', '½'], ['?', '?'], ['c', '☕'], ['3', '3']]) {
        await vic.page.keyboard.type(keys);
        await pressed(vic, card);
        if (card === '8') {
          for (const p of [host, sam]) {
            await waitIn(p, 'Vic\'s row shows the "changed" mark', (pid) =>
              !!document.querySelector(`#participants [data-pid="${pid}"] [data-testid=vote-changed]`), vic.pid);
          }
        }
      }
      for (const p of [host, sam]) {
        const row = await p.page.locator(`#participants [data-pid="${vic.pid}"]`).textContent();
        check(!/[0-9½?☕∞]/.test(row), `${p.who} reads Vic's row before the reveal as ${JSON.stringify(row.trim())}: a card shows`);
      }
      await Promise.all(people.map((p) => shot(p, 'changed')));
    });

    await step('when everyone has voted, the host sees it, hears it and is told', async () => {
      check(await host.page.locator('#controls [data-testid=all-voted]').count() === 0, 'the cue shows before the host voted');
      const chimesBefore = await host.page.evaluate(() => window.__chimes);
      await press(host.page.locator('#hand [data-testid=card][data-card="5"]'));
      await pressed(host, '5');
      await waitIn(host, `the cue ${JSON.stringify(w.allVoted)} shows and Reveal is highlighted`, () =>
        !!document.querySelector('#controls [data-testid=all-voted]')
        && document.querySelector('#controls [data-testid=reveal]')?.classList.contains('ready'), null, '#controls');
      await waitIn(host, `the polite live region says ${JSON.stringify(w.allVoted)}`, (t) => {
        const a = document.getElementById('announcer');
        return a?.getAttribute('aria-live') === 'polite' && a.textContent.trim() === t;
      }, w.allVoted, '#announcer');
      await waitIn(host, 'a chime played (WebAudio oscillators started)', (n) => window.__chimes > n, chimesBefore, '#controls');
      check(await vic.page.locator('#controls [data-testid=all-voted]').count() === 0, 'a voter gets the moderators\' cue');
      await shot(host, 'everyone-voted');
      await axe(host, 'when everyone has voted');
    });

    await step('after the reveal: no "most voted" card for one vote each; the spectator still watches', async () => {
      await press(host.page.locator('#controls [data-testid=reveal]'));
      for (const p of [host, vic, sam]) {
        await waitIn(p, 'revealed, most voted reads "–", Sam watching', ([pid, word]) =>
          document.querySelector('#round')?.dataset.phase === 'revealed'
          && document.querySelector('#results [data-testid=stat-mode]')?.textContent.trim() === '–'
          && document.querySelector(`#participants [data-pid="${pid}"] [data-testid=vote-status]`)?.textContent.trim() === word,
        [sam.pid, w.watching], '#results');
      }
      await Promise.all(people.map((p) => shot(p, 'revealed')));
      await axe(sam, 'after the reveal');
    });

    await step('the layout reads in order', async () => {
      const boxes = await host.page.evaluate(() => Object.fromEntries(
        ['#round', '#hand', '#participants', '.invite', '#controls', '#history'].map((sel) => {
          const r = document.querySelector(sel)?.getBoundingClientRect();
          return [sel, r ? { top: r.top + window.scrollY, left: r.left, right: r.right } : null];
        })));
      check(Object.values(boxes).every(Boolean), `missing boxes: ${JSON.stringify(boxes)}`);
      if (viewport === 'phone') {
        const order = ['#round', '#hand', '#participants', '.invite', '#controls', '#history'];
        const tops = order.map((sel) => boxes[sel].top);
        check(tops.every((t, i) => i === 0 || t > tops[i - 1]),
          `at 360 px the page does not read round, cards, people, invite, controls, history: ${JSON.stringify(boxes)}`);
        const wide = await host.page.evaluate(() => document.documentElement.scrollWidth);
        check(wide <= 360, `the page is ${wide} px wide at 360 px`);
      } else {
        check(boxes['#participants'].left >= boxes['#hand'].right && boxes['.invite'].left >= boxes['#hand'].right,
          `on a wide screen people and invite are not beside the cards: ${JSON.stringify(boxes)}`);
        check(boxes['#controls'].top > boxes['#hand'].top && boxes['#history'].top > boxes['#controls'].top,
          `on a wide screen the controls and history are not below the cards: ${JSON.stringify(boxes)}`);
      }
    });

    await step('the CSV export writes every time with three decimals', async () => {
      const form = host.page.locator('#controls form[data-testid=estimate-form]');
      await form.locator('[name=value]').fill('5');
      await press(form.locator('[data-testid=estimate-submit]'));
      await waitIn(host, 'the round is completed', () => document.querySelector('#round')?.dataset.phase === 'completed', null, '#round');
      const res = await host.context.request.get(`${baseUrl}/r/${code}/export.csv`, { timeout: timeoutMs });
      const rows = (await res.text()).trim().split('\r\n').map((r) => r.split(','));
      check(res.status() === 200 && rows.length === 3, `export.csv answered ${res.status()} with ${rows.length} rows`);
      const times = rows.slice(1).flatMap((r) => r.slice(-2));
      check(times.every((t) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(t)), `CSV times ${JSON.stringify(times)}`);
    });

    setCurrent('end checks');
    if (pageErrors.length) problems.push(`uncaught errors in the pages:\n  ${pageErrors.join('\n  ')}`);
    if (problems.length) throw new StepError(`[${tag}] ${problems.join('\n')}`);
  } catch (e) {
    if (current() !== 'end checks') await Promise.all(people.filter((p) => p.page.url() !== 'about:blank')
      .map((p) => shot(p, `failed-${current().replace(/\W+/g, '-')}`).catch(() => {})));
    throw e instanceof StepError ? e : new StepError(`[${tag}] step "${current()}": ${e?.message || e}`);
  } finally {
    await Promise.all(people.map((p) => p.context.close().catch(() => {})));
  }
}
