// Records in the admin UI: a `books` collection (text, number, bool, select, json,
// date, relation) created through the API, then in Chromium: records added and
// edited with the form (select, date picker, JSON editor, relation picker with
// search), a validation error inline, the table filtered (a bad filter shows the
// compiler's error inline), sorted, columns hidden, one record deleted, two bulk
// deleted; files uploaded, listed and removed with the form; finally a poker room
// renamed by the admin appears live in a player's page.

/** Runs the section; expects `ctx.admin.page` signed in. */
export async function run(ctx) {
  const { step, check, shot, waitIn, admin, baseUrl, credentials } = ctx;
  const { page } = admin;
  const books = `${baseUrl}/_/collections/books`;
  let token = '';
  const api = async (method, path, body) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: token } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    check(res.ok, `${method} ${path} answered ${res.status}: ${text.slice(0, 400)}`);
    return text ? JSON.parse(text) : null;
  };
  const rowCount = () => page.locator('[data-testid=records-table] tbody tr[data-id]').count();
  const tableHas = (what, text) => waitIn(admin, what, (t) =>
    [...document.querySelectorAll('[data-testid=records-table] tbody tr[data-id]')].some((r) => r.textContent.includes(t)),
  text, 'main');
  const rowsAre = (what, n) => waitIn(admin, what, (k) =>
    document.querySelectorAll('[data-testid=records-table] tbody tr[data-id]').length === k, n, '#records');

  await step('books collection created through the API', async () => {
    const auth = await api('POST', '/api/collections/_superusers/auth-with-password',
      { identity: credentials.email, password: credentials.password });
    token = auth.token;
    const authors = await api('POST', '/api/collections', {
      name: 'authors', type: 'base', fields: [{ name: 'name', type: 'text' }],
    });
    await api('POST', '/api/collections', {
      name: 'books', type: 'base', fields: [
        { name: 'title', type: 'text', required: true },
        { name: 'pages', type: 'number' },
        { name: 'published', type: 'bool' },
        { name: 'genre', type: 'select', values: ['fiction', 'poetry', 'essay'], maxSelect: 1 },
        { name: 'meta', type: 'json' },
        { name: 'released', type: 'date' },
        { name: 'author', type: 'relation', collectionId: authors.id, maxSelect: 1 },
      ],
    });
    for (const name of ['Ursula Le Guin', 'Terry Pratchett', 'Frank Herbert']) {
      await api('POST', '/api/collections/authors/records', { name });
    }
    for (const [title, pages] of [['Dune', 412], ['Mort', 243], ['Sourcery', 270], ['Guards! Guards!', 288]]) {
      await api('POST', '/api/collections/books/records', { title, pages });
    }
  });

  await step('records table lists the collection', async () => {
    await page.goto(books);
    await waitIn(admin, 'the table shows the four books', () =>
      document.querySelectorAll('[data-testid=records-table] tbody tr[data-id]').length === 4, null, 'main');
    check((await page.locator('[data-testid=record-count]').textContent()).includes('4'), 'the header does not count 4 records');
    await ctx.accessible(admin, 'records table');
    await shot(admin, 'records-table');
  });

  await step('a record added with the form (select, date, JSON, relation search)', async () => {
    await page.locator('[data-testid=new-record]').click();
    await page.waitForURL(/\/records\/new$/);
    await page.locator('#f-title').fill('The Dispossessed');
    await page.locator('#f-pages').fill('387');
    await page.locator('#f-published').check();
    await page.locator('#f-genre').selectOption('fiction');
    await page.locator('#f-released').fill('1974-05-01T10:30:00');
    await page.locator('#f-meta').fill('{"awards": ["Hugo"');
    await waitIn(admin, 'the JSON editor says the text is invalid', () =>
      document.querySelector('[data-testid=json-state-meta]')?.classList.contains('bad'), null, '[data-field=meta]');
    await page.locator('#f-meta').fill('{"awards": ["Hugo", "Nebula"]}');
    await page.locator('[data-testid=json-format-meta]').click();
    await waitIn(admin, 'Format pretty-prints valid JSON', () =>
      document.querySelector('#f-meta').value.includes('\n') &&
      document.querySelector('[data-testid=json-state-meta]')?.classList.contains('ok'), null, '[data-field=meta]');
    await page.locator('[data-testid=relation-search-author]').fill('ursu');
    await waitIn(admin, 'the relation search for "ursu" lists Ursula and not Terry', () => {
      const list = document.querySelector('[data-testid=relation-options-author]')?.textContent ?? '';
      return list.includes('Ursula') && !list.includes('Terry');
    }, null, '[data-field=author]');
    const option = page.locator('[data-testid=relation-options-author] button', { hasText: 'Ursula' });
    await option.click();
    await waitIn(admin, 'the chosen author shows as a chip', () =>
      document.querySelector('[data-testid=relation-author] .rec-chips')?.textContent.includes('Ursula'), null, '[data-field=author]');
    await ctx.accessible(admin, 'record form');
    await shot(admin, 'records-form');
    await page.locator('[data-testid=save-record]').click();
    await page.waitForURL((u) => u.pathname === '/_/collections/books');
    await tableHas('the new book is listed', 'The Dispossessed');
    const stored = await api('GET', `/api/collections/books/records?filter=${encodeURIComponent('title="The Dispossessed"')}`);
    const b = stored.items[0];
    check(b && b.genre === 'fiction' && b.published === true && b.pages === 387, `stored: ${JSON.stringify(b)}`);
    check(b.released === '1974-05-01 10:30:00.000Z', `the date is stored as ${b.released}`);
    check(JSON.stringify(b.meta) === '{"awards":["Hugo","Nebula"]}', `meta stored as ${JSON.stringify(b.meta)}`);
    check(b.author, 'no author stored');
    await tableHas('the author shows by name in the table', 'Ursula Le Guin');
  });

  await step('a validation error is shown inline and nothing is stored', async () => {
    await page.goto(`${books}/records/new`);
    await page.locator('#f-pages').fill('12');
    await page.locator('[data-testid=save-record]').click();
    await page.locator('[data-testid=error-title]').waitFor();
    check(await page.locator('#f-pages').inputValue() === '12', 'the typed number was lost');
    await shot(admin, 'records-validation');
    const all = await api('GET', '/api/collections/books/records');
    check(all.totalItems === 5, `expected 5 books, the API lists ${all.totalItems}`);
  });

  await step('a record edited', async () => {
    await page.goto(books);
    await page.locator('tr', { hasText: 'Mort' }).locator('[data-testid=open-record]').click();
    await page.waitForURL(/\/records\/[a-z0-9]+$/);
    check(await page.locator('#f-title').inputValue() === 'Mort', 'the edit form does not show the title');
    await page.locator('#f-title').fill('Mort (Discworld 4)');
    await page.locator('[data-testid=save-record]').click();
    await page.waitForURL((u) => u.pathname === '/_/collections/books');
    await tableHas('the edited title is listed', 'Mort (Discworld 4)');
  });

  await step('filter: a bad one shows the error inline, a good one narrows the rows', async () => {
    await page.locator('[data-testid=filter]').fill('title ~ ');
    await page.locator('[data-testid=filter]').press('Enter');
    await page.locator('[data-testid=filter-error]').waitFor();
    const error = await page.locator('[data-testid=filter-error]').textContent();
    check(/filter/i.test(error), `the inline error says: ${error}`);
    check(await rowCount() === 5, 'a bad filter changed the table');
    await shot(admin, 'records-filter-error');
    await page.locator('[data-testid=filter]').fill('pages > 280');
    await page.locator('[data-testid=filter]').press('Enter');
    await rowsAre('the filter narrows the table to 3 rows', 3);
    check(await page.locator('[data-testid=filter-error]:visible').count() === 0, 'the error stays after a good filter');
    check(new URL(page.url()).searchParams.get('filter') === 'pages > 280', `the URL keeps the filter: ${page.url()}`);
    const count = await page.locator('[data-testid=record-count]').textContent();
    check(count.includes('3'), `the header count did not follow the filter: ${count}`);
    await shot(admin, 'records-filtered');
    await page.locator('[data-testid=filter]').fill('');
    await page.locator('[data-testid=filter]').press('Enter');
    await rowsAre('a cleared filter shows every row', 5);
  });

  await step('sort by a column header, both ways', async () => {
    const firstTitle = () => page.locator('[data-testid=records-table] tbody tr[data-id] td[data-col=title]').first().textContent();
    await page.locator('[data-testid=sort-pages]').click();
    await waitIn(admin, 'pages sorted ascending', () =>
      document.querySelector('th[data-col=pages]')?.getAttribute('aria-sort') === 'ascending', null, '#records');
    check((await firstTitle()).includes('Mort'), `ascending by pages starts with ${await firstTitle()}`);
    await page.locator('[data-testid=sort-pages]').click();
    await waitIn(admin, 'pages sorted descending', () =>
      document.querySelector('th[data-col=pages]')?.getAttribute('aria-sort') === 'descending', null, '#records');
    check((await firstTitle()).includes('Dune'), `descending by pages starts with ${await firstTitle()}`);
  });

  await step('column picker hides a column and remembers it', async () => {
    await page.locator('[data-testid=column-picker] summary').click();
    await page.locator('[data-testid=column-picker] input[value=meta]').uncheck();
    await waitIn(admin, 'the meta column is hidden', () =>
      getComputedStyle(document.querySelector('th[data-col=meta]')).display === 'none', null, '#records');
    await shot(admin, 'records-columns');
    await page.reload();
    await waitIn(admin, 'the meta column stays hidden after a reload', () =>
      getComputedStyle(document.querySelector('th[data-col=meta]')).display === 'none', null, '#records');
    await page.locator('[data-testid=column-picker] summary').click();
    await page.locator('[data-testid=column-picker] input[value=meta]').check();
    await page.locator('[data-testid=column-picker] summary').click();
  });

  await step('one record deleted from its form', async () => {
    await page.goto(books);
    await page.locator('tr', { hasText: 'Sourcery' }).locator('[data-testid=open-record]').click();
    await page.waitForURL(/\/records\/[a-z0-9]+$/);
    await page.locator('[data-testid=delete-record]').click();
    await page.locator('[data-testid=confirm-delete-record]').click();
    await page.waitForURL((u) => u.pathname === '/_/collections/books');
    await rowsAre('4 rows left', 4);
    check(!(await page.locator('[data-testid=records-table]').textContent()).includes('Sourcery'), 'Sourcery is still listed');
  });

  await step('bulk delete of two checked rows', async () => {
    for (const title of ['Dune', 'Guards! Guards!']) {
      await page.locator('tr', { hasText: title }).locator('input[name=ids]').check();
    }
    await page.locator('[data-testid=bulk-delete]').click();
    await shot(admin, 'records-bulk-confirm');
    await page.locator('[data-testid=confirm-bulk-delete]').click();
    await page.waitForURL((u) => u.pathname === '/_/collections/books');
    await rowsAre('2 rows left', 2);
    const all = await api('GET', '/api/collections/books/records');
    check(all.totalItems === 2, `the API still lists ${all.totalItems} books`);
  });

  await step('records table and form in dark mode', async () => {
    await page.goto(books);
    await page.locator('.theme-toggle').click();
    await waitIn(admin, 'the page is dark', () => document.documentElement.dataset.theme === 'dark', null, 'html');
    await ctx.accessible(admin, 'records table (dark)');
    await shot(admin, 'records-table-dark');
    await page.locator('[data-testid=open-record]').first().click();
    await page.waitForURL(/\/records\/[a-z0-9]+$/);
    await ctx.accessible(admin, 'record form (dark)');
    await shot(admin, 'records-form-dark');
    await page.locator('.theme-toggle').click();
    await waitIn(admin, 'the page is light again', () => document.documentElement.dataset.theme === 'light', null, 'html');
  });

  await step('records table on a 360 px screen scrolls sideways', async () => {
    const phone = await ctx.newContext('phone');
    await phone.addCookies(await admin.context.cookies());
    const p = await phone.newPage();
    await p.setViewportSize({ width: 360, height: 740 });
    await p.goto(books);
    await p.locator('[data-testid=records-table]').waitFor();
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, `the page is ${overflow}px wider than the screen (only the table should scroll)`);
    await shot({ who: 'phone', page: p }, 'records-table');
  });

  await step('files uploaded with the form, listed with links, one removed', async () => {
    await api('POST', '/api/collections', {
      name: 'papers', type: 'base', fields: [
        { name: 'title', type: 'text' },
        { name: 'files', type: 'file', maxSelect: 3 },
      ],
    });
    await page.goto(`${baseUrl}/_/collections/papers/records/new`);
    await page.locator('#f-title').fill('With files');
    await page.locator('#f-files').setInputFiles([
      { name: 'first.txt', mimeType: 'text/plain', buffer: Buffer.from('first') },
      { name: 'second.txt', mimeType: 'text/plain', buffer: Buffer.from('second') },
    ]);
    await page.locator('[data-testid=save-record]').click();
    await page.waitForURL(/\/_\/collections\/papers\?flash=record_created/);
    const list = await api('GET', '/api/collections/papers/records');
    const rec = list.items[0];
    check(rec?.files?.length === 2, `two files stored: ${JSON.stringify(rec)}`);
    await page.goto(`${baseUrl}/_/collections/papers/records/${rec.id}`);
    const links = await page.locator('.rec-file-list a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    check(links.length === 2 && links.every((l) => l.startsWith('/api/files/')), `file links: ${links}`);
    const file = await fetch(`${baseUrl}${links[0]}`);
    check(await file.text() === 'first', 'the first link downloads the first file');
    await shot(admin, 'records-files');
    await page.locator(`input[name="remove:files"][value="${rec.files[0]}"]`).check();
    await page.locator('[data-testid=save-record]').click();
    await page.waitForURL(/flash=record_saved/);
    const after = await api('GET', `/api/collections/papers/records/${rec.id}`);
    check(JSON.stringify(after.files) === JSON.stringify([rec.files[1]]), `one file left: ${JSON.stringify(after.files)}`);
  });

  await step('a room renamed in the admin UI changes live in the player\'s page', async () => {
    const playerContext = await ctx.newContext();
    const player = { who: 'player', name: 'Pia Player', context: playerContext, page: await playerContext.newPage() };
    await player.page.goto(`${baseUrl}/?lang=en`);
    const form = player.page.locator('form[data-testid=create-room]');
    await form.locator('[name=room_name]').fill('Admin sync check');
    await form.locator('[name=your_name]').fill(player.name);
    await form.locator('input[name=role][value=voter]').check();
    await form.locator('[data-testid=create-submit]').click();
    await player.page.waitForURL(/\/r\/[^/?#]+\/?(\?.*)?$/);
    await waitIn(player, 'the player is connected', () =>
      document.querySelector('[data-testid=connection]')?.dataset.state === 'open', null, '[data-testid=connection]', player.page);
    const code = new URL(player.page.url()).pathname.split('/')[2];
    await page.goto(`${baseUrl}/_/collections/rooms?filter=${encodeURIComponent(`code="${code}"`)}`);
    await rowsAre('the admin finds the room by its code', 1);
    await page.locator('[data-testid=open-record]').first().click();
    await page.waitForURL(/\/_\/collections\/rooms\/records\//);
    check(await page.locator('#f-name').inputValue() === 'Admin sync check', 'the room form does not show the name');
    await page.locator('#f-name').fill('Renamed by the admin');
    await shot(admin, 'records-room-form');
    await page.locator('[data-testid=save-record]').click();
    await page.waitForURL((u) => u.pathname === '/_/collections/rooms');
    await waitIn(player, 'the room header shows the new name without a reload', () =>
      document.querySelector('#room-header h1')?.textContent.includes('Renamed by the admin'), null, '#room-header', player.page);
    await shot(player, 'room-renamed');
  });
}
