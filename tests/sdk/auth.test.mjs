// Auth collections: sign-up, password/OTP sign-in, refresh, auth-methods,
// @request.auth rules, token invalidation, forged/tampered/expired tokens, the
// mail flows (password reset, verification, email change, OTP) through a real
// SMTP catcher, superuser impersonation, and a leak check over every response.
//
// Uses PocketBase's default `users` collection; anything that needs other
// options gets its own auth collection through the Scope.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  Scope, adminClient, anonClient, expectError, rawFetch, BASE_URL,
  tokenPayload, uniqueEmail, createUser, userClient,
} from './support.mjs';
import {
  MAIL_SKIP, configureMail, mailCursor, waitForMail, mailsTo, expectNoMail, extractToken, extractCode,
} from './mail.mjs';

// ---------------------------------------------------------------------------
// Record every JSON body the server sends us (SDK calls and raw fetches alike):
// the last test walks them all for password/tokenKey leaks.
const SEEN = []; // {url, status, json, text}
const pendingReads = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const res = await realFetch(input, init);
  const url = typeof input === 'string' ? input : input?.url ?? String(input);
  if (url.startsWith(BASE_URL) && !(res.headers.get('content-type') || '').includes('event-stream')) {
    pendingReads.push(res.clone().text().then((text) => {
      let json;
      try { json = JSON.parse(text); } catch { json = undefined; }
      SEEN.push({ url, status: res.status, json, text });
    }, () => {}));
  }
  return res;
};

// ---------------------------------------------------------------------------
const s = new Scope('auth');
let usersCol; // the `users` collection as the superuser sees it
const PASSWORD_AUTH_FAILED = 'Failed to authenticate.';
const NEEDS_TOKEN = 'The request requires valid record authorization token.';
const NOT_FOUND = "The requested resource wasn't found.";
const VALIDATION_FAILED = 'An error occurred while validating the submitted data.';
const SUPERUSERS_ONLY = 'Only superusers can perform this action.';
const NOT_ALLOWED = 'The authorized record is not allowed to perform this action.';
const USED_PASSWORDS = new Set(['password123']); // plain-text passwords that must never come back

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowSec = () => Math.floor(Date.now() / 1000);

/** A fresh user in `users` plus a client signed in as them. */
async function newUser(extra = {}) {
  const u = await createUser('users', extra);
  const pb = await userClient(u.email, u.password);
  return { ...u, id: u.record.id, pb };
}

/** A client that sends the given raw token (and has no record in its authStore). */
function clientWithToken(token) {
  const pb = anonClient();
  pb.authStore.save(token, null);
  return pb;
}

before(async () => {
  await s.init();
  await configureMail(s.pb);
  usersCol = await s.pb.collections.getOne('users');
});
after(() => s.cleanup());

// ---------------------------------------------------------------------------
describe('sign-up (create in an auth collection)', () => {
  test('the create response has no password, tokenKey or (hidden) email', async () => {
    const email = uniqueEmail('signup');
    const rec = await anonClient().collection('users').create({
      email, password: 'password123', passwordConfirm: 'password123', name: 'Ann',
    });
    assert.deepEqual(Object.keys(rec).sort(), [
      'avatar', 'collectionId', 'collectionName', 'created', 'emailVisibility', 'id', 'name', 'updated', 'verified',
    ]);
    assert.equal(rec.collectionName, 'users');
    assert.equal(rec.collectionId, usersCol.id);
    assert.equal(rec.emailVisibility, false);
    assert.equal(rec.verified, false);
    assert.equal(rec.name, 'Ann');
    assert.match(rec.id, /^[a-z0-9]{15}$/);
  });

  test('emailVisibility: true puts the email in the response', async () => {
    const email = uniqueEmail('visible');
    const rec = await anonClient().collection('users').create({
      email, emailVisibility: true, password: 'password123', passwordConfirm: 'password123',
    });
    assert.equal(rec.email, email);
    assert.equal(rec.emailVisibility, true);
    assert.equal('password' in rec || 'tokenKey' in rec, false);
  });

  test('a superuser sees the email and may create a verified user; a guest may not set verified', async () => {
    const email = uniqueEmail('bysu');
    const rec = await s.pb.collection('users').create({
      email, password: 'password123', passwordConfirm: 'password123', verified: true,
    });
    assert.equal(rec.email, email);
    assert.equal(rec.verified, true);
    const body = await expectError(anonClient().collection('users').create({
      email: uniqueEmail('guestverified'), password: 'password123', passwordConfirm: 'password123', verified: true,
    }), 400);
    assert.equal(body.message, 'Failed to create record.');
    assert.equal(body.data.verified.code, 'validation_values_mismatch');
  });

  test('a duplicate email → 400 validation_not_unique on email', async () => {
    const u = await createUser();
    const body = await expectError(anonClient().collection('users').create({
      email: u.email, password: 'password123', passwordConfirm: 'password123',
    }), 400);
    assert.deepEqual(body, {
      status: 400,
      message: 'Failed to create record.',
      data: { email: { code: 'validation_not_unique', message: 'Value must be unique.' } },
    });
  });

  test('password too short, mismatched confirm, missing, bad email → field errors', async () => {
    const pb = anonClient().collection('users');
    let body = await expectError(pb.create({ email: uniqueEmail(), password: 'short', passwordConfirm: 'short' }), 400);
    assert.deepEqual(Object.keys(body.data), ['password']);
    assert.equal(body.data.password.code, 'validation_min_text_constraint');
    assert.equal(body.data.password.message, 'Must be at least 8 character(s).');

    body = await expectError(pb.create({ email: uniqueEmail(), password: 'password123', passwordConfirm: 'password124' }), 400);
    assert.deepEqual(body.data, { passwordConfirm: { code: 'validation_values_mismatch', message: "Values don't match." } });

    body = await expectError(pb.create({ email: uniqueEmail() }), 400);
    assert.deepEqual(Object.keys(body.data).sort(), ['password', 'passwordConfirm']);
    assert.equal(body.data.password.code, 'validation_required');
    assert.equal(body.data.passwordConfirm.code, 'validation_required');

    body = await expectError(pb.create({ email: 'not-an-email', password: 'password123', passwordConfirm: 'password123' }), 400);
    assert.equal(body.data.email.code, 'validation_is_email');
  });
});

