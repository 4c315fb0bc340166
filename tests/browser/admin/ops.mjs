// Operations pages: settings (app name shown in the top bar, a test mail in log
// mode, room expiry saved and refused inline, French labels), request logs (a 404
// found with `status >= 400`, a bad filter explained, one entry in detail), and a
// backup made, listed and restored in the UI (a record created after it is gone),
// plus the pages at 360 px wide (with the Crons and collections export/import pages).

const NEW_NAME = 'Ops Poker';
const MISSING = '/api/ops-section-missing';
const BACKUP = 'ui_before.db';

/** Runs the section; expects `ctx.admin.page` signed in, leaves it signed in. */
export async function run(ctx) {
  const { step, check, shot, waitIn, admin, baseUrl, credentials } = ctx;
  const { page } = admin;

  await step('settings: a new app name shows in the top bar', async () => {
    await page.goto(`${baseUrl}/_/settings?lang=en`);
    await page.getByLabel('Application name').fill(NEW_NAME);
    await page.getByTestId('save-meta').click();
    await page.waitForURL((u) => u.search.includes('flash=settings_saved'));
    await waitIn(admin, 'the top bar shows the new app name',
      (name) => document.querySelector('.brand')?.textContent.includes(name), NEW_NAME, '.topbar');
    await waitIn(admin, 'a toast says the settings are saved',
      () => document.querySelector('[data-testid=flash]')?.textContent.includes('Settings saved'), null, '#toasts');
    await ctx.accessible(admin, 'settings page');
    await shot(admin, 'settings');
  });

  await step('settings: test mail in log mode', async () => {
    await page.locator('#test-mail input[name=email]').fill('ops@example.com');
    await page.getByTestId('send-test-mail').click();
    await waitIn(admin, 'the test mail result says it went to the server log',
      () => document.querySelector('[data-testid=test-mail-result]')?.textContent.includes('server log'), null, '#test-mail');
    check(!(await page.locator('#test-mail .form-error').count()), 'the test mail shows an error');
    await page.locator('#test-mail input[name=email]').fill('not-an-address');
    await page.getByTestId('send-test-mail').click();
    await waitIn(admin, 'a bad address is refused next to the field',
      () => !!document.querySelector('#err-test-email')?.textContent.trim(), null, '#test-mail');
    await shot(admin, 'settings-test-mail', page);
  });

  await step('settings: room expiry saved, out of range refused inline', async () => {
    const ttl = page.locator('input[name="apps.poker.roomTtl"]');
    await ttl.fill('7200');
    await page.getByTestId('save-apps').click();
    await page.waitForURL((u) => u.search.includes('flash=settings_saved'));
    check(await ttl.inputValue() === '7200', `room expiry shows ${await ttl.inputValue()} after saving 7200`);
    await ttl.fill('0');
    await page.getByTestId('save-apps').click();
    await waitIn(admin, 'the room expiry error is shown next to the field',
      () => /between 1/.test(document.querySelector('#err-apps-poker-roomTtl')?.textContent || ''), null, '#apps');
    check(await ttl.inputValue() === '0', 'the refused value is kept in the field');
    check(await ttl.getAttribute('aria-invalid') === 'true', 'the refused field is not marked aria-invalid');
    await ctx.accessible(admin, 'settings page with an error');
    await shot(admin, 'settings-error');
    await page.goto(`${baseUrl}/_/settings?lang=fr`);
    check(await page.getByText('Expiration des salles').count() > 0, 'the French page has no French label for room expiry');
    check(await page.getByRole('heading', { name: 'Courrier' }).count() === 1, 'the French page has no "Courrier" section');
    await shot(admin, 'settings-fr');
    await page.goto(`${baseUrl}/_/settings?lang=en`);
  });

  await step('logs: a 404 found with "status >= 400"', async () => {
    const res = await page.request.get(`${baseUrl}${MISSING}`);
    check(res.status() === 404, `${MISSING} answered ${res.status()}`);
    await page.goto(`${baseUrl}/_/logs`);
    // The log writer batches: reload until the entry is in.
    for (let i = 0; i < 20; i += 1) {
      await page.getByLabel('Filter', { exact: false }).first().fill('status >= 400');
      await page.locator('form[role=search] button[type=submit]').click();
      await page.waitForLoadState('domcontentloaded');
      if (await page.locator('td.ops-url', { hasText: MISSING }).count()) break;
      await page.waitForTimeout(250);
    }
    await waitIn(admin, `the filtered table lists ${MISSING}`,
      (url) => [...document.querySelectorAll('td.ops-url')].some((td) => td.textContent.includes(url)), MISSING, '[data-testid=logs]');
    const statuses = await page.locator('[data-testid=logs] tbody tr[data-status]').evaluateAll((rows) => rows.map((r) => Number(r.dataset.status)));
    check(statuses.length > 0 && statuses.every((s) => s >= 400), `rows with status < 400 under "status >= 400": ${statuses}`);
    check(await page.getByTestId('logs-where').textContent().then((t) => t.includes('logs.db')), 'the page does not say where logs live');
    await ctx.accessible(admin, 'logs page');
    await shot(admin, 'logs');
  });

  await step('logs: a bad filter explained inline, one entry in detail', async () => {
    await page.getByLabel('Filter', { exact: false }).first().fill('status >>> 1');
    await page.locator('form[role=search] button[type=submit]').click();
    await waitIn(admin, 'the filter error is shown inline',
      () => /Invalid filter/.test(document.querySelector('[data-testid=filter-error]')?.textContent || ''), null, 'form[role=search]');
    await shot(admin, 'logs-bad-filter');
    await page.getByRole('link', { name: 'Errors only' }).click();
    await page.locator('tr', { hasText: MISSING }).first().getByTestId('log-link').click();
    await waitIn(admin, 'the entry shows its URL and status',
      (url) => document.querySelector('[data-testid=log-entry]')?.textContent.includes(url), MISSING, 'main');
    await ctx.accessible(admin, 'log entry');
    await shot(admin, 'logs-entry');
  });

  let token = '';
  let recordUrl = '';
  await step('backups: create one and see it listed', async () => {
    await page.goto(`${baseUrl}/_/backups`);
    await page.getByLabel('Name', { exact: false }).first().fill(BACKUP);
    await page.getByTestId('backup-create').click();
    await page.waitForURL((u) => u.search.includes('flash=backup_created'));
    await waitIn(admin, `${BACKUP} is listed`,
      (key) => !!document.querySelector(`tr[data-key="${key}"]`), BACKUP, '[data-testid=backups]');
    await ctx.accessible(admin, 'backups page');
    await shot(admin, 'backups');
  });

  await step('backups: a record made after the backup', async () => {
    const auth = await fetch(`${baseUrl}/api/collections/_superusers/auth-with-password`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ identity: credentials.email, password: credentials.password }),
    });
    check(auth.ok, `superuser sign-in through the API answered ${auth.status}`);
    token = (await auth.json()).token;
    const made = await fetch(`${baseUrl}/api/collections/users/records`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: token },
      body: JSON.stringify({ email: 'after-backup@example.com', password: 'after-backup-1', passwordConfirm: 'after-backup-1' }),
    });
    const body = await made.text();
    check(made.ok, `creating a record answered ${made.status}: ${body}`);
    recordUrl = `${baseUrl}/api/collections/users/records/${JSON.parse(body).id}`;
    const seen = await fetch(recordUrl, { headers: { Authorization: token } });
    check(seen.status === 200, `the new record answered ${seen.status}`);
  });

  await step('backups: restore in the UI, the later record is gone', async () => {
    const row = page.locator(`tr[data-key="${BACKUP}"]`);
    await row.getByTestId('backup-restore').click();
    await waitIn(admin, 'the restore confirmation says the current data will be replaced',
      () => [...document.querySelectorAll('details[open]')].some((d) => /replaced/.test(d.textContent)), null, '[data-testid=backups]');
    await shot(admin, 'backup-restore-confirm');
    await row.getByTestId('confirm-restore').click();
    await page.waitForURL((u) => u.search.includes('flash=backup_restored'));
    await waitIn(admin, 'a toast says the backup was restored',
      () => document.querySelector('[data-testid=flash]')?.textContent.includes('restored'), null, '#toasts');
    await shot(admin, 'backup-restored');
    const after = await fetch(recordUrl, { headers: { Authorization: token } });
    check(after.status === 404, `the record made after the backup answered ${after.status} after the restore, not 404`);
  });

  await step('operations pages at 360 px', async () => {
    const narrow = await ctx.browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'en-US', colorScheme: 'dark', reducedMotion: 'reduce' });
    try {
      await narrow.addCookies(await admin.context.cookies());
      const p = await narrow.newPage();
      const phone = { ...admin, page: p, who: 'admin', context: narrow };
      const pages = [['/_/settings', 'settings-360'], ['/_/logs', 'logs-360'], ['/_/backups', 'backups-360'],
        ['/_/crons', 'crons-360'], ['/_/settings/export-collections', 'export-360'], ['/_/settings/import-collections', 'import-360']];
      for (const [path, name] of pages) {
        await p.goto(`${baseUrl}${path}`);
        const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        check(overflow <= 1, `${path} at 360 px scrolls sideways by ${overflow} px`);
        await ctx.accessible(phone, `${path}, dark, 360 px`);
        await shot(phone, name);
      }
    } finally {
      await narrow.close();
    }
  });
}
