// OAuth2 sign-in against a real OpenID Connect provider on loopback
// (tests/oidc/server.mjs, npm oidc-provider): auth-methods, the code flow
// (authWithOAuth2Code) creating a record, the second sign-in finding the link,
// linking by email (and the pre-hijacking guard), errors, the SDK's popup
// flow (authWithOAuth2 with its realtime `@oauth2` subscription and
// /api/oauth2-redirect), listing and unlinking external auths.
//
// The provider is configured on the collection through the collections API,
// so this file runs unchanged against litebase and the reference PocketBase.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Scope, anonClient, adminClient, expectError, rawFetch, BASE_URL, uniqueSuffix } from './support.mjs';
import { startProvider, providerConfig, follow, withAccount } from '../oidc/flow.mjs';

// The popup flow ends at our server; the code flow at a URL never requested.
const POPUP_REDIRECT = `${BASE_URL}/api/oauth2-redirect`;
const CODE_REDIRECT = 'http://127.0.0.1:9/oauth2-callback';
const PASSWORD = 'pass123456';

const s = new Scope('oa');
let oidc;
let users; // the auth collection's name
let pics; // an auth collection mapping the avatar to a file field

before(async () => {
  oidc = await startProvider([POPUP_REDIRECT, CODE_REDIRECT]);
  await s.init();
  const c = await s.collection({
    name: 'users',
    type: 'auth',
    createRule: '',
    listRule: 'id = @request.auth.id',
    viewRule: 'id = @request.auth.id',
    fields: [
      { name: 'name', type: 'text' },
      { name: 'handle', type: 'text' },
      { name: 'avatarUrl', type: 'url' },
      { name: 'plan', type: 'text' },
    ],
    oauth2: {
      enabled: true,
      providers: [providerConfig(oidc.issuer)],
      mappedFields: { name: 'name', username: 'handle', avatarURL: 'avatarUrl' },
    },
  });
  users = c.name;
  const p = await s.collection({
    name: 'pics',
    type: 'auth',
    createRule: '',
    listRule: 'id = @request.auth.id',
    viewRule: 'id = @request.auth.id',
    fields: [{ name: 'avatar', type: 'file', maxSelect: 1, mimeTypes: ['image/png', 'image/jpeg'] }],
    oauth2: {
      enabled: true,
      providers: [providerConfig(oidc.issuer)],
      mappedFields: { avatarURL: 'avatar' },
    },
  });
  pics = p.name;
});

after(async () => {
  await s.cleanup();
  await oidc?.stop();
});

/** A fresh provider account id (each test signs in its own people). */
const account = (prefix = 'u') => `${prefix}${uniqueSuffix()}`;

/** Signs `acct` in at the provider for `pb`'s collection; the code and the provider entry. */
async function codeFor(pb, acct, collection = users) {
  const methods = await pb.collection(collection).listAuthMethods();
  const provider = methods.oauth2.providers.find((p) => p.name === 'oidc');
  assert.ok(provider, 'the oidc provider is offered');
  const back = await follow(withAccount(provider.authURL + encodeURIComponent(CODE_REDIRECT), acct), CODE_REDIRECT);
  assert.ok(back instanceof URL, `the provider redirected back (got ${JSON.stringify(back)})`);
  assert.equal(back.searchParams.get('state'), provider.state, 'the state comes back');
  return { code: back.searchParams.get('code'), provider };
}

async function signIn(acct, createData = {}, collection = users) {
  const pb = anonClient();
  const { code, provider } = await codeFor(pb, acct, collection);
  const auth = await pb.collection(collection).authWithOAuth2Code('oidc', code, provider.codeVerifier, CODE_REDIRECT, createData);
  return { pb, auth };
}

