// Multi-factor auth as PocketBase 0.40 does it, through the SDK: with `mfa` on,
// a password sign-in answers 401 {mfaId}; an OTP sign-in (a code from the mail
// catcher) carrying that mfaId completes it and returns the token; the same
// method twice, a foreign or unknown mfaId are refused; the MFA rule picks who
// needs a second factor. Passes against litebase and the real PocketBase.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Scope, anonClient, ClientResponseError, createUser, tokenPayload } from './support.mjs';
import { MAIL_SKIP, configureMail, mailCursor, waitForMail, extractCode } from './mail.mjs';

const s = new Scope('mfa');
let col; // an auth collection with password + OTP and MFA on

before(async () => {
  await s.init();
  await configureMail(s.pb);
  col = await s.collection({
    name: 'people',
    type: 'auth',
    listRule: 'id = @request.auth.id',
    viewRule: 'id = @request.auth.id',
    createRule: '',
    otp: { enabled: true },
    mfa: { enabled: true, duration: 1800 },
    fields: [{ name: 'name', type: 'text' }],
  });
});
after(() => s.cleanup());

/** The error of a promise that must fail. */
async function failure(promise) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof ClientResponseError, `expected ClientResponseError, got ${e}`);
    return e;
  }
  assert.fail('expected the request to fail');
}

/** A first factor (password) that must ask for a second: returns the mfaId. */
async function passwordFirst(u) {
  const e = await failure(anonClient().collection(col.name).authWithPassword(u.email, u.password));
  assert.equal(e.status, 401);
  assert.deepEqual(Object.keys(e.response), ['mfaId'], JSON.stringify(e.response));
  assert.match(e.response.mfaId, /^[a-z0-9]{15}$/);
  return e.response.mfaId;
}

/** Requests an OTP for `u` and returns [otpId, code] from the caught mail. */
async function otpFor(u) {
  const since = await mailCursor();
  const { otpId } = await anonClient().collection(col.name).requestOTP(u.email);
  return [otpId, extractCode(await waitForMail(u.email, { since }))];
}

describe('MFA: password, then a one-time code', { skip: MAIL_SKIP }, () => {
  test('auth-methods reports MFA on with its duration', async () => {
    const m = await anonClient().collection(col.name).listAuthMethods();
    assert.deepEqual(m.mfa, { enabled: true, duration: 1800 });
  });

  test('password → 401 {mfaId}; OTP with the mfaId → token and record', async () => {
    const u = await createUser(col.name);
    const mfaId = await passwordFirst(u);
    const [otpId, code] = await otpFor(u);
    const pb = anonClient();
    const res = await pb.collection(col.name).authWithOTP(otpId, code, { mfaId });
    assert.equal(res.record.id, u.record.id);
    assert.equal(tokenPayload(res.token).type, 'auth');
    assert.equal(pb.authStore.isValid, true);
    assert.equal((await pb.collection(col.name).getOne(u.record.id)).id, u.record.id);

    const again = await failure(anonClient().collection(col.name).authWithPassword(u.email, u.password, { mfaId }));
    assert.deepEqual(again.response, { status: 400, message: 'Invalid or expired MFA session.', data: {} },
      'a completed MFA session is spent');
  });

  test('an OTP alone is a first factor too: 401 {mfaId}, then the password completes', async () => {
    const u = await createUser(col.name);
    const [otpId, code] = await otpFor(u);
    const e = await failure(anonClient().collection(col.name).authWithOTP(otpId, code));
    assert.equal(e.status, 401);
    const mfaId = e.response.mfaId;
    assert.match(mfaId, /^[a-z0-9]{15}$/);
    const res = await anonClient().collection(col.name).authWithPassword(u.email, u.password, { mfaId });
    assert.equal(res.record.id, u.record.id);
    assert.ok(res.token);
  });

  test('the same method twice is refused', async () => {
    const u = await createUser(col.name);
    const mfaId = await passwordFirst(u);
    const e = await failure(anonClient().collection(col.name).authWithPassword(u.email, u.password, { mfaId }));
    assert.deepEqual(e.response, { status: 400, message: 'A different authentication method is required.', data: {} });
  });

  test("another record's or an unknown mfaId is refused", async () => {
    const a = await createUser(col.name);
    const b = await createUser(col.name);
    const mfaId = await passwordFirst(a);
    const [otpId, code] = await otpFor(b);
    const foreign = await failure(anonClient().collection(col.name).authWithOTP(otpId, code, { mfaId }));
    assert.deepEqual(foreign.response, { status: 400, message: 'Invalid MFA session.', data: {} });
    const unknown = await failure(
      anonClient().collection(col.name).authWithPassword(b.email, b.password, { mfaId: 'abcdefghijklmno' }));
    assert.deepEqual(unknown.response, { status: 400, message: 'Invalid or expired MFA session.', data: {} });
  });

  test('the MFA rule decides who needs a second factor', async () => {
    const boss = await createUser(col.name, { name: 'boss' });
    const clerk = await createUser(col.name, { name: 'clerk' });
    await s.pb.collections.update(col.id, { mfa: { enabled: true, duration: 1800, rule: "name = 'boss'" } });
    try {
      await passwordFirst(boss);
      const res = await anonClient().collection(col.name).authWithPassword(clerk.email, clerk.password);
      assert.equal(res.record.id, clerk.record.id);
    } finally {
      await s.pb.collections.update(col.id, { mfa: { enabled: true, duration: 1800, rule: '' } });
    }
  });

  test('a duration under 10 seconds is refused', async () => {
    const e = await failure(s.pb.collections.update(col.id, { mfa: { enabled: true, duration: 5 } }));
    assert.equal(e.status, 400);
    assert.equal(e.response.data.mfa.duration.code, 'validation_min_greater_equal_than_required');
  });
});
