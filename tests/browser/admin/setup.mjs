// First run and sign-in: the one-time setup link printed by `serve`, the page that
// explains the CLI alternative, creating the first superuser in the browser, the link
// dying after use, logout, a wrong password, and the session cookie's attributes.

const SETUP_LINK = /https?:\/\/[^\s]+\/_\/setup\/[A-Za-z0-9_-]+/;

/** Runs the section; leaves `ctx.admin.page` signed in on the dashboard. */
export async function run(ctx) {
  const { step, check, shot, waitIn, admin, baseUrl, credentials, server } = ctx;
  const { page } = admin;
  let link = '';

  await step('setup link printed', async () => {
    const found = server.output().match(SETUP_LINK);
    check(found, `serve printed no setup link matching ${SETUP_LINK}; it printed:\n${server.output().slice(0, 1500)}`);
    link = found[0];
  });

  await step('login page explains first run', async () => {
    await page.goto(`${baseUrl}/_/login`);
    await waitIn(admin, 'the login page names the CLI alternative (superuser upsert)',
      () => document.body.textContent.includes('superuser upsert'), null, 'main');
    await shot(admin, 'first-run-login');
  });

  await step('first superuser created through the setup link', async () => {
    await page.goto(link);
    await page.getByLabel('Email').fill(credentials.email);
    await page.getByLabel('Password', { exact: true }).fill(credentials.password);
    await page.getByLabel(/Confirm/).fill(credentials.password);
    await shot(admin, 'setup-form');
    await page.locator('main form button[type=submit]').first().click();
    await page.waitForURL((u) => !u.pathname.includes('/setup/'));
    await waitIn(admin, 'the dashboard shows the signed-in sidebar with the users collection',
      () => !!document.querySelector('nav a[href="/_/collections/users"], nav a[href*="users"]'), null, 'body');
    await ctx.accessible(admin, 'dashboard');
    await shot(admin, 'dashboard');
  });

  await step('session cookie is HttpOnly and SameSite=Strict', async () => {
    const cookie = (await admin.context.cookies()).find((c) => c.name === 'lb_admin');
    check(cookie, 'no lb_admin cookie after setup');
    check(cookie.httpOnly, 'lb_admin is readable by scripts (not HttpOnly)');
    check(cookie.sameSite === 'Strict', `lb_admin has SameSite=${cookie.sameSite}, not Strict`);
  });

  await step('setup link works only once', async () => {
    const other = await (await ctx.newContext()).newPage();
    const res = await other.goto(link);
    check(res.status() === 404 || res.status() === 410, `a used setup link answered ${res.status()}, not 404/410`);
    const form = await other.locator('input[type=password]').count();
    check(form === 0, 'a used setup link still shows a password form');
  });

  await step('logout, wrong password, login', async () => {
    await page.locator('form[action="/_/logout"] button').first().click();
    await page.waitForURL((u) => u.pathname.startsWith('/_/login'));
    await page.getByLabel('Email').fill(credentials.email);
    await page.getByLabel('Password', { exact: true }).fill('not-the-password');
    await page.locator('main form button[type=submit]').first().click();
    await waitIn(admin, 'an inline error says the sign-in failed', () =>
      [...document.querySelectorAll('[role=alert], .error, .field-error')].some((el) => el.textContent.trim().length > 0), null, 'main');
    check(!(await admin.context.cookies()).some((c) => c.name === 'lb_admin' && c.value), 'a failed sign-in set lb_admin');
    await shot(admin, 'login-failed');
    await ctx.accessible(admin, 'login page');
    await page.getByLabel('Email').fill(credentials.email);
    await page.getByLabel('Password', { exact: true }).fill(credentials.password);
    await page.locator('main form button[type=submit]').first().click();
    await page.waitForURL((u) => !u.pathname.startsWith('/_/login'));
    await waitIn(admin, 'signed in again: the sidebar lists collections',
      () => !!document.querySelector('nav a[href*="/_/collections/"]'), null, 'body');
  });
}