// ---------------------------------------------------------------------------
describe('authWithPassword / authRefresh / auth-methods', () => {
  let u;
  before(async () => { u = await createUser('users', { name: 'Sam' }); });

  test('authWithPassword → {token, record}; the SDK authStore holds them', async () => {
    const pb = anonClient();
    const res = await pb.collection('users').authWithPassword(u.email, u.password);
    assert.deepEqual(Object.keys(res).sort(), ['record', 'token']);
    assert.equal(res.record.id, u.record.id);
    assert.equal(res.record.email, u.email, 'the owner sees their own email');
    assert.equal(res.record.name, 'Sam');
    assert.equal('password' in res.record || 'tokenKey' in res.record, false);
    assert.equal(pb.authStore.isValid, true);
    assert.equal(pb.authStore.isSuperuser, false);
    assert.equal(pb.authStore.token, res.token);
    assert.equal(pb.authStore.record.id, u.record.id);

    const [header] = res.token.split('.');
    assert.equal(JSON.parse(Buffer.from(header, 'base64url')).alg, 'HS256');
    const claims = tokenPayload(res.token);
    assert.equal(claims.id, u.record.id);
    assert.equal(claims.collectionId, usersCol.id);
    assert.equal(claims.type, 'auth');
    assert.equal(claims.refreshable, true);
    const life = claims.exp - nowSec();
    assert.ok(Math.abs(life - usersCol.authToken.duration) <= 60, `exp is authToken.duration (${usersCol.authToken.duration}s) ahead, got ${life}s`);
  });

  test('wrong password and unknown email give the same 400 (no user enumeration)', async () => {
    const wrong = await expectError(anonClient().collection('users').authWithPassword(u.email, 'wrong-password'), 400);
    const unknown = await expectError(anonClient().collection('users').authWithPassword(uniqueEmail('nobody'), 'wrong-password'), 400);
    assert.deepEqual(wrong, { status: 400, message: PASSWORD_AUTH_FAILED, data: {} });
    assert.deepEqual(unknown, wrong);
    // a superuser's credentials do not work on `users`
    await expectError(anonClient().collection('users').authWithPassword(s.pb.authStore.record.email, 'pass123456'), 400);
  });

  test('empty identity and password → 400 with field errors', async () => {
    const body = await expectError(anonClient().collection('users').authWithPassword('', ''), 400);
    assert.equal(body.message, VALIDATION_FAILED);
    assert.equal(body.data.identity.code, 'validation_required');
    assert.equal(body.data.password.code, 'validation_required');
  });

  test('authRefresh → {token, record}, a new token once a second has passed', async () => {
    const pb = await userClient(u.email, u.password);
    const first = pb.authStore.token;
    await sleep(1100); // exp has 1 s resolution: within the same second the token is identical
    const res = await pb.collection('users').authRefresh();
    assert.deepEqual(Object.keys(res).sort(), ['record', 'token']);
    assert.equal(res.record.id, u.record.id);
    assert.notEqual(res.token, first);
    assert.equal(pb.authStore.token, res.token);
    assert.ok(tokenPayload(res.token).exp > tokenPayload(first).exp);
    // the old token stays valid until it expires
    const again = await clientWithToken(first).collection('users').authRefresh();
    assert.equal(again.record.id, u.record.id);
  });

  test('authRefresh without a token or with a forged one → 401', async () => {
    assert.deepEqual(await expectError(anonClient().collection('users').authRefresh(), 401),
      { status: 401, message: NEEDS_TOKEN, data: {} });
    await expectError(clientWithToken('garbage').collection('users').authRefresh(), 401);
  });

  test('authRefresh with a token of another auth collection → 403', async () => {
    const body = await expectError(s.pb.collection('users').authRefresh(), 403);
    // sic: the message names the collection of the token, not of the URL
    assert.equal(body.message, 'The request requires auth record from _superusers collection.');
    const pb = await userClient(u.email, u.password);
    const body2 = await expectError(pb.collection('_superusers').authRefresh(), 403);
    assert.equal(body2.message, 'The request requires auth record from users collection.');
  });

  test('auth-methods: the shape for the default users collection', async () => {
    const m = await anonClient().collection('users').listAuthMethods();
    assert.deepEqual(m, {
      password: { enabled: true, identityFields: ['email'] },
      oauth2: { enabled: false, providers: [] },
      mfa: { enabled: false, duration: 0 },
      otp: { enabled: false, duration: 0 },
    });
  });
});

