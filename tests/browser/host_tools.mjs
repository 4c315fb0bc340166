// Host tools, identity and admin edits in real Chromium (English, desktop, once), written
// against /work/plan/CONTRACT.md: every person in their own browser context, every
// check a bounded wait on the DOM (no sleeps).
//
// 1. Host tools reach everyone live: rename, auto-reveal, deck, timer, co-host,
//    results webhook (en and fr), transfer, kick, lock/unlock.
// 2. Identity: a second tab is the same seat; a reload keeps the seat and the vote; a
//    second room keeps the first room's seat (per-room cookies).
// 3. Admin edits over /api (superuser made by the CLI before `serve`): rename reaches
//    the players without reload; deleting the room tells them so.
// Screenshots: artifacts/host-tools-<who>-<step>.png.

import { mkdirSync } from 'node:fs';
import { axeViolations } from './a11y.mjs';
import { StepError, stepTools } from './steps.mjs';
import { ARTIFACTS, VIEWPORTS } from './scenario.mjs';

/** The superuser run.mjs asks server.mjs to create before `serve`. */
export const ADMIN = { email: 'admin@example.com', password: 'admin-password-123' };


/**
 * Runs the whole host-tools scenario. Resolves when every check passed; rejects with a
 * message naming the step and the person otherwise. Closes its contexts either way.
 */