describe('auth-methods', () => {
  test('lists the provider with state, PKCE pair and an auth URL to complete', async () => {
    const methods = await anonClient().collection(users).listAuthMethods();
    assert.equal(methods.oauth2.enabled, true);
    assert.equal(methods.oauth2.providers.length, 1);
    const p = methods.oauth2.providers[0];
    assert.equal(p.name, 'oidc');
    assert.equal(p.displayName, 'Test OIDC');
    assert.equal(p.state.length, 30);
    assert.equal(p.codeVerifier.length, 43);
    assert.match(p.codeChallenge, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(p.codeChallengeMethod, 'S256');
    assert.ok(p.authURL.startsWith(`${oidc.issuer}/auth?`), p.authURL);
    assert.ok(p.authURL.endsWith('&redirect_uri='), p.authURL);
    const q = new URL(p.authURL).searchParams;
    assert.equal(q.get('client_id'), 'litebase-test');
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('scope'), 'openid email profile');
    assert.equal(q.get('state'), p.state);
    assert.equal(q.get('code_challenge'), p.codeChallenge);
    assert.equal(q.get('code_challenge_method'), 'S256');
    const again = await anonClient().collection(users).listAuthMethods();
    assert.notEqual(again.oauth2.providers[0].state, p.state, 'a fresh state each time');
  });

  test('the raw answer keeps the legacy keys and never shows the secret', async () => {
    const res = await rawFetch(`/api/collections/${users}/auth-methods`);
    assert.equal(res.status, 200);
    assert.equal(res.json.authProviders.length, 1);
    assert.equal(res.json.authProviders[0].authUrl, res.json.authProviders[0].authURL);
    assert.ok(!res.text.includes('litebase-test-secret'));
    const admin = await adminClient();
    const c = await admin.collections.getOne(users);
    assert.equal(c.oauth2.providers[0].clientId, 'litebase-test');
    assert.equal(c.oauth2.providers[0].clientSecret, undefined, 'the secret is not echoed');
    // Saving the collection without the secret keeps it.
    await admin.collections.update(users, { oauth2: { ...c.oauth2 } });
    await signIn(account('keep'));
  });
});

test('superusers can list every provider a collection may use', async () => {
  const admin = await adminClient();
  const all = await admin.collections.getAllOAuth2Providers();
  const names = all.map((p) => p.name);
  for (const name of ['apple', 'google', 'microsoft', 'github', 'gitlab', 'discord', 'oidc', 'oidc2', 'oidc3']) {
    assert.ok(names.includes(name), name);
  }
  assert.equal(all.find((p) => p.name === 'github').displayName, 'GitHub');
  await expectError(anonClient().collections.getAllOAuth2Providers(), 401);
});