// ---------------------------------------------------------------------------
describe('rules with @request.auth.id', () => {
  let A; let B;
  before(async () => {
    A = await newUser({ name: 'A' });
    B = await newUser({ name: 'B' });
  });

  test('default users rules: a user lists and views only themselves', async () => {
    const list = await A.pb.collection('users').getList(1, 50);
    assert.deepEqual(list.items.map((r) => r.id), [A.id]);
    assert.equal(list.totalItems, 1);
    assert.equal(list.items[0].email, A.email, 'own email is visible even with emailVisibility false');
    assert.equal((await A.pb.collection('users').getOne(A.id)).id, A.id);
    assert.deepEqual(await expectError(A.pb.collection('users').getOne(B.id), 404), { status: 404, message: NOT_FOUND, data: {} });
    await expectError(A.pb.collection('users').update(B.id, { name: 'hacked' }), 404);
    await expectError(A.pb.collection('users').delete(B.id), 404);
    assert.equal((await s.pb.collection('users').getOne(B.id)).name, 'B');
  });

  test('default users rules as a guest: empty list, 404 for view/update/delete', async () => {
    const pb = anonClient();
    const list = await pb.collection('users').getList();
    assert.deepEqual([list.totalItems, list.items], [0, []]);
    await expectError(pb.collection('users').getOne(A.id), 404);
    await expectError(pb.collection('users').update(A.id, { name: 'x' }), 404);
    await expectError(pb.collection('users').delete(A.id), 404);
  });

  test('a user updates their own record; the SDK refreshes authStore.record', async () => {
    const rec = await A.pb.collection('users').update(A.id, { name: 'Alice' });
    assert.equal(rec.name, 'Alice');
    assert.equal(A.pb.authStore.record.name, 'Alice');
  });

  test('a user cannot set verified or email directly (400 validation_values_mismatch)', async () => {
    let body = await expectError(A.pb.collection('users').update(A.id, { verified: true }), 400);
    assert.equal(body.message, 'Failed to update record.');
    assert.equal(body.data.verified.code, 'validation_values_mismatch');
    body = await expectError(A.pb.collection('users').update(A.id, { email: uniqueEmail('direct') }), 400);
    assert.equal(body.data.email.code, 'validation_values_mismatch');
  });

  test('email is only filterable when emailVisibility is true, even for one\'s own record', async () => {
    const u = await newUser();
    const byEmail = () => u.pb.collection('users').getList(1, 10, { filter: u.pb.filter('email = {:e}', { e: u.email }) });
    assert.equal((await byEmail()).totalItems, 0);
    await u.pb.collection('users').update(u.id, { emailVisibility: true });
    assert.equal((await byEmail()).totalItems, 1);
    // emailVisibility does not open the record to others: the rules still apply
    await expectError(B.pb.collection('users').getOne(u.id), 404);
  });

  test('hidden fields (password, tokenKey) cannot be filtered or sorted on, nor picked with fields', async () => {
    for (const q of [{ filter: 'password != ""' }, { filter: 'tokenKey != ""' }, { sort: 'password' }]) {
      await expectError(A.pb.collection('users').getList(1, 10, q), 400);
    }
    const list = await A.pb.collection('users').getList(1, 10, { fields: 'id,password,tokenKey,passwordConfirm' });
    assert.deepEqual(list.items, [{ id: A.id }]);
    // the superuser may filter on them (but still never sees them)
    const su = await s.pb.collection('users').getList(1, 1, { filter: 'tokenKey != ""' });
    assert.ok(su.totalItems > 0);
    assert.equal('tokenKey' in su.items[0], false);
  });

  test('a user cannot use admin APIs or superuser-only collections', async () => {
    assert.deepEqual(await expectError(A.pb.collections.getList(), 403), { status: 403, message: NOT_ALLOWED, data: {} });
    assert.equal((await expectError(A.pb.collection('_superusers').getList(), 403)).message, SUPERUSERS_ONLY);
  });

  describe('a rule-protected base collection (notes.owner = @request.auth.id)', () => {
    let notes; let a1; let b1;
    before(async () => {
      const R = 'owner = @request.auth.id';
      notes = await s.collection({
        name: 'notes',
        listRule: R, viewRule: R, updateRule: R, deleteRule: R,
        createRule: '@request.auth.id != "" && owner = @request.auth.id',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'owner', type: 'relation', collectionId: usersCol.id, maxSelect: 1 },
        ],
      });
      a1 = await A.pb.collection(notes.name).create({ title: 'a1', owner: A.id });
      b1 = await B.pb.collection(notes.name).create({ title: 'b1', owner: B.id });
    });

    test('each owner lists only their own notes; a guest lists none; the superuser all', async () => {
      const titles = async (pb) => (await pb.collection(notes.name).getFullList({ sort: 'title' })).map((r) => r.title);
      assert.deepEqual(await titles(A.pb), ['a1']);
      assert.deepEqual(await titles(B.pb), ['b1']);
      assert.deepEqual(await titles(anonClient()), []);
      assert.deepEqual(await titles(s.pb), ['a1', 'b1']);
      assert.equal((await A.pb.collection(notes.name).getList()).totalItems, 1);
    });

    test('someone else\'s note → 404 for view, update and delete (user or guest)', async () => {
      for (const pb of [A.pb, anonClient()]) {
        await expectError(pb.collection(notes.name).getOne(b1.id), 404);
        await expectError(pb.collection(notes.name).update(b1.id, { title: 'x' }), 404);
        await expectError(pb.collection(notes.name).delete(b1.id), 404);
      }
      assert.equal((await B.pb.collection(notes.name).getOne(b1.id)).title, 'b1');
    });

    test('create for someone else or as a guest → 400 "Failed to create record."', async () => {
      const body = await expectError(A.pb.collection(notes.name).create({ title: 'x', owner: B.id }), 400);
      assert.deepEqual(body, { status: 400, message: 'Failed to create record.', data: {} });
      await expectError(anonClient().collection(notes.name).create({ title: 'x', owner: A.id }), 400);
      await expectError(anonClient().collection(notes.name).create({ title: 'x' }), 400);
    });

    test('expand owner follows the users view rule and shows the owner\'s own email', async () => {
      const rec = await B.pb.collection(notes.name).getOne(b1.id, { expand: 'owner' });
      assert.equal(rec.expand.owner.id, B.id);
      assert.equal(rec.expand.owner.email, B.email);
    });

    test('an owner may hand a note to someone else (the update rule checks the old row), then loses it', async () => {
      const a2 = await A.pb.collection(notes.name).create({ title: 'a2', owner: A.id });
      const moved = await A.pb.collection(notes.name).update(a2.id, { owner: B.id });
      assert.equal(moved.owner, B.id);
      await expectError(A.pb.collection(notes.name).getOne(a2.id), 404);
      assert.equal((await B.pb.collection(notes.name).getOne(a2.id)).title, 'a2');
    });

    test('the owner updates and deletes their own note (200, 204)', async () => {
      const upd = await A.pb.collection(notes.name).update(a1.id, { title: 'a1!' });
      assert.equal(upd.title, 'a1!');
      const del = await rawFetch(`/api/collections/${notes.name}/records/${a1.id}`, {
        method: 'DELETE', headers: { Authorization: A.pb.authStore.token },
      });
      assert.equal(del.status, 204);
      assert.equal(del.text, '');
    });
  });
});

