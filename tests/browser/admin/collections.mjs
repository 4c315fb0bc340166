// The collection editor: create `tasks` with six field types and a list rule; a
// rule with a syntax error is reported inline by the live check (the real filter
// parser on the server), fixing it shows it valid; saved, it is in the sidebar.
// Also: axe on the editor, and the editor at 360 px without sideways scrolling.

/** The fields `tasks` gets: [type, name, fill options]. */
const FIELDS = [
  ['text', 'title', async (row) => {
    await row.getByTestId('field-required').check();
    await row.getByTestId('field-options-toggle').click();
    await row.getByTestId('field-unique').click();
  }],
  ['number', 'points', null],
  ['bool', 'done', null],
  ['select', 'status', async (row) => { await row.getByTestId('opt-values').fill('todo, doing, done'); }],
  ['date', 'due', null],
  ['json', 'meta', null],
];

/** Runs the section; leaves `ctx.collection` = 'tasks'. */
export async function run(ctx) {
  const { step, check, shot, waitIn, admin, baseUrl } = ctx;
  const { page } = admin;
  const rule = page.getByTestId('rule-listRule');
  const ruleCheck = page.locator('#check-listRule');

  await step('new collection editor from the sidebar', async () => {
    await page.goto(`${baseUrl}/_/`);
    await page.getByTestId('new-collection').click();
    await page.waitForURL((u) => u.pathname === '/_/collections/new');
    await waitIn(admin, 'the editor shows the built-in id field row',
      () => document.querySelectorAll('[data-testid=field-row]').length === 1, null, 'main');
    await page.getByTestId('collection-name').fill('tasks');
  });

  await step('fields of six types added', async () => {
    for (const [type, name, options] of FIELDS) {
      await page.getByTestId('new-field-type').selectOption(type);
      await page.getByTestId('add-field').click();
      const row = page.getByTestId('field-row').last();
      await row.getByTestId('field-name').fill(name);
      if (options) {
        if (!(await row.getByTestId('opt-values').isVisible().catch(() => false)) && type !== 'text') {
          await row.getByTestId('field-options-toggle').click();
        }
        await options(row);
      }
    }
    const names = await page.getByTestId('field-name').evaluateAll((els) => els.map((e) => e.value));
    check(names.join(',') === 'id,title,points,done,status,due,meta', `field rows are ${names.join(',')}`);
    await shot(admin, 'collection-fields');
  });

  await step('a rule with a syntax error is shown inline', async () => {
    await page.getByTestId('lock-listRule').uncheck();
    await rule.pressSequentially('status = "todo" &&', { delay: 20 });
    await waitIn(admin, 'the live check shows the parser error for the list rule',
      () => !!document.querySelector('#check-listRule [data-testid=rule-error]'), null, '#check-listRule');
    const text = (await ruleCheck.textContent()).trim();
    check(/column \d+/.test(text), `the rule error does not say where: "${text}"`);
    await rule.scrollIntoViewIfNeeded();
    await shot(admin, 'collection-rule-error');
  });

  await step('the fixed rule is shown valid', async () => {
    await rule.pressSequentially(' done = false', { delay: 20 });
    await waitIn(admin, 'the live check shows the list rule as valid',
      () => !!document.querySelector('#check-listRule [data-testid=rule-ok]'), null, '#check-listRule');
    await shot(admin, 'collection-rule-ok');
    await ctx.accessible(admin, 'collection editor');
  });

  await step('the editor in dark mode', async () => {
    await page.getByTestId('theme-toggle').click();
    await waitIn(admin, 'the page switched to the dark theme',
      () => document.documentElement.getAttribute('data-theme') === 'dark', null, 'html');
    try {
      await ctx.accessible(admin, 'collection editor (dark)');
      await shot(admin, 'collection-editor-dark');
    } finally {
      await page.getByTestId('theme-toggle').click();
    }
  });

  await step('the editor fits a 360 px screen', async () => {
    const size = page.viewportSize();
    await page.setViewportSize({ width: 360, height: 780 });
    try {
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      await shot(admin, 'collection-editor-360');
      check(wide <= 362, `the editor scrolls sideways at 360 px (${wide} px wide)`);
    } finally {
      await page.setViewportSize(size);
    }
  });

  await step('saved: the collection is in the sidebar with its fields', async () => {
    await page.getByTestId('save-collection').click();
    await page.waitForURL((u) => u.pathname === '/_/collections/tasks/edit');
    await waitIn(admin, 'the sidebar lists tasks',
      () => !!document.querySelector('[data-testid=nav-collections] a[href="/_/collections/tasks"]'), null, '#sidebar');
    const names = await page.getByTestId('field-name').evaluateAll((els) => els.map((e) => e.value));
    check(names.join(',') === 'id,title,points,done,status,due,meta', `saved fields are ${names.join(',')}`);
    check((await rule.inputValue()) === 'status = "todo" && done = false', `saved rule is "${await rule.inputValue()}"`);
    const indexes = await page.getByTestId('indexes').inputValue();
    check(indexes.includes('CREATE UNIQUE INDEX idx_tasks_title ON tasks (title)'), `saved indexes are "${indexes}"`);
    const reply = await page.request.get(`${baseUrl}/api/collections/tasks/records`);
    check(reply.status() === 200, `guests listing tasks (public filter rule) got ${reply.status()}`);
    await shot(admin, 'collection-saved');
  });
  await step('a server-side field error is shown on its row, the form kept', async () => {
    await page.getByTestId('new-field-type').selectOption('text');
    await page.getByTestId('add-field').click();
    await page.getByTestId('field-row').last().getByTestId('field-name').fill('Title');
    await page.getByTestId('save-collection').click();
    await waitIn(admin, 'the duplicated field name is reported on the last row',
      () => {
        const rows = document.querySelectorAll('[data-testid=field-row]');
        const err = rows[rows.length - 1]?.querySelector('[data-testid=field-error]');
        return rows.length === 8 && err && err.offsetParent !== null && /uplicat/.test(err.textContent);
      }, null, '[data-testid=field-list]');
    await shot(admin, 'collection-field-error');
    await page.getByTestId('field-remove').last().click();
    await page.getByTestId('save-collection').click();
    await page.waitForURL((u) => u.pathname === '/_/collections/tasks/edit' && u.search.includes('flash'));
  });
  await step('OAuth2 providers set on users; the secret never comes back', async () => {
    await page.goto(`${baseUrl}/_/collections/users/edit`);
    const section = page.getByTestId('oauth2-section');
    await section.scrollIntoViewIfNeeded();
    await page.getByTestId('oauth2-enabled').check();
    await page.getByTestId('oauth2-new-provider').selectOption('github');
    await page.getByTestId('oauth2-add').click();
    const row = page.getByTestId('oauth2-provider').last();
    await row.getByTestId('oauth2-client-id').fill('gh-client');
    await row.getByTestId('oauth2-client-secret').fill('gh-very-secret');
    await page.getByTestId('oauth2-map-name').fill('name');
    await shot(admin, 'collection-oauth2');
    await ctx.accessible(admin, 'collection editor with OAuth2');
    await page.getByTestId('save-collection').click();
    await page.waitForURL((u) => u.pathname === '/_/collections/users/edit' && u.search.includes('flash'));
    const html = await page.content();
    check(html.includes('gh-client'), 'the saved client id is shown');
    check(!html.includes('gh-very-secret'), 'the client secret is in the page');
    const methods = await (await page.request.get(`${baseUrl}/api/collections/users/auth-methods`)).json();
    const gh = methods.oauth2.providers.find((p) => p.name === 'github');
    check(methods.oauth2.enabled && gh && gh.authURL.startsWith('https://github.com/login/oauth/authorize?client_id=gh-client&'),
      `auth-methods offers GitHub: ${JSON.stringify(methods.oauth2)}`);
    // Saved again untouched: the secret stays (a provider without one is refused).
    await page.getByTestId('save-collection').click();
    await page.waitForURL((u) => u.pathname === '/_/collections/users/edit' && u.search.includes('flash'));
    await page.getByTestId('oauth2-remove').last().click();
    await page.getByTestId('oauth2-enabled').uncheck();
    await page.getByTestId('save-collection').click();
    await page.waitForURL((u) => u.pathname === '/_/collections/users/edit' && u.search.includes('flash'));
  });
  ctx.collection = 'tasks';
}
