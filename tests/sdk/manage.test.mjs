// An auth collection's manageRule: whoever matches it may change another user's
// email, `verified` and password without the old one, sees their email, and may
// create verified users. Everyone else is held to the owner's limits.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EventQueue, Scope, anonClient, expectError, nextEvent, uniqueEmail } from './support.mjs';

const s = new Scope('mng');
let staff; // the auth collection's name
const P = 'password123';

/** A staff member created by the superuser, and a client signed in as them. */
async function member(role, extra = {}) {
  const email = uniqueEmail(role);
  const record = await s.pb.collection(staff).create({
    email, password: P, passwordConfirm: P, role, emailVisibility: false, ...extra,
  });
  const pb = anonClient();
  await pb.collection(staff).authWithPassword(email, P);
  return { id: record.id, email, pb };
}

before(async () => {
  await s.init();
  const c = await s.collection({
    name: 'staff',
    type: 'auth',
    fields: [{ name: 'role', type: 'text' }],
    listRule: '@request.auth.id != ""',
    viewRule: '@request.auth.id != ""',
    createRule: '@request.auth.id != ""',
    updateRule: '@request.auth.id != ""',
    manageRule: '@request.auth.role = "manager" && role != "manager"',
  });
  staff = c.name;
});
after(() => s.cleanup());

describe('manageRule', () => {
  test('is stored and returned with the collection', async () => {
    const c = await s.pb.collections.getOne(staff);
    assert.equal(c.manageRule, '@request.auth.role = "manager" && role != "manager"');
  });

  test('a manager changes another user\'s email, verified and password without the old one', async () => {
    const boss = await member('manager');
    const clerk = await member('clerk');
    const email = uniqueEmail('moved');
    const updated = await boss.pb.collection(staff).update(clerk.id, {
      email, verified: true, password: 'brandnew123', passwordConfirm: 'brandnew123',
    });
    assert.equal(updated.email, email, 'the manager sees the email it set');
    assert.equal(updated.verified, true);
    const again = anonClient();
    await again.collection(staff).authWithPassword(email, 'brandnew123');
    assert.equal(again.authStore.record.id, clerk.id);
  });

  test('a user the rule does not grant is held to the owner\'s limits', async () => {
    const clerk = await member('clerk');
    const other = await member('clerk');
    const body = await expectError(
      clerk.pb.collection(staff).update(other.id, { verified: true }),
      400,
    );
    assert.equal(body.data.verified.code, 'validation_values_mismatch');
    const pw = await expectError(
      clerk.pb.collection(staff).update(other.id, { password: 'brandnew123', passwordConfirm: 'brandnew123' }),
      400,
    );
    assert.equal(pw.data.oldPassword.code, 'validation_required');
    const mail = await expectError(
      clerk.pb.collection(staff).update(other.id, { email: uniqueEmail('x') }),
      400,
    );
    assert.ok(mail.data.email, JSON.stringify(mail.data));
    // Nothing changed.
    const stored = await s.pb.collection(staff).getOne(other.id);
    assert.equal(stored.email, other.email);
    assert.equal(stored.verified, false);
  });

  test('the rule is checked per record: a manager cannot manage another manager', async () => {
    const boss = await member('manager');
    const peer = await member('manager');
    const body = await expectError(
      boss.pb.collection(staff).update(peer.id, { password: 'brandnew123', passwordConfirm: 'brandnew123' }),
      400,
    );
    assert.equal(body.data.oldPassword.code, 'validation_required');
  });

  test('a manager sees the email of the users it manages, and only theirs', async () => {
    const boss = await member('manager');
    const clerk = await member('clerk');
    const peer = await member('manager');
    const clerkSeen = await boss.pb.collection(staff).getOne(clerk.id);
    assert.equal(clerkSeen.email, clerk.email);
    const peerSeen = await boss.pb.collection(staff).getOne(peer.id);
    assert.equal(peerSeen.email, undefined);
    const list = await boss.pb.collection(staff).getFullList({ filter: `id = "${clerk.id}" || id = "${peer.id}"` });
    const byId = Object.fromEntries(list.map((r) => [r.id, r]));
    assert.equal(byId[clerk.id].email, clerk.email);
    assert.equal(byId[peer.id].email, undefined);
    const byClerk = await clerk.pb.collection(staff).getOne(peer.id);
    assert.equal(byClerk.email, undefined, 'a plain user does not');
  });

  test('a manager sees the email in realtime events of users it manages', async () => {
    const boss = await member('manager');
    const clerk = await member('clerk');
    const q = new EventQueue('staff');
    const unsubscribe = await boss.pb.collection(staff).subscribe(clerk.id, q.push);
    try {
      await s.pb.collection(staff).update(clerk.id, { role: 'clerk2' });
      const e = await nextEvent(q);
      assert.equal(e.action, 'update');
      assert.equal(e.record.email, clerk.email);
    } finally {
      await unsubscribe();
    }
  });

  test('create: a manager may create a verified user, a plain user may not', async () => {
    const boss = await member('manager');
    const made = await boss.pb.collection(staff).create({
      email: uniqueEmail('new'), password: P, passwordConfirm: P, role: 'clerk', verified: true,
    });
    assert.equal(made.verified, true);
    const clerk = await member('clerk');
    const email = uniqueEmail('refused');
    const body = await expectError(
      clerk.pb.collection(staff).create({ email, password: P, passwordConfirm: P, role: 'clerk', verified: true }),
      400,
    );
    assert.equal(body.data.verified.code, 'validation_values_mismatch');
    const found = await s.pb.collection(staff).getList(1, 1, { filter: `email = "${email}"` });
    assert.equal(found.totalItems, 0, 'the refused user was not stored');
    // A manager creating what its rule does not cover (another manager) is refused too.
    await expectError(
      boss.pb.collection(staff).create({
        email: uniqueEmail('mgr'), password: P, passwordConfirm: P, role: 'manager', verified: true,
      }),
      400,
    );
  });
});