// ---------------------------------------------------------------------------
describe('password change and token invalidation', () => {
  test('changing the password needs oldPassword; afterwards the old token is ignored', async () => {
    const u = await newUser();
    const col = u.pb.collection('users');
    let body = await expectError(col.update(u.id, { password: 'newpass123', passwordConfirm: 'newpass123' }), 400);
    assert.deepEqual(body.data, { oldPassword: { code: 'validation_required', message: 'Cannot be blank.' } });
    body = await expectError(col.update(u.id, { oldPassword: 'wrong-old-pw', password: 'newpass123', passwordConfirm: 'newpass123' }), 400);
    assert.deepEqual(body.data, { oldPassword: { code: 'validation_invalid_old_password', message: 'Missing or invalid old password.' } });
    body = await expectError(col.update(u.id, { oldPassword: u.password, password: 'newpass123', passwordConfirm: 'other12345' }), 400);
    assert.equal(body.data.passwordConfirm.code, 'validation_values_mismatch');

    const oldToken = u.pb.authStore.token;
    const rec = await col.update(u.id, { oldPassword: u.password, password: 'newpass123', passwordConfirm: 'newpass123' });
    USED_PASSWORDS.add('newpass123');
    assert.equal(rec.id, u.id);
    // the SDK keeps the old token: it looks valid client-side
    assert.equal(u.pb.authStore.token, oldToken);
    assert.equal(u.pb.authStore.isValid, true);

    const old = clientWithToken(oldToken);
    await expectError(old.collection('users').authRefresh(), 401);
    await expectError(old.collection('users').getOne(u.id), 404); // a guest now
    assert.equal((await old.collection('users').getList()).totalItems, 0);
    await expectError(old.collection('users').update(u.id, { name: 'x' }), 404);

    assert.deepEqual(await expectError(anonClient().collection('users').authWithPassword(u.email, u.password), 400),
      { status: 400, message: PASSWORD_AUTH_FAILED, data: {} });
    const fresh = await userClient(u.email, 'newpass123');
    assert.equal((await fresh.collection('users').getOne(u.id)).id, u.id);
  });

  test('a superuser setting the password (no oldPassword needed) also invalidates the user\'s tokens', async () => {
    const u = await newUser();
    await s.pb.collection('users').update(u.id, { password: 'adminset123', passwordConfirm: 'adminset123' });
    USED_PASSWORDS.add('adminset123');
    await expectError(u.pb.collection('users').authRefresh(), 401);
    await userClient(u.email, 'adminset123');
  });

  test('deleting one\'s own record → 204, the SDK clears its authStore, the token is dead', async () => {
    const u = await newUser();
    const token = u.pb.authStore.token;
    assert.equal(await u.pb.collection('users').delete(u.id), true);
    assert.equal(u.pb.authStore.token, '');
    await expectError(clientWithToken(token).collection('users').authRefresh(), 401);
  });
});

