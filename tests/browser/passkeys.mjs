// Passkeys in real Chromium, with the DevTools protocol's virtual authenticator
// (WebAuthn.enable, WebAuthn.addVirtualAuthenticator: a platform authenticator
// with user verification) standing in for a phone or a security key. On its own
// server, through `localhost` (Chromium refuses IP addresses as relying parties):
// a superuser adds a passkey on /_/account, signs out, signs in with the passkey
// alone; with MFA on for _superusers, the password then "Use a passkey", and the
// passkey then the password; finally the passkey is removed. axe checks the account
// page and the sign-in's second step.

import { mkdirSync } from 'node:fs';
import { startServer } from './server.mjs';
import { ARTIFACTS, VIEWPORTS } from './scenario.mjs';
import { StepError, stepTools } from './steps.mjs';
import { axeViolations } from './a11y.mjs';

const ADMIN = { email: 'keys@example.com', password: 'passkey-admin-pass-1' };

/** Runs the passkey scenario on a server of its own; rejects with the failing step. */
export async function runPasskeyScenario({ browser, bin, timeoutMs = 15_000, onServerExit }) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const server = await startServer(bin, { superuser: ADMIN, onUnexpectedExit: onServerExit });
  const baseUrl = server.url.replace('127.0.0.1', 'localhost');
  const { step, check, shot, waitIn, current } = stepTools({ tag: 'passkeys', artifacts: ARTIFACTS, timeoutMs });
  const context = await browser.newContext({ ...VIEWPORTS.desktop, locale: 'en-US' });
  context.setDefaultTimeout(timeoutMs);
  const page = await context.newPage();
  const who = { who: 'admin', name: ADMIN.email, page };
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const cdp = await context.newCDPSession(page);

  const signedIn = () => waitIn(who, 'signed in (the account link is in the sidebar)',
    () => !!document.querySelector('[data-testid="nav-account"]'), null, 'body');
  const logout = async () => {
    await page.locator('form[action="/_/logout"] button').first().click();
    await page.waitForURL((u) => u.pathname.startsWith('/_/login'));
  };
  const accessible = async (what) => {
    const found = await axeViolations(page);
    if (found) throw new StepError(`${what}: axe found serious/critical problems:\n${found}`);
  };

  try {
    let authenticatorId = '';
    await step('virtual authenticator', async () => {
      await cdp.send('WebAuthn.enable');
      ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
          hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
        },
      }));
      check(authenticatorId, 'no authenticator id');
    });

    await step('sign in with the password', async () => {
      await page.goto(`${baseUrl}/_/login`);
      await page.getByLabel('Email').fill(ADMIN.email);
      await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
      await page.locator('form[data-testid="login-form"] button[type=submit]').click();
      await signedIn();
    });

    await step('add a passkey on the account page', async () => {
      await page.goto(`${baseUrl}/_/account`);
      await page.locator('#passkey-name').fill('Laptop');
      await shot(who, 'account-before');
      await page.locator('[data-testid="passkey-add"]').click();
      await waitIn(who, 'the passkey list shows "Laptop"',
        () => document.querySelector('[data-testid="passkey-list"]')?.textContent.includes('Laptop'), null, '[data-testid="passkeys"]');
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      check(credentials.length === 1, `the authenticator holds ${credentials.length} credentials, not 1`);
      await shot(who, 'account-with-passkey');
      await accessible('the account page');
    });

    await step('sign out, sign in with the passkey alone', async () => {
      await logout();
      await page.getByLabel('Email').fill(ADMIN.email);
      await page.locator('[data-testid="passkey-login"]').click();
      await page.waitForURL((u) => u.pathname === '/_/');
      await signedIn();
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      check(credentials[0].signCount >= 1, `the passkey signed ${credentials[0].signCount} times`);
    });

    await step('MFA on: password, then "Use a passkey"', async () => {
      await page.goto(`${baseUrl}/_/account`);
      await page.locator('[data-testid="mfa-toggle"]').click();
      await waitIn(who, 'the account page says MFA is on',
        () => document.querySelector('[data-testid="mfa"]')?.textContent.includes('On:'), null, '[data-testid="mfa"]');
      const api = await fetch(`${server.url}/api/collections/_superusers/auth-with-password`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ identity: ADMIN.email, password: ADMIN.password }),
      });
      check(api.status === 401, `the API's password sign-in answered ${api.status}, not 401 {mfaId}`);
      await logout();
      await page.getByLabel('Email').fill(ADMIN.email);
      await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
      await page.locator('form[data-testid="login-form"] button[type=submit]').click();
      await waitIn(who, 'the second step asks for the passkey (no app, no OTP)',
        () => !!document.querySelector('[data-testid="mfa-passkey-only"]') && !document.querySelector('[role=alert]:not([hidden])'), null, 'main');
      await shot(who, 'second-step');
      await accessible('the second step of the sign-in');
      await page.locator('[data-testid="passkey-login"]').click();
      await page.waitForURL((u) => u.pathname === '/_/');
      await signedIn();
    });

    await step('MFA on: the passkey, then the password', async () => {
      await logout();
      await page.getByLabel('Email').fill(ADMIN.email);
      await page.locator('[data-testid="passkey-login"]').click();
      await waitIn(who, 'the page asks for the password too',
        () => document.querySelector('[data-testid="passkey-error"]')?.textContent.includes('password')
          && document.querySelector('form[data-testid="login-form"] input[name="mfa_id"]')?.value.length === 15, null, 'main');
      check((await page.url()).includes('/_/login'), 'not signed in by the passkey alone');
      await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
      await page.locator('form[data-testid="login-form"] button[type=submit]').click();
      await page.waitForURL((u) => u.pathname === '/_/');
      await signedIn();
    });

    await step('remove the passkey', async () => {
      await page.goto(`${baseUrl}/_/account`);
      await page.locator('[data-testid="passkey-list"] button[type=submit]').first().click();
      await page.waitForURL((u) => u.pathname === '/_/account');
      const left = await page.locator('[data-testid="passkey-list"] li').count();
      check(left === 0, `${left} passkeys left after removing the only one`);
    });
    if (pageErrors.length) throw new StepError(`script errors: ${pageErrors.join('\n')}`);
  } catch (e) {
    if (e instanceof StepError) throw e;
    throw new StepError(`[passkeys] step "${current()}": ${e?.message || e}`);
  } finally {
    await context.close().catch(() => {});
    await server.stop({ keep: !!process.env.BROWSER_KEEP_DATA });
  }
}