describe('code flow', () => {
  test('an avatar on a loopback address is never downloaded into a file field; the sign-up goes on', async () => {
    // The provider names a picture it serves itself, on 127.0.0.1: fetching it
    // would let a provider point the server at its own network.
    const acct = account('pic');
    const { auth } = await signIn(acct, {}, pics);
    assert.equal(auth.meta.isNew, true);
    assert.ok(auth.meta.avatarURL.startsWith('http://127.0.0.1:'), auth.meta.avatarURL);
    assert.equal(auth.record.avatar, '', 'the file field stays empty');
  });

  test('the first sign-in creates a verified record with the mapped fields and a link', async () => {
    const acct = account();
    const { pb, auth } = await signIn(acct, { plan: 'pro' });
    assert.equal(auth.meta.isNew, true);
    assert.equal(auth.meta.id, acct);
    assert.equal(auth.meta.email, `${acct}@example.test`);
    assert.equal(auth.meta.name, `User ${acct}`);
    assert.equal(auth.meta.username, acct);
    assert.equal(auth.meta.avatarURL, `https://example.test/${acct}.png`);
    assert.ok(auth.meta.accessToken.length > 0);
    assert.equal(auth.meta.rawUser.sub, acct);
    assert.equal(auth.meta.rawUser.email_verified, true);
    assert.equal(typeof auth.meta.expiry, 'string');
    const r = auth.record;
    assert.equal(r.email, `${acct}@example.test`);
    assert.equal(r.verified, true);
    assert.equal(r.name, `User ${acct}`);
    assert.equal(r.handle, acct);
    assert.equal(r.avatarUrl, `https://example.test/${acct}.png`);
    assert.equal(r.plan, 'pro', 'createData is used');
    assert.ok(pb.authStore.isValid);
    assert.equal(pb.authStore.record.id, r.id);
    const links = await pb.collection(users).listExternalAuths(r.id);
    assert.equal(links.length, 1);
    assert.equal(links[0].provider, 'oidc');
    assert.equal(links[0].providerId, acct);
    assert.equal(links[0].recordRef, r.id);
    // The token works like any other.
    const me = await pb.collection(users).authRefresh();
    assert.equal(me.record.id, r.id);
  });

  test('a second sign-in finds the link', async () => {
    const acct = account();
    const first = await signIn(acct);
    const second = await signIn(acct);
    assert.equal(second.auth.meta.isNew, false);
    assert.equal(second.auth.record.id, first.auth.record.id);
    const links = await second.pb.collection(users).listExternalAuths(first.auth.record.id);
    assert.equal(links.length, 1);
  });

  test('a verified record with the same email is linked and keeps its password', async () => {
    const acct = account();
    const admin = await adminClient();
    const existing = await admin.collection(users).create({
      email: `${acct}@example.test`, password: PASSWORD, passwordConfirm: PASSWORD, verified: true, name: 'Kept',
    });
    const { auth } = await signIn(acct);
    assert.equal(auth.meta.isNew, false);
    assert.equal(auth.record.id, existing.id);
    assert.equal(auth.record.name, 'Kept', 'mapped fields only fill new records');
    await anonClient().collection(users).authWithPassword(`${acct}@example.test`, PASSWORD);
  });

  test('an unverified record with the same email is taken over safely', async () => {
    const acct = account();
    const squatter = anonClient();
    const existing = await squatter.collection(users).create({
      email: `${acct}@example.test`, password: PASSWORD, passwordConfirm: PASSWORD,
    });
    assert.equal(existing.verified, false);
    const { auth } = await signIn(acct);
    assert.equal(auth.record.id, existing.id);
    assert.equal(auth.record.verified, true, 'the provider vouched for the address');
    await expectError(anonClient().collection(users).authWithPassword(`${acct}@example.test`, PASSWORD), 400);
  });

  test('a link made before the address was verified goes when it is verified', async () => {
    // Someone signs up through their provider account with another person's address…
    const attacker = account('att');
    const victimEmail = `${account('victim')}@mail.test`;
    const { auth } = await signIn(attacker, { email: victimEmail });
    assert.equal(auth.record.email, victimEmail);
    assert.equal(auth.record.verified, false, 'the provider did not vouch for that address');
    const admin = await adminClient();
    assert.equal((await admin.collection(users).listExternalAuths(auth.record.id)).length, 1);
    // …then the address is verified (here by a superuser): the link does not survive.
    await admin.collection(users).update(auth.record.id, { verified: true });
    assert.equal((await admin.collection(users).listExternalAuths(auth.record.id)).length, 0);
    const again = await signIn(attacker);
    assert.notEqual(again.auth.record.id, auth.record.id, 'the provider account no longer opens that record');
    assert.equal(again.auth.meta.isNew, true);
  });

  test('a signed-in record links a provider account with another email', async () => {
    const admin = await adminClient();
    const email = `${account('own')}@mail.test`;
    const mine = await admin.collection(users).create({ email, password: PASSWORD, passwordConfirm: PASSWORD, verified: true });
    const pb = anonClient();
    await pb.collection(users).authWithPassword(email, PASSWORD);
    const acct = account();
    const { code, provider } = await codeFor(pb, acct);
    const auth = await pb.collection(users).authWithOAuth2Code('oidc', code, provider.codeVerifier, CODE_REDIRECT);
    assert.equal(auth.record.id, mine.id);
    assert.equal(auth.meta.isNew, false);
    const links = await pb.collection(users).listExternalAuths(mine.id);
    assert.deepEqual(links.map((l) => l.providerId), [acct]);
  });
});