// ---------------------------------------------------------------------------
describe('forged, tampered and expired tokens', () => {
  let u; let valid; const kinds = {};
  before(async () => {
    u = await newUser();
    const other = await createUser();
    valid = u.pb.authStore.token;
    const [h, p, sig] = valid.split('.');
    const claims = tokenPayload(valid);
    const mid = Math.floor(p.length / 2);
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    kinds.forged = 'this-is-not-a-token';
    kinds.forgedJwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6Inh4eCIsInR5cGUiOiJhdXRoIn0.Zm9yZ2Vk';
    kinds.tamperedChar = [h, p.slice(0, mid) + (p[mid] === 'A' ? 'B' : 'A') + p.slice(mid + 1), sig].join('.');
    kinds.tamperedClaims = [h, b64({ ...claims, id: other.record.id }), sig].join('.');
    kinds.algNone = [b64({ alg: 'none', typ: 'JWT' }), p, ''].join('.');
    kinds.badSignature = [h, p, sig.slice(0, -4) + (sig.endsWith('AAAA') ? 'BBBB' : 'AAAA')].join('.');
  });

  /** impersonate with a 1 s duration mints a token that has expired a moment later. */
  async function expiredToken() {
    if (kinds.expired) return kinds.expired;
    const short = await s.pb.collection('users').impersonate(u.id, 1);
    const token = short.authStore.token;
    const exp = tokenPayload(token).exp;
    assert.ok(exp <= nowSec() + 1, 'impersonate(id, 1) gives a token that expires within a second');
    while (Date.now() / 1000 <= exp + 0.2) await sleep(100);
    kinds.expired = token;
    return token;
  }

  test('a valid token: the baseline', async () => {
    const pb = clientWithToken(valid);
    assert.equal((await pb.collection('users').getList()).totalItems, 1);
    assert.equal((await pb.collection('users').getOne(u.id)).id, u.id);
    assert.equal((await pb.collection('users').authRefresh()).record.id, u.id);
    assert.equal((await expectError(pb.collection('users').requestEmailChange('not-an-email'), 400)).data.newEmail.code, 'validation_is_email');
    await expectError(pb.collections.getList(), 403);
    await expectError(pb.collection('_superusers').getList(), 403);
  });

  for (const kind of ['forged', 'forgedJwt', 'tamperedChar', 'tamperedClaims', 'algNone', 'badSignature', 'expired']) {
    test(`${kind}: ignored as a guest on record endpoints, 401 where auth is required`, async () => {
      const pb = clientWithToken(kind === 'expired' ? await expiredToken() : kinds[kind]);
      // rule-filtered list: 200 and empty, like a guest
      const list = await pb.collection('users').getList();
      assert.deepEqual([list.totalItems, list.items], [0, []]);
      // view with a rule: 404, like a guest
      await expectError(pb.collection('users').getOne(u.id), 404);
      // endpoints that need an auth record: 401
      assert.deepEqual(await expectError(pb.collection('users').authRefresh(), 401), { status: 401, message: NEEDS_TOKEN, data: {} });
      await expectError(pb.collection('users').requestEmailChange(uniqueEmail('x')), 401);
      await expectError(pb.collections.getList(), 401);
      // superuser-only (null rule) collection: 403, like a guest
      assert.equal((await expectError(pb.collection('_superusers').getList(), 403)).message, SUPERUSERS_ONLY);
    });
  }

  test('the SDK reports the expired token as not valid', async () => {
    const pb = clientWithToken(await expiredToken());
    assert.equal(pb.authStore.isValid, false);
  });

  test('the Authorization header may carry a "Bearer " prefix', async () => {
    for (const value of [valid, `Bearer ${valid}`]) {
      const res = await rawFetch('/api/collections/users/records', { headers: { Authorization: value } });
      assert.equal(res.status, 200);
      assert.equal(res.json.totalItems, 1, value.slice(0, 10));
    }
  });

  test('authToken.duration below 10 s is rejected when saving a collection', async () => {
    const body = await expectError(s.pb.collections.create({
      name: s.name('shortlived'), type: 'auth', authToken: { duration: 1 },
    }), 400);
    assert.equal(body.data.authToken.duration.code, 'validation_min_greater_equal_than_required');
    assert.deepEqual(body.data.authToken.duration.params, { threshold: 10 });
  });
});

