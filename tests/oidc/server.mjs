#!/usr/bin/env node
// A real OpenID Connect provider (npm `oidc-provider`) on loopback, for the
// OAuth2 tests of litebase and of the reference PocketBase.
//
//   node server.mjs --redirect URL [--redirect URL2 ...]
//
// Prints `OIDC_READY <issuer>` once it listens (on a free 127.0.0.1 port).
// One confidential client is registered: client id `litebase-test`, secret
// `litebase-test-secret`, the given redirect URIs, PKCE S256.
//
// Sign-in needs no form: the interaction page signs in the account named by
// the auth request's `login_hint` (default `alice`) and grants every scope
// asked for, so following the redirects with a cookie jar completes the code
// flow headlessly. Accounts are made up from their id: `sub` = id, email
// `<id>@example.test`, verified unless the id starts with `unverified`, name
// `User <id>`, preferred_username = id, picture `https://example.test/<id>.png`
// (for ids starting with `pic`: `<issuer>/pictures/<id>.png`, a small PNG this
// server serves, so an avatar can be downloaded into a file field).
// A `login_hint` of `deny` ends the interaction with `access_denied`.

import http from 'node:http';
import { Provider } from 'oidc-provider';

const redirects = [];
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--redirect' && process.argv[i + 1]) redirects.push(process.argv[++i]);
}
if (redirects.length === 0) {
  console.error('usage: node server.mjs --redirect URL [--redirect URL ...]');
  process.exit(2);
}

export const CLIENT_ID = 'litebase-test';
export const CLIENT_SECRET = 'litebase-test-secret';

function claimsOf(id) {
  return {
    sub: id,
    email: `${id}@example.test`,
    email_verified: !id.startsWith('unverified'),
    name: `User ${id}`,
    preferred_username: id,
    picture: id.startsWith('pic') ? `${issuer}/pictures/${id}.png` : `https://example.test/${id}.png`,
  };
}

// A 1×1 PNG (red pixel).
const PICTURE = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
  'base64',
);

// Listen first: the issuer needs the port.
const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: redirects,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username', 'picture'],
  },
  // The id_token carries the scopes' claims too, so a provider configured
  // without a user-info URL (PocketBase reads the id_token then) gets them.
  conformIdTokenClaims: false,
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => claimsOf(id),
  }),
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  pkce: { required: () => false },
  cookies: { keys: ['litebase-oidc-test-cookie-key'] },
  ttl: { AccessToken: 3600, AuthorizationCode: 120, IdToken: 3600, Interaction: 600, Session: 600, Grant: 600 },
});

// The headless interaction: sign in the hinted account and grant what was asked.
async function interaction(req, res) {
  try {
    const details = await provider.interactionDetails(req, res);
    const hint = details.params.login_hint || 'alice';
    if (hint === 'deny') {
      await provider.interactionFinished(req, res, {
        error: 'access_denied', error_description: 'the test account refused',
      }, { mergeWithLastSubmission: false });
      return;
    }
    if (details.prompt.name === 'login') {
      await provider.interactionFinished(req, res, { login: { accountId: hint } }, { mergeWithLastSubmission: false });
      return;
    }
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  } catch (e) {
    res.statusCode = 500;
    res.end(String(e?.stack || e));
  }
}

const callback = provider.callback();
server.on('request', (req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res);
  } else if (req.url.startsWith('/pictures/')) {
    res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': PICTURE.length });
    res.end(PICTURE);
  } else {
    callback(req, res);
  }
});

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
console.log(`OIDC_READY ${issuer}`);