test('a provider without a user-info URL reads the id_token (claims, issuer and signature checked)', async () => {
  const c = await s.collection({
    name: 'idtok', type: 'auth', createRule: '',
    fields: [{ name: 'name', type: 'text' }],
    oauth2: {
      enabled: true,
      providers: [providerConfig(oidc.issuer, 'oidc2', {
        userInfoURL: '', extra: { jwksURL: `${oidc.issuer}/jwks`, issuers: [oidc.issuer] },
      })],
      mappedFields: { name: 'name' },
    },
  });
  const acct = account('idt');
  const pb = anonClient();
  const provider = (await pb.collection(c.name).listAuthMethods()).oauth2.providers[0];
  assert.equal(provider.name, 'oidc2');
  const back = await follow(withAccount(provider.authURL + encodeURIComponent(CODE_REDIRECT), acct), CODE_REDIRECT);
  const auth = await pb.collection(c.name).authWithOAuth2Code('oidc2', back.searchParams.get('code'), provider.codeVerifier, CODE_REDIRECT);
  assert.equal(auth.meta.id, acct);
  assert.equal(auth.meta.rawUser.iss, oidc.issuer, 'rawUser is the id_token claims');
  assert.equal(auth.meta.email, `${acct}@example.test`);
  assert.equal(auth.record.name, `User ${acct}`);
  // An issuer the token does not have: the user cannot be read.
  const admin = await adminClient();
  await admin.collections.update(c.id, { oauth2: { enabled: true, providers: [providerConfig(oidc.issuer, 'oidc2', {
    userInfoURL: '', extra: { issuers: ['https://someone-else.example'] },
  })] } });
  const p2 = (await pb.collection(c.name).listAuthMethods()).oauth2.providers[0];
  const back2 = await follow(withAccount(p2.authURL + encodeURIComponent(CODE_REDIRECT), acct), CODE_REDIRECT);
  const body = await expectError(
    pb.collection(c.name).authWithOAuth2Code('oidc2', back2.searchParams.get('code'), p2.codeVerifier, CODE_REDIRECT), 400);
  assert.equal(body.message, 'Failed to fetch OAuth2 user.');
});

test('with MFA on, OAuth2 is a second factor after the password', async () => {
  const c = await s.collection({
    name: 'mfa', type: 'auth', createRule: '',
    mfa: { enabled: true, duration: 600 },
    oauth2: { enabled: true, providers: [providerConfig(oidc.issuer)] },
  });
  const acct = account('mfa');
  const admin = await adminClient();
  const rec = await admin.collection(c.name).create({
    email: `${acct}@example.test`, password: PASSWORD, passwordConfirm: PASSWORD, verified: true,
  });
  const pb = anonClient();
  const first = await pb.collection(c.name).authWithPassword(`${acct}@example.test`, PASSWORD)
    .then(() => assert.fail('the password alone signed in'), (e) => {
      assert.equal(e.status, 401);
      return e.response;
    });
  assert.ok(first.mfaId, `an mfaId: ${JSON.stringify(first)}`);
  const provider = (await pb.collection(c.name).listAuthMethods()).oauth2.providers[0];
  const back = await follow(withAccount(provider.authURL + encodeURIComponent(CODE_REDIRECT), acct), CODE_REDIRECT);
  const auth = await pb.collection(c.name).authWithOAuth2Code('oidc', back.searchParams.get('code'),
    provider.codeVerifier, CODE_REDIRECT, {}, { mfaId: first.mfaId });
  assert.equal(auth.record.id, rec.id);
  assert.ok(auth.token);
});