// ---------------------------------------------------------------------------
describe('password reset by mail', { skip: MAIL_SKIP }, () => {
  test('request → mail with a token → confirm; the token and old sessions stop working', async () => {
    const u = await newUser();
    const since = await mailCursor();
    assert.equal(await anonClient().collection('users').requestPasswordReset(u.email), true);
    const mail = await waitForMail(u.email, { since });
    assert.match(mail.subject, /reset/i);
    const token = extractToken(mail);

    let body = await expectError(anonClient().collection('users').confirmPasswordReset(token, 'resetpass123', 'resetpass124'), 400);
    assert.equal(body.message, VALIDATION_FAILED);
    assert.equal(body.data.passwordConfirm.code, 'validation_values_mismatch');
    body = await expectError(anonClient().collection('users').confirmPasswordReset(token, 'short', 'short'), 400);
    assert.equal(body.data.password.code, 'validation_length_out_of_range');
    body = await expectError(anonClient().collection('users').confirmPasswordReset('garbage', 'resetpass123', 'resetpass123'), 400);
    assert.deepEqual(body.data, { token: { code: 'validation_invalid_token', message: 'Invalid or expired token.' } });

    const res = await rawFetch('/api/collections/users/confirm-password-reset', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, password: 'resetpass123', passwordConfirm: 'resetpass123' }),
    });
    USED_PASSWORDS.add('resetpass123');
    assert.equal(res.status, 204);
    assert.equal(res.text, '');

    body = await expectError(anonClient().collection('users').confirmPasswordReset(token, 'resetpass456', 'resetpass456'), 400);
    assert.equal(body.data.token.code, 'validation_invalid_token', 'a reset token works once');
    await expectError(u.pb.collection('users').authRefresh(), 401); // old session
    await expectError(anonClient().collection('users').authWithPassword(u.email, u.password), 400);
    const fresh = await userClient(u.email, 'resetpass123');
    // a confirmed reset proves the address: the user is now verified
    assert.equal(fresh.authStore.record.verified, true);
  });

  test('unknown email → the same 204 and no mail; a second request within 2 min sends no mail', async () => {
    const u = await newUser();
    const nobody = uniqueEmail('nobody');
    let since = await mailCursor();
    assert.equal(await anonClient().collection('users').requestPasswordReset(u.email), true);
    await waitForMail(u.email, { since });
    since = await mailCursor();
    const again = await rawFetch('/api/collections/users/request-password-reset', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: u.email }),
    });
    assert.equal(again.status, 204);
    const unknown = await rawFetch('/api/collections/users/request-password-reset', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: nobody }),
    });
    assert.equal(unknown.status, 204);
    assert.equal(unknown.text, '');
    await expectNoMail(nobody, { since });
    assert.deepEqual(await mailsTo(u.email, since), [], 'no second reset mail within 2 minutes');
  });

  test('a malformed email → 400 validation_is_email', async () => {
    const body = await expectError(anonClient().collection('users').requestPasswordReset('not-an-email'), 400);
    assert.deepEqual(body, {
      status: 400, message: VALIDATION_FAILED,
      data: { email: { code: 'validation_is_email', message: 'Must be a valid email address.' } },
    });
  });
});

// ---------------------------------------------------------------------------
describe('email verification', { skip: MAIL_SKIP }, () => {
  test('request → mail → confirm: verified becomes true (and the SDK updates its authStore)', async () => {
    const u = await newUser();
    assert.equal(u.pb.authStore.record.verified, false);
    const since = await mailCursor();
    assert.equal(await anonClient().collection('users').requestVerification(u.email), true);
    const mail = await waitForMail(u.email, { since });
    assert.match(mail.subject, /verif/i);
    const token = extractToken(mail);

    const body = await expectError(anonClient().collection('users').confirmVerification('garbage'), 400);
    assert.equal(body.message, VALIDATION_FAILED);
    assert.ok(body.data.token, 'the error is on token');

    // A superuser subscribed to the record sees the flow's write like any other.
    const watcher = await adminClient();
    const seen = [];
    await watcher.collection('users').subscribe(u.id, (e) => seen.push(e));

    // confirming on the user's own client: the SDK reads id/collectionId from the token
    assert.equal(await u.pb.collection('users').confirmVerification(token), true);
    assert.equal(u.pb.authStore.record.verified, true);
    for (let i = 0; i < 100 && seen.length === 0; i++) await sleep(50);
    watcher.realtime.unsubscribe();
    assert.deepEqual(
      seen.map((e) => [e.action, e.record.id, e.record.verified]),
      [['update', u.id, true]],
      'one update event for the confirmation',
    );
    assert.equal((await s.pb.collection('users').getOne(u.id)).verified, true);
    // confirming again is fine (204), and verifying does not end sessions
    assert.equal(await anonClient().collection('users').confirmVerification(token), true);
    assert.equal((await u.pb.collection('users').authRefresh()).record.verified, true);
  });

  test('already verified or unknown email → 204 and no mail', async () => {
    const verified = await s.pb.collection('users').create({
      email: uniqueEmail('verified'), password: 'password123', passwordConfirm: 'password123', verified: true,
    });
    const nobody = uniqueEmail('nobody');
    const since = await mailCursor();
    assert.equal(await anonClient().collection('users').requestVerification(verified.email), true);
    assert.equal(await anonClient().collection('users').requestVerification(nobody), true);
    await expectNoMail(nobody, { since });
    await expectNoMail(verified.email, { since, waitMs: 0 });
  });
});

