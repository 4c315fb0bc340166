// Helpers for tests that sign in through the loopback OpenID Connect provider
// (server.mjs): start it, and follow an authorization URL the way a browser
// would (redirects, cookies) without any page to click.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const CLIENT_ID = 'litebase-test';
export const CLIENT_SECRET = 'litebase-test-secret';

/**
 * Starts server.mjs with these redirect URIs; resolves to
 * `{ issuer, stop() }` once it listens.
 */
export function startProvider(redirects) {
  const args = [path.join(HERE, 'server.mjs')];
  for (const r of redirects) args.push('--redirect', r);
  const child = spawn(process.execPath, args, { cwd: HERE, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`OIDC provider did not start:\n${log}`)); }, 20_000);
    child.stdout.on('data', (chunk) => {
      log += chunk;
      const m = log.match(/OIDC_READY (\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve({
          issuer: m[1],
          stop: () => new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
        });
      }
    });
    child.stderr.on('data', (chunk) => { log += chunk; });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`OIDC provider exited (${code}):\n${log}`)); });
  });
}

/** The provider entry of a collection's `oauth2.providers` for this server. */
export function providerConfig(issuer, name = 'oidc', extra = {}) {
  return {
    name,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    authURL: `${issuer}/auth`,
    tokenURL: `${issuer}/token`,
    userInfoURL: `${issuer}/me`,
    displayName: 'Test OIDC',
    ...extra,
  };
}

/**
 * Follows `url` through redirects with a cookie jar, as a browser would,
 * until a redirect points at a URL starting with `stopAt` (then resolves to
 * that URL without requesting it) or an answer is not a redirect (then
 * resolves to `{ url, status }` of that last answer).
 */
export async function follow(url, stopAt) {
  const jar = new Map();
  for (let hops = 0; hops < 20; hops++) {
    if (stopAt && url.startsWith(stopAt)) return new URL(url);
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const at = pair.indexOf('=');
      jar.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) {
      await res.arrayBuffer();
      return { url, status: res.status };
    }
    await res.arrayBuffer();
    url = new URL(location, url).toString();
  }
  throw new Error('too many redirects');
}

/** Adds `login_hint` (the test account to sign in) to an authorization URL. */
export function withAccount(authURL, account) {
  const sep = authURL.includes('?') ? '&' : '?';
  return `${authURL}${sep}login_hint=${encodeURIComponent(account)}`;
}