describe('errors', () => {
  test('a record links one account per provider', async () => {
    const { pb, auth } = await signIn(account());
    const { code, provider } = await codeFor(pb, account());
    const body = await expectError(
      pb.collection(users).authWithOAuth2Code('oidc', code, provider.codeVerifier, CODE_REDIRECT), 400);
    assert.equal(body.message, 'Failed to authenticate.');
    assert.equal((await pb.collection(users).listExternalAuths(auth.record.id)).length, 1);
  });

  test('missing fields, an unknown provider, a bad code', async () => {
    const pb = anonClient();
    let body = await expectError(pb.send(`/api/collections/${users}/auth-with-oauth2`, { method: 'POST', body: {} }), 400);
    assert.equal(body.data.provider.code, 'validation_required');
    assert.equal(body.data.code.code, 'validation_required');
    body = await expectError(pb.collection(users).authWithOAuth2Code('google', 'x', 'y', CODE_REDIRECT), 400);
    assert.equal(body.data.provider.code, 'validation_invalid_provider');
    assert.equal(body.data.provider.message, 'Provider with name google is missing or is not enabled.');
    body = await expectError(pb.collection(users).authWithOAuth2Code('oidc', 'not-a-code', 'y', CODE_REDIRECT), 400);
    assert.equal(body.message, 'Failed to fetch OAuth2 token.');
  });

  test('a code is good for one sign-in only', async () => {
    const pb = anonClient();
    const { code, provider } = await codeFor(pb, account());
    await pb.collection(users).authWithOAuth2Code('oidc', code, provider.codeVerifier, CODE_REDIRECT);
    const body = await expectError(
      anonClient().collection(users).authWithOAuth2Code('oidc', code, provider.codeVerifier, CODE_REDIRECT), 400);
    assert.equal(body.message, 'Failed to fetch OAuth2 token.');
  });

  test('a wrong PKCE verifier is refused by the provider', async () => {
    const pb = anonClient();
    const { code } = await codeFor(pb, account());
    const body = await expectError(
      pb.collection(users).authWithOAuth2Code('oidc', code, 'x'.repeat(43), CODE_REDIRECT), 400);
    assert.equal(body.message, 'Failed to fetch OAuth2 token.');
  });

  test('a collection without OAuth2 answers 403', async () => {
    const c = await s.collection({ name: 'plain', type: 'auth', createRule: '' });
    const body = await expectError(anonClient().collection(c.name).authWithOAuth2Code('oidc', 'x', 'y', CODE_REDIRECT), 403);
    assert.equal(body.message, 'The collection is not configured to allow OAuth2 authentication.');
    const methods = await anonClient().collection(c.name).listAuthMethods();
    assert.deepEqual(methods.oauth2, { enabled: false, providers: [] });
  });

  test('a bad provider config is refused when saved', async () => {
    const admin = await adminClient();
    const err = await expectError(admin.collections.update(users, {
      oauth2: { enabled: true, providers: [{ name: 'myspace', clientId: '', authURL: 'nope' }] },
    }), 400);
    const p = err.data.oauth2.providers['0'];
    assert.equal(p.name.code, 'validation_missing_provider');
    assert.equal(p.clientId.code, 'validation_required');
    assert.equal(p.authURL.code, 'validation_is_url');
  });
});