// ---------------------------------------------------------------------------
describe('email change', { skip: MAIL_SKIP }, () => {
  test('request (as the user) → mail to the NEW address → confirm with the password', async () => {
    const u = await newUser();
    const other = await createUser();
    const newEmail = uniqueEmail('changed');

    assert.deepEqual(await expectError(anonClient().collection('users').requestEmailChange(newEmail), 401),
      { status: 401, message: NEEDS_TOKEN, data: {} });
    let body = await expectError(u.pb.collection('users').requestEmailChange('not-an-email'), 400);
    assert.equal(body.data.newEmail.code, 'validation_is_email');
    body = await expectError(u.pb.collection('users').requestEmailChange(other.email), 400);
    assert.deepEqual(body.data, { newEmail: { code: 'validation_invalid_new_email', message: 'Invalid new email address.' } });
    body = await expectError(u.pb.collection('users').requestEmailChange(u.email), 400);
    assert.equal(body.data.newEmail.code, 'validation_not_in_invalid');

    const since = await mailCursor();
    assert.equal(await u.pb.collection('users').requestEmailChange(newEmail), true);
    const mail = await waitForMail(newEmail, { since });
    assert.match(mail.subject, /email/i);
    assert.deepEqual(await mailsTo(u.email, since), [], 'nothing goes to the old address');
    const token = extractToken(mail);

    body = await expectError(anonClient().collection('users').confirmEmailChange(token, 'wrong-password'), 400);
    assert.deepEqual(body.data, { password: { code: 'validation_invalid_password', message: 'Missing or invalid auth record password.' } });

    const before = u.pb.authStore.token;
    // confirming on the user's own client: the SDK clears its authStore (the token is now dead)
    assert.equal(await u.pb.collection('users').confirmEmailChange(token, u.password), true);
    assert.equal(u.pb.authStore.token, '');
    await expectError(clientWithToken(before).collection('users').authRefresh(), 401);

    body = await expectError(anonClient().collection('users').confirmEmailChange(token, u.password), 400);
    assert.equal(body.data.token.code, 'validation_invalid_token', 'an email-change token works once');

    await expectError(anonClient().collection('users').authWithPassword(u.email, u.password), 400);
    const fresh = await userClient(newEmail, u.password);
    assert.equal(fresh.authStore.record.email, newEmail);
    assert.equal(fresh.authStore.record.id, u.id);
  });
});

// ---------------------------------------------------------------------------
describe('one-time password (OTP)', { skip: MAIL_SKIP }, () => {
  let otpCol;
  before(async () => {
    otpCol = await s.collection({
      name: 'otpusers',
      type: 'auth',
      listRule: 'id = @request.auth.id',
      viewRule: 'id = @request.auth.id',
      createRule: '',
      otp: { enabled: true },
      fields: [{ name: 'name', type: 'text' }],
    });
  });

  test('OTP is off on the default users collection → 403', async () => {
    const body = await expectError(anonClient().collection('users').requestOTP(uniqueEmail()), 403);
    assert.deepEqual(body, { status: 403, message: 'The collection is not configured to allow OTP authentication.', data: {} });
  });

  test('otp: {enabled: true} fills in the defaults and shows in auth-methods', async () => {
    assert.equal(otpCol.otp.enabled, true);
    assert.equal(otpCol.otp.duration, 180);
    assert.equal(otpCol.otp.length, 8);
    assert.equal(typeof otpCol.otp.emailTemplate.subject, 'string');
    const m = await anonClient().collection(otpCol.name).listAuthMethods();
    assert.deepEqual(m.otp, { enabled: true, duration: 180 });
    assert.deepEqual(m.password, { enabled: true, identityFields: ['email'] });
  });

  test('requestOTP → {otpId} and a mail with the code → authWithOTP → token', async () => {
    const u = await createUser(otpCol.name);
    const since = await mailCursor();
    const req = await anonClient().collection(otpCol.name).requestOTP(u.email);
    assert.deepEqual(Object.keys(req), ['otpId']);
    assert.match(req.otpId, /^[a-z0-9]{15}$/);
    const mail = await waitForMail(u.email, { since });
    assert.match(mail.subject, /OTP|one-time|code/i);
    const code = extractCode(mail);
    assert.equal(code.length, otpCol.otp.length);

    const wrong = String((Number(code[0]) + 1) % 10) + code.slice(1);
    assert.deepEqual(await expectError(anonClient().collection(otpCol.name).authWithOTP(req.otpId, wrong), 400),
      { status: 400, message: 'Invalid or expired OTP.', data: {} });

    const pb = anonClient();
    const res = await pb.collection(otpCol.name).authWithOTP(req.otpId, code);
    assert.deepEqual(Object.keys(res).sort(), ['record', 'token']);
    assert.equal(res.record.id, u.record.id);
    assert.equal(res.record.verified, true, 'an OTP sign-in marks the email verified');
    assert.equal(pb.authStore.isValid, true);
    assert.equal(tokenPayload(res.token).type, 'auth');
    assert.equal((await pb.collection(otpCol.name).getOne(u.record.id)).id, u.record.id);

    await expectError(anonClient().collection(otpCol.name).authWithOTP(req.otpId, code), 400); // used up
  });

  test('unknown email → still an otpId (no enumeration), no mail, and it never authenticates', async () => {
    const nobody = uniqueEmail('nobody');
    const since = await mailCursor();
    const req = await anonClient().collection(otpCol.name).requestOTP(nobody);
    assert.match(req.otpId, /^[a-z0-9]{15}$/);
    await expectNoMail(nobody, { since });
    await expectError(anonClient().collection(otpCol.name).authWithOTP(req.otpId, '12345678'), 400);
  });
});