export async function runHostToolsScenario({ browser, baseUrl, timeoutMs = 15_000 }) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const people = [];
  const pageErrors = [];
  const { step, check, shot, waitIn, current, setCurrent } = stepTools({ tag: 'host-tools', artifacts: ARTIFACTS, timeoutMs });
  const shotAll = (stepName, list = people) => Promise.all(list.map((p) => shot(p, stepName)));
  const watchSockets = (p, page) => {
    page.on('pageerror', (e) => pageErrors.push(`${p.who}: ${e.message}`));
    if (page !== p.page) return;
    // Only this document's sockets: a navigation drops the old ones without a close event.
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) p.sockets = []; });
    page.on('websocket', (ws) => p.sockets.push(ws));
  };
  const newPerson = async (who, name) => {
    const context = await browser.newContext({ ...VIEWPORTS.desktop, locale: 'en-US', colorScheme: 'light', reducedMotion: 'reduce' });
    context.setDefaultTimeout(timeoutMs);
    context.setDefaultNavigationTimeout(timeoutMs);
    const page = await context.newPage();
    const p = { who, name, context, page, sockets: [] };
    watchSockets(p, page);
    people.push(p);
    return p;
  };
  const connected = (p, page = p.page) => waitIn(p, 'the live connection is open ([data-testid=connection][data-state=open])',
    () => document.querySelector('[data-testid=connection]')?.dataset.state === 'open', null, '[data-testid=connection]', page);
  const submit = (form) => form.locator('button[type=submit]').first().click();
  const myPid = (page) => page.evaluate(() => document.querySelector('.room[data-me]')?.dataset.me ?? null);
  const pidOf = (page, name) => page.evaluate((n) =>
    [...document.querySelectorAll('#participants [data-testid=participant]')].find((el) => el.dataset.name === n)?.dataset.pid ?? null, name);
  const headerHas = (p, text) => waitIn(p, `the room header reads ${JSON.stringify(text)}`,
    (t) => document.querySelector('#room-header h1')?.textContent.includes(t), text, '#room-header');
  /** Everyone in `list` sees exactly the people `names` in #participants. */
  const seeExactly = (list, names) => Promise.all(list.map((p) => waitIn(p, `#participants lists exactly ${JSON.stringify(names)}, each once`, (ns) => {
    const got = [...document.querySelectorAll('#participants [data-testid=participant]')].map((el) => el.dataset.name).sort();
    return JSON.stringify(got) === JSON.stringify([...ns].sort());
  }, names)));
  const badgeOf = (p, name, badge) => waitIn(p, `${name}'s row shows the ${badge} badge (and only that role badge)`, ([n, b]) => {
    const row = [...document.querySelectorAll('#participants [data-testid=participant]')].find((el) => el.dataset.name === n);
    if (!row) return false;
    const roles = ['host', 'cohost'].filter((k) => row.querySelector(`.badge.${k}`));
    return b === 'none' ? roles.length === 0 : roles.length === 1 && roles[0] === b;
  }, [name, badge]);
  const openPanel = async (p) => {
    const panel = p.page.locator('#controls details[data-testid=host-panel]');
    await panel.waitFor();
    if (!(await panel.evaluate((d) => d.open))) await panel.locator('summary').click();
    await waitIn(p, 'the host panel is open', () => document.querySelector('#controls details[data-testid=host-panel]')?.open === true, null, '#controls');
  };
  const memberButton = (p, pid, testid) => p.page.locator(`#controls [data-testid=member][data-pid="${pid}"] [data-testid=${testid}]`);
  const vote = async (p, card) => {
    await p.page.locator(`#hand [data-testid=card][data-card="${card}"]`).click();
    await waitIn(p, `my card ${card} is aria-pressed="true"`, (c) =>
      document.querySelector(`#hand [data-testid=card][data-card="${c}"]`)?.getAttribute('aria-pressed') === 'true', card, '#hand');
  };
  const joinVia = async (p, url, name, page = p.page) => {
    await page.goto(url);
    const form = page.locator('form[data-testid=join-room]');
    await form.locator('[name=name]').fill(name);
    await form.locator('[data-testid=join-submit]').click();
    await form.waitFor({ state: 'detached' });
    await connected(p, page);
  };
  const createRoom = async (p, roomName) => {
    await p.page.goto(`${baseUrl}/?lang=en`);
    const form = p.page.locator('form[data-testid=create-room]');
    await form.locator('[name=room_name]').fill(roomName);
    await form.locator('[name=your_name]').fill(p.name);
    await form.locator('input[name=role][value=voter]').check();
    await form.locator('select[name=deck]').selectOption('fibonacci');
    await form.locator('[data-testid=create-submit]').click();
    await p.page.waitForURL(/\/r\/[^/?#]+\/?(\?.*)?$/);
    await connected(p);
    return new URL(p.page.url()).pathname.split('/')[2];
  };
  const timerRunning = (p, what) => waitIn(p, `${what} (is-running, counted down below 2:00)`, () => {
    const t = document.querySelector('#round [data-testid=timer]');
    const m = (t?.textContent ?? '').match(/(\d+):(\d\d)/);
    if (!t || !t.classList.contains('is-running') || !m) return false;
    const left = Number(m[1]) * 60 + Number(m[2]);
    return left > 0 && left < 120;
  }, null, '#round');
  /** The page ended the way a kick or a deletion ends it: the message, a final close. */
  const endedWith = async (p, message) => {
    await waitIn(p, `a toast says ${message}`, (m) =>
      [...document.querySelectorAll('#toasts .toast')].some((t) => new RegExp(m, 'i').test(t.textContent)), message.source, '#toasts');
    await waitIn(p, 'the connection shows closed for good (data-state=closed, data-ended=true)', () => {
      const el = document.querySelector('[data-testid=connection]');
      return el?.dataset.state === 'closed' && el?.dataset.ended === 'true';
    }, null, '[data-testid=connection]');
    check(p.sockets.length > 0, `${p.who}: the page opened no WebSocket to watch`);
    await Promise.all(p.sockets.filter((ws) => !ws.isClosed()).map((ws) =>
      ws.waitForEvent('close', { timeout: timeoutMs }).catch(() => {
        throw new StepError(`${p.who}: the WebSocket #${p.sockets.indexOf(ws)} of ${p.sockets.length} ${ws.url()} is still open ${timeoutMs} ms after the message ${message}`);
      })));
  };

  try {
    const host = await newPerson('host', 'Hana Host');
    const vic = await newPerson('vic', 'Vic Voter');
    const wes = await newPerson('wes', 'Wes Voter');
    const nora = await newPerson('nora', 'Nora Newcomer');
    const players = [host, vic, wes];
    let code;
    let shareUrl;

    await step('host creates the room; two voters join', async () => {
      code = await createRoom(host, 'Planning');
      shareUrl = `${baseUrl}/r/${code}`;
      await Promise.all([vic, wes].map((p) => joinVia(p, shareUrl, p.name)));
      await seeExactly(players, players.map((p) => p.name));
      for (const p of players) p.pid = await myPid(p.page);
      check(players.every((p) => p.pid) && new Set(players.map((p) => p.pid)).size === 3, `seats are not 3 distinct ids: ${players.map((p) => p.pid)}`);
      await badgeOf(vic, host.name, 'host');
      check(await vic.page.locator('#controls [data-testid=host-panel]').count() === 0, 'a plain voter sees the host panel');
    });

    await step('rename reaches everyone', async () => {
      await openPanel(host);
      const form = host.page.locator('#controls form[data-testid=rename-form]');
      await form.locator('[name=name]').fill('Sprint 7 refinement');
      await submit(form);
      await Promise.all(players.map((p) => headerHas(p, 'Sprint 7 refinement')));
      await shotAll('renamed', players);
    });

    await step('auto-reveal: the round reveals itself at the last vote', async () => {
      const form = host.page.locator('#controls form[data-testid=settings-form]');
      await form.locator('input[name=auto_reveal]').check();
      await submit(form);
      await waitIn(host, 'the settings form shows auto-reveal on', () =>
        document.querySelector('#controls form[data-testid=settings-form] input[name=auto_reveal]')?.checked === true, null, '#controls');
      await waitIn(host, 'the host panel stays open after the settings re-render', () =>
        document.querySelector('#controls details[data-testid=host-panel]')?.open === true, null, '#controls');
      await shot(host, 'settings-open');
      const a11y = await axeViolations(host.page);
      check(!a11y, `axe found serious/critical violations on the host's page with the settings panel open:\n${a11y}`);
      await vote(host, '5');
      await vote(vic, '8');
      await waitIn(wes, '2 votes cast, still in phase voting', () =>
        document.querySelector('#round')?.dataset.phase === 'voting' && document.querySelector('[data-testid=votes-cast]')?.textContent.trim() === '2', null, '#round');
      await vote(wes, '8');
      await Promise.all(players.map((p) => waitIn(p, 'phase revealed without anyone pressing reveal, cards shown', () => {
        if (document.querySelector('#round')?.dataset.phase !== 'revealed') return false;
        const s = [...document.querySelectorAll('#participants [data-testid=vote-status]')].map((el) => el.textContent.trim()).sort();
        return JSON.stringify(s) === JSON.stringify(['5', '8', '8']);
      })));
      await shotAll('auto-revealed', players);
    });

    await step('deck change to T-shirt reaches everyone', async () => {
      await host.page.locator('#controls [data-testid=next-round]').click();
      await Promise.all(players.map((p) => waitIn(p, 'round 2 in phase voting', () =>
        document.querySelector('#round')?.dataset.phase === 'voting' && document.querySelector('#round')?.dataset.round === '2', null, '#round')));
      const form = host.page.locator('#controls form[data-testid=deck-form]');
      await form.locator('select[name=kind]').selectOption('tshirt');
      await submit(form);
      await Promise.all(players.map((p) => waitIn(p, 'my cards are XS S M L XL XXL (besides ? ☕ ∞), no numbers left', () => {
        const cards = [...document.querySelectorAll('#hand [data-testid=card]')].map((el) => el.dataset.card)
          .filter((c) => !['?', '☕', '∞'].includes(c));
        return JSON.stringify(cards) === JSON.stringify(['XS', 'S', 'M', 'L', 'XL', 'XXL']);
      }, null, '#hand')));
      await shotAll('tshirt', players);
    });

    await step('the countdown timer runs for everyone', async () => {
      const form = host.page.locator('#controls [data-testid=timer-panel] form:has(input[name=seconds][type=number])');
      await form.locator('input[name=seconds]').fill('120');
      await submit(form);
      await host.page.locator('#controls [data-testid=timer-start]').click();
      await Promise.all(players.map((p) => timerRunning(p, 'the timer is running')));
      await shotAll('timer', players);
    });

    await step('a second tab of the host is the same seat', async () => {
      const tab = await host.context.newPage();
      watchSockets(host, tab);
      await tab.goto(shareUrl);
      await connected(host, tab);
      check(await tab.locator('form[data-testid=join-room]').count() === 0, 'the second tab shows the join form');
      const pid = await myPid(tab);
      check(pid === host.pid, `the second tab is seat ${pid}, the first is ${host.pid}`);
      await seeExactly(players, players.map((p) => p.name));
      await waitIn(host, 'the second tab lists 3 participants', () =>
        document.querySelectorAll('#participants [data-testid=participant]').length === 3, null, '#participants', tab);
      await shot(host, 'second-tab', tab);
      await tab.close();
      await waitIn(vic, 'the host is still online once its second tab closed', (n) =>
        [...document.querySelectorAll('#participants [data-testid=participant]')].find((el) => el.dataset.name === n)?.dataset.presence === 'online',
      host.name);
    });

    await step('a reload keeps the seat and the vote', async () => {
      await vote(vic, 'M');
      await vic.page.reload();
      await connected(vic);
      check(await myPid(vic.page) === vic.pid, 'the reloaded page is another seat');
      await waitIn(vic, 'after the reload card M is still aria-pressed="true", and only it', () => {
        const cards = [...document.querySelectorAll('#hand [data-testid=card]')];
        return cards.filter((el) => el.getAttribute('aria-pressed') === 'true').map((el) => el.dataset.card).join() === 'M';
      }, null, '#hand');
      await seeExactly(players, players.map((p) => p.name));
      await shot(vic, 'reloaded');
    });

    await step('co-host: the badge shows for all; the voter gets moderator controls', async () => {
      await openPanel(host);
      await memberButton(host, vic.pid, 'make-cohost').click();
      await Promise.all(players.map((p) => badgeOf(p, vic.name, 'cohost')));
      await vic.page.locator('#controls [data-testid=host-panel]').waitFor();
      await openPanel(vic);
      // Settings, co-hosts and the host role are the host's alone (the server refuses
      // them from a co-host), so a co-host is not offered them.
      await waitIn(vic, 'the co-host can kick the other voter (not the host) but not hand over the host role, name co-hosts or change settings', () =>
        document.querySelectorAll('#controls [data-testid=member] [data-testid=kick]').length === 1
        && document.querySelectorAll('#controls [data-testid=make-host]').length === 0
        && document.querySelectorAll('#controls [data-testid=make-cohost]').length === 0
        && !document.querySelector('#controls form[data-testid=settings-form]')
        && !!document.querySelector('#controls form[data-testid=rename-form]'), null, '#controls');
      await shotAll('cohost', players);
    });

    await step('results webhook: the host saves one (URL masked), a co-host only sees that it is set; in French too', async () => {
      const panelText = (p, testid, text, page = p.page) => waitIn(p, `[data-testid=${testid}] reads ${JSON.stringify(text)}`,
        ([id, t]) => document.querySelector(`#controls [data-testid=${id}]`)?.textContent.includes(t), [testid, text], '#controls', page);
      const toast = (p, re, page = p.page) => waitIn(p, `a toast says ${re}`,
        (src) => [...document.querySelectorAll('#toasts .toast')].some((el) => new RegExp(src).test(el.textContent)), re.source, '#toasts', page);
      const save = async (page, kind, url) => {
        const form = page.locator('#controls form[data-testid=webhook-form]');
        await form.locator('select[name=kind]').selectOption(kind);
        await form.locator('input[name=url]').fill(url);
        await submit(form);
      };
      await openPanel(host);
      await save(host.page, 'slack', 'https://hooks.example.com/services/T0/B0/s3cret');
      await panelText(host, 'webhook-status', 'Estimates are posted to Slack');
      await panelText(host, 'webhook-url', 'https://hooks.example.com/…');
      check(!(await host.page.locator('#controls').textContent()).includes('s3cret'), 'the URL\'s secret part is shown');
      await panelText(vic, 'webhook-status', 'Estimates are posted to Slack');
      check(await vic.page.locator('#controls [data-testid=webhook-url], #controls form[data-testid=webhook-form]').count() === 0,
        'a co-host sees the URL or the form');
      await host.page.locator('#controls [data-testid=webhook-test]').click();
      await toast(host, /Test message on its way/);
      const a11y = await axeViolations(host.page);
      check(!a11y, `axe found serious/critical violations with the webhook set:\n${a11y}`);
      await shotAll('webhook', [host, vic]);

      // A host reading French: a private address is refused in French; Teams saved; removed.
      const context = await browser.newContext({ ...VIEWPORTS.desktop, locale: 'fr-FR', colorScheme: 'light', reducedMotion: 'reduce' });
      context.setDefaultTimeout(timeoutMs);
      const fr = { who: 'fr-host', name: 'Fanny', context, page: await context.newPage(), sockets: [] };
      people.push(fr);
      await fr.page.goto(`${baseUrl}/?lang=fr`);
      const create = fr.page.locator('form[data-testid=create-room]');
      await create.locator('[name=your_name]').fill(fr.name);
      await create.locator('[data-testid=create-submit]').click();
      await fr.page.waitForURL(/\/r\/[^/?#]+\/?(\?.*)?$/);
      await connected(fr);
      await openPanel(fr);
      await panelText(fr, 'webhook-status', 'Aucun webhook');
      await save(fr.page, 'teams', 'http://127.0.0.1:9/hook');
      await toast(fr, /ne publie pas vers des adresses locales/);
      await save(fr.page, 'teams', 'https://example.webhook.office.com/webhookb2/x');
      await panelText(fr, 'webhook-status', 'Les estimations sont publiées vers Microsoft Teams');
      const a11yFr = await axeViolations(fr.page);
      check(!a11yFr, `axe found serious/critical violations on the French host's page with the webhook set:\n${a11yFr}`);
      await shot(fr, 'webhook-fr');
      await fr.page.locator('#controls [data-testid=webhook-remove]').click();
      await panelText(fr, 'webhook-status', 'Aucun webhook');
    });

    await step('transfer: the host badge moves; the old host becomes co-host', async () => {
      await memberButton(host, wes.pid, 'make-host').click();
      await Promise.all(players.map(async (p) => {
        await badgeOf(p, wes.name, 'host');
        await badgeOf(p, host.name, 'cohost');
      }));
      await waitIn(host, 'the old host no longer has transfer buttons', () =>
        document.querySelectorAll('#controls [data-testid=make-host]').length === 0, null, '#controls');
      await openPanel(wes);
      await waitIn(wes, 'the new host can hand the host role to the two others', () =>
        document.querySelectorAll('#controls [data-testid=member] [data-testid=make-host]').length === 2, null, '#controls');
      await shotAll('transferred', players);
    });

    await step('kick: the voter disappears for everyone; their page says why and its socket closes', async () => {
      await openPanel(wes);
      await memberButton(wes, vic.pid, 'kick').click();
      await seeExactly([host, wes], [host.name, wes.name]);
      await endedWith(vic, /removed from (the|this) room/);
      await shotAll('kicked', players);
      await vic.page.goto(shareUrl);
      await vic.page.locator('form[data-testid=join-room]').waitFor();
      await shot(vic, 'after-kick-reopen');
    });

    await step('lock: a newcomer sees the locked notice; unlocking lets them in', async () => {
      await wes.page.locator('#controls [data-testid=lock]').click();
      await Promise.all([host, wes].map((p) => waitIn(p, 'the header shows the locked badge', () =>
        !!document.querySelector('#room-header .badge.lock'), null, '#room-header')));
      await nora.page.goto(shareUrl);
      await nora.page.getByRole('heading', { name: /locked/i }).waitFor();
      check(await nora.page.locator('form[data-testid=join-room]').count() === 0, 'the locked room still offers the join form');
      await shot(nora, 'locked');
      await wes.page.locator('#controls [data-testid=lock]').click();
      await waitIn(wes, 'the header no longer shows the locked badge', () => !document.querySelector('#room-header .badge.lock'), null, '#room-header');
      await joinVia(nora, shareUrl, nora.name);
      nora.pid = await myPid(nora.page);
      await timerRunning(nora, 'the newcomer sees the countdown running');
      await seeExactly([host, wes, nora], [host.name, wes.name, nora.name]);
      await shot(nora, 'joined');
    });

    await step('a second room keeps the first room\'s seat (per-room cookies)', async () => {
      const code2 = await createRoom(nora, 'Other team');
      check(code2 !== code, 'the second room has the same code');
      const url2 = `${baseUrl}/r/${code2}`;
      const tab = await host.context.newPage();
      watchSockets(host, tab);
      await joinVia(host, url2, host.name, tab);
      check(await myPid(tab) !== host.pid, 'the host has the same seat id in both rooms');
      await waitIn(host, 'room 2 lists Nora and the host, once each', (ns) => {
        const got = [...document.querySelectorAll('#participants [data-testid=participant]')].map((el) => el.dataset.name).sort();
        return JSON.stringify(got) === JSON.stringify(ns);
      }, [host.name, nora.name].sort(), '#participants', tab);
      await tab.goto(shareUrl);
      await connected(host, tab);
      check(await myPid(tab) === host.pid, `room 1 in the host's browser is seat ${await myPid(tab)}, was ${host.pid}`);
      await seeExactly([wes], [host.name, wes.name, nora.name]);
      await waitIn(host, 'room 1 in the host\'s new tab lists the 3 people, once each', (ns) => {
        const got = [...document.querySelectorAll('#participants [data-testid=participant]')].map((el) => el.dataset.name).sort();
        return JSON.stringify(got) === JSON.stringify(ns);
      }, [host.name, wes.name, nora.name].sort(), '#participants', tab);
      await shot(host, 'two-rooms', tab);
      await tab.close();
      await nora.page.goto(shareUrl);
      await connected(nora);
      check(await myPid(nora.page) === nora.pid, 'Nora lost her seat in room 1 after creating room 2');
      await seeExactly([nora, host, wes], [host.name, wes.name, nora.name]);
    });

    const stayed = [host, wes, nora];
    let headers;
    let recordUrl;
    await step('admin rename over /api reaches the players live', async () => {
      const auth = await fetch(`${baseUrl}/api/collections/_superusers/auth-with-password`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ identity: ADMIN.email, password: ADMIN.password }), signal: AbortSignal.timeout(timeoutMs),
      });
      const authBody = await auth.json().catch(() => ({}));
      check(auth.status === 200 && authBody.token, `superuser sign-in answered ${auth.status}: ${JSON.stringify(authBody).slice(0, 300)}`);
      headers = { Authorization: authBody.token, 'content-type': 'application/json' };
      const list = await fetch(`${baseUrl}/api/collections/rooms/records?filter=${encodeURIComponent(`(code='${code}')`)}`,
        { headers, signal: AbortSignal.timeout(timeoutMs) });
      const listBody = await list.json().catch(() => ({}));
      const id = listBody.items?.[0]?.id;
      check(list.status === 200 && id && listBody.items.length === 1, `room lookup answered ${list.status}: ${JSON.stringify(listBody).slice(0, 300)}`);
      recordUrl = `${baseUrl}/api/collections/rooms/records/${id}`;
      const patched = await fetch(recordUrl, { method: 'PATCH', headers, body: JSON.stringify({ name: 'Renamed by admin' }), signal: AbortSignal.timeout(timeoutMs) });
      check(patched.status === 200, `PATCH ${recordUrl} answered ${patched.status}: ${(await patched.text()).slice(0, 300)}`);
      await Promise.all(stayed.map((p) => headerHas(p, 'Renamed by admin')));
      await Promise.all(stayed.map((p) => connected(p)));
      await Promise.all(stayed.map((p) => timerRunning(p, 'the admin edit did not stop the countdown')));
      await shotAll('admin-renamed', stayed);
    });

    await step('admin delete over /api: the players see the deleted-room message', async () => {
      const deleted = await fetch(recordUrl, { method: 'DELETE', headers, signal: AbortSignal.timeout(timeoutMs) });
      check(deleted.status === 204, `DELETE ${recordUrl} answered ${deleted.status}: ${(await deleted.text()).slice(0, 300)}`);
      await Promise.all(stayed.map((p) => endedWith(p, /room was deleted/)));
      await shotAll('deleted', stayed);
    });

    setCurrent('end checks');
    if (pageErrors.length) throw new StepError(`[host-tools] uncaught errors in the pages:\n  ${pageErrors.join('\n  ')}`);
  } catch (e) {
    if (current() !== 'end checks') await Promise.all(people.filter((p) => p.page.url() !== 'about:blank')
      .map((p) => shot(p, `failed-${current().replace(/\W+/g, '-')}`).catch(() => {})));
    throw e instanceof StepError ? e : new StepError(`[host-tools] step "${current()}": ${e?.message || e}`);
  } finally {
    await Promise.all(people.map((p) => p.context.close().catch(() => {})));
  }
}