describe('popup flow', () => {
  test('authWithOAuth2 waits on @oauth2 while the browser goes through the redirect', async () => {
    const acct = account('popup');
    const pb = anonClient();
    let visited;
    const auth = await pb.collection(users).authWithOAuth2({
      provider: 'oidc',
      createData: { plan: 'popup' },
      urlCallback: async (url) => {
        assert.ok(url.includes(encodeURIComponent(POPUP_REDIRECT)) || url.includes(POPUP_REDIRECT), url);
        visited = await follow(withAccount(url, acct));
      },
    });
    assert.equal(visited.status, 200, 'the redirect page answered');
    assert.equal(auth.meta.isNew, true);
    assert.equal(auth.record.email, `${acct}@example.test`);
    assert.equal(auth.record.plan, 'popup');
    assert.ok(pb.authStore.isValid);
  });

  test('a refusal at the provider rejects authWithOAuth2', async () => {
    const pb = anonClient();
    await assert.rejects(pb.collection(users).authWithOAuth2({
      provider: 'oidc',
      urlCallback: async (url) => { await follow(withAccount(url, 'deny')); },
    }), (e) => {
      assert.match(String(e?.cause?.message), /OAuth2 redirect error or missing code: access_denied/);
      return true;
    });
  });

  test('a form_post redirect (as Apple sends) reaches the @oauth2 subscriber', async () => {
    const pb = anonClient();
    let got;
    let count = 0;
    const arrived = new Promise((resolve) => {
      pb.realtime.subscribe('@oauth2', (e) => { got = e; count += 1; resolve(); });
    });
    await new Promise((r) => setTimeout(r, 100));
    const state = pb.realtime.clientId;
    assert.ok(state, 'connected');
    const res = await fetch(`${BASE_URL}/api/oauth2-redirect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ state, code: 'posted-code', user: JSON.stringify({ name: { firstName: 'Ada', lastName: 'L' } }) }),
      redirect: 'manual',
    });
    await res.arrayBuffer();
    assert.ok([200, 303].includes(res.status), `status ${res.status}`);
    await arrived;
    assert.equal(got.state, state);
    assert.equal(got.code, 'posted-code');
    assert.equal(got.error, undefined);
    // The subscription is used up: a second redirect for the same state fails.
    const again = await fetch(`${BASE_URL}/api/oauth2-redirect?state=${state}&code=x`, { redirect: 'manual' });
    await again.arrayBuffer();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(count, 1, 'one message only');
    await pb.realtime.unsubscribe();
  });

  test('a redirect for an unknown state changes nothing', async () => {
    const res = await rawFetch('/api/oauth2-redirect?state=nobody&code=x');
    assert.ok([200, 307].includes(res.status), `status ${res.status}`);
  });
});

describe('external auths', () => {
  test('the owner lists and unlinks; others see nothing', async () => {
    const acct = account();
    const { pb, auth } = await signIn(acct);
    const other = await signIn(account());
    const seen = await other.pb.collection('_externalAuths').getFullList({ filter: `recordRef = "${auth.record.id}"` });
    assert.equal(seen.length, 0, "another user does not see someone's links");
    assert.equal(await pb.collection(users).unlinkExternalAuth(auth.record.id, 'oidc'), true);
    assert.equal((await pb.collection(users).listExternalAuths(auth.record.id)).length, 0);
    // Signing in again links again (the record has a verified email).
    const again = await signIn(acct);
    assert.equal(again.auth.record.id, auth.record.id);
    assert.equal(again.auth.meta.isNew, false);
  });

  test('deleting an auth collection deletes its links', async () => {
    const admin = await adminClient();
    const c = await s.collection({
      name: 'gone', type: 'auth', createRule: '',
      oauth2: { enabled: true, providers: [providerConfig(oidc.issuer)] },
    });
    const pb = anonClient();
    const methods = await pb.collection(c.name).listAuthMethods();
    const provider = methods.oauth2.providers[0];
    const back = await follow(withAccount(provider.authURL + encodeURIComponent(CODE_REDIRECT), account()), CODE_REDIRECT);
    await pb.collection(c.name).authWithOAuth2Code('oidc', back.searchParams.get('code'), provider.codeVerifier, CODE_REDIRECT);
    const filter = `collectionRef = "${c.id}"`;
    assert.equal((await admin.collection('_externalAuths').getFullList({ filter })).length, 1);
    await admin.collections.delete(c.id);
    assert.equal((await admin.collection('_externalAuths').getFullList({ filter })).length, 0);
  });

  test('deleting the record deletes its links', async () => {
    const { auth } = await signIn(account());
    const admin = await adminClient();
    await admin.collection(users).delete(auth.record.id);
    const left = await admin.collection('_externalAuths').getFullList({ filter: `recordRef = "${auth.record.id}"` });
    assert.equal(left.length, 0);
  });
});