// ---------------------------------------------------------------------------
describe('superuser impersonation', () => {
  test('impersonate(id, duration) → a client authenticated as that user', async () => {
    const u = await newUser();
    const pb = await s.pb.collection('users').impersonate(u.id, 3600);
    assert.equal(pb.authStore.isValid, true);
    assert.equal(pb.authStore.isSuperuser, false);
    assert.equal(pb.authStore.record.id, u.id);
    assert.equal(pb.authStore.record.email, u.email);
    const claims = tokenPayload(pb.authStore.token);
    assert.equal(claims.id, u.id);
    assert.equal(claims.type, 'auth');
    assert.equal(claims.refreshable, false);
    assert.ok(Math.abs(claims.exp - nowSec() - 3600) <= 60);
    assert.equal((await pb.collection('users').getOne(u.id)).id, u.id);
    const list = await pb.collection('users').getList();
    assert.deepEqual(list.items.map((r) => r.id), [u.id]);
    // the impersonation token is not refreshable: refresh hands back the same token
    await sleep(1100);
    const token = pb.authStore.token;
    assert.equal((await pb.collection('users').authRefresh()).token, token);
    // duration 0 → the collection's authToken.duration
    const dflt = await s.pb.collection('users').impersonate(u.id, 0);
    assert.ok(Math.abs(tokenPayload(dflt.authStore.token).exp - nowSec() - usersCol.authToken.duration) <= 60);
  });

  test('impersonate: guest 401, user 403, unknown id 404, negative duration 400', async () => {
    const u = await newUser();
    assert.deepEqual(await expectError(anonClient().collection('users').impersonate(u.id, 60), 401),
      { status: 401, message: NEEDS_TOKEN, data: {} });
    assert.equal((await expectError(u.pb.collection('users').impersonate(u.id, 60), 403)).message, NOT_ALLOWED);
    await expectError(s.pb.collection('users').impersonate('zzzzzzzzzzzzzzz', 60), 404);
    const body = await expectError(s.pb.collection('users').impersonate(u.id, -5), 400);
    assert.equal(body.data.duration.code, 'validation_min_greater_equal_than_required');
  });
});

// ---------------------------------------------------------------------------
test('no response ever contained password, passwordConfirm, oldPassword or tokenKey', async () => {
  await Promise.all(pendingReads);
  const SECRET_KEYS = new Set(['password', 'passwordConfirm', 'oldPassword', 'tokenKey']);
  const problems = [];
  const walk = (node, where, hit) => {
    if (Array.isArray(node)) { node.forEach((v, i) => walk(v, `${where}[${i}]`, hit)); return; }
    if (node === null || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (SECRET_KEYS.has(k)) hit(`${where}.${k}`, v);
      walk(v, `${where}.${k}`, hit);
    }
  };
  let records = 0;
  for (const r of SEEN) {
    if (r.json === undefined) continue;
    const path = new URL(r.url).pathname;
    // error bodies name the failing input fields in `data` (e.g. data.password = {code, message});
    // auth-methods has a `password` section: both are expected, everything else is a leak
    const isError = r.status >= 400;
    const isAuthMethods = path.endsWith('/auth-methods');
    walk(r.json, `${r.status} ${path}`, (where, v) => {
      if (isError && /^\d+ [^.\s]+\.data\.[A-Za-z]+$/.test(where) && v && typeof v.code === 'string') return;
      if (isAuthMethods && /^\d+ [^.\s]+\.password$/.test(where)) return;
      problems.push(where);
    });
    // every record-shaped object anywhere (items, record, expand, …) is checked too
    const countRecords = (n) => {
      if (Array.isArray(n)) return n.forEach(countRecords);
      if (n === null || typeof n !== 'object') return;
      if (typeof n.collectionName === 'string' && typeof n.id === 'string' && 'collectionId' in n) records++;
      Object.values(n).forEach(countRecords);
    };
    countRecords(r.json);
    for (const pw of USED_PASSWORDS) {
      if (r.text.includes(pw)) problems.push(`${r.status} ${path}: the plain-text password "${pw}" is in the body`);
    }
  }
  assert.ok(SEEN.length > 100, `saw ${SEEN.length} responses`);
  assert.ok(records > 50, `saw ${records} records`);
  assert.deepEqual(problems, []);
});
