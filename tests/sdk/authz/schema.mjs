// The schema and the data the authorization matrix runs on, made identically on
// both servers through the collections and records APIs (fixed collection and record
// ids, so answers compare as they are).
//
// Who may see what:
// - `az_vault`: every rule null (superusers only).
// - `az_tags`: list/view `public = true`; one public tag, one not.
// - `az_posts`: public list/view; owner-only writes; a hidden `secret`; relations to
//   the vault (single), to users (single) and to tags (multiple).
// - `az_notes`: owner-only everything; a hidden `secret`; links to a post and the vault.
// - `az_comments`: public, pointing at a post and at a note (someone else's note).
// - `users`: PocketBase's default rules (own record only) plus a hidden `phone`.
// - poker's `rooms`, `participants`, `rounds`, `votes`: every rule null (the app's
//   own definitions, copied from litebase to PocketBase).

export const ID = {
  alice: 'usera0000000001',
  bob: 'userb0000000001',
  vault: 'vault0000000001',
  tagOpen: 'tagopen00000001',
  tagHush: 'taghush00000001',
  postA: 'posta0000000001',
  postB: 'postb0000000001',
  noteA: 'notea0000000001',
  noteB: 'noteb0000000001',
  noteA2: 'notea0000000002',
  comment: 'comma0000000001',
  room: 'room00000000001',
  participant: 'part00000000001',
  round: 'rnd000000000001',
  vote: 'vote00000000001',
};

export const USERS = {
  alice: { id: ID.alice, email: 'alice@example.com', password: 'alice-password', name: 'Alice', phone: '555-0101' },
  bob: { id: ID.bob, email: 'bob@example.com', password: 'bob-password', name: 'Bob', phone: '555-0102' },
};

const text = (name, extra = {}) => ({ name, type: 'text', ...extra });
const rel = (name, collectionId, maxSelect = 1) => ({ name, type: 'relation', collectionId, maxSelect, cascadeDelete: false });
const owner = 'owner = @request.auth.id';

/** Collections in creation order (relations point backwards only). */
export const COLLECTIONS = [
  {
    id: 'az_vault00000001', name: 'az_vault', type: 'base',
    fields: [text('code')],
    listRule: null, viewRule: null, createRule: null, updateRule: null, deleteRule: null,
  },
  {
    id: 'az_tags000000001', name: 'az_tags', type: 'base',
    fields: [text('name'), { name: 'public', type: 'bool' }],
    listRule: 'public = true', viewRule: 'public = true', createRule: null, updateRule: null, deleteRule: null,
  },
  {
    id: 'az_posts00000001', name: 'az_posts', type: 'base',
    fields: [
      text('title'), text('secret', { hidden: true }),
      rel('owner', '_pb_users_auth_'), rel('vault', 'az_vault00000001'), rel('tags', 'az_tags000000001', 5),
    ],
    listRule: '', viewRule: '', createRule: "@request.auth.id != ''", updateRule: owner, deleteRule: owner,
  },

  {
    id: 'az_notes00000001', name: 'az_notes', type: 'base',
    fields: [
      text('title'), text('secret', { hidden: true }),
      rel('owner', '_pb_users_auth_'), rel('link', 'az_posts00000001'), rel('vault', 'az_vault00000001'),
    ],
    listRule: owner, viewRule: owner, createRule: `@request.auth.id != '' && ${owner}`, updateRule: owner, deleteRule: owner,
  },
  {
    id: 'az_comments00001', name: 'az_comments', type: 'base',
    fields: [text('body'), rel('post', 'az_posts00000001'), rel('note', 'az_notes00000001')],
    listRule: '', viewRule: '', createRule: "@request.auth.id != ''", updateRule: null, deleteRule: null,
  },
];

/** Fields added once every collection exists. */
export const LATE_FIELDS = [
  ['az_posts', { ...rel('shadow', 'az_notes00000001'), hidden: true }],
  // the superusers-only vault points back at a public post (a back-relation into it)
  ['az_vault', rel('post', 'az_posts00000001')],
];

/** The poker collections, in dependency order. */
export const POKER = ['rooms', 'participants', 'rounds', 'votes'];

/** Records, created by the superuser in this order. */
export const RECORDS = [
  ['az_vault', { id: ID.vault, code: 'V-ALPHA' }],
  ['az_tags', { id: ID.tagOpen, name: 'open', public: true }],
  ['az_tags', { id: ID.tagHush, name: 'hush', public: false }],
  ['az_posts', { id: ID.postA, title: 'Alpha', secret: 'p1-secret', owner: ID.alice, vault: ID.vault, tags: [ID.tagOpen, ID.tagHush] }],
  ['az_posts', { id: ID.postB, title: 'Beta', secret: 'p2-secret', owner: ID.bob, tags: [ID.tagHush] }],
  ['az_notes', { id: ID.noteA, title: 'A note', secret: 'na-secret', owner: ID.alice, link: ID.postA }],
  ['az_notes', { id: ID.noteB, title: 'B secret note', secret: 'nb-secret', owner: ID.bob, link: ID.postA, vault: ID.vault }],
  ['az_notes', { id: ID.noteA2, title: 'A second note', owner: ID.alice }],
  ['az_posts', { id: ID.postA, shadow: ID.noteA }, 'update'],
  ['az_vault', { id: ID.vault, post: ID.postA }, 'update'],
  ['az_comments', { id: ID.comment, body: 'hello', post: ID.postA, note: ID.noteB }],
  ['rooms', { id: ID.room, code: 'ROOMCODE1234', name: 'Sprint 7', host_token_hash: 'hosthash', deck: { kind: 'fibonacci' } }],
  ['participants', { id: ID.participant, room: ID.room, name: 'Ada', role: 'voter', token_hash: 'seathash' }],
  ['rounds', { id: ID.round, room: ID.room, number: 1, topic: 'Login page', state: 'voting' }],
  ['votes', { id: ID.vote, round: ID.round, participant: ID.participant, value: '13' }],
];

/**
 * The leak check: after the first pass, each of these changes only data that the
 * listed identities may not see (hidden fields, the vault, the private tag, other
 * people's notes and user records, every poker row), the reads and subscriptions
 * of those identities run again, and their answers must not change. The data is
 * put back after each pass. Some passes move hidden values away from what the
 * probes ask for, others onto values that visible rows also have.
 */
export const LEAK_PASSES = [
  {
    who: ['guest', 'alice'],
    changes: [
      ['az_vault', ID.vault, { code: 'V-OMEGA' }],
      ['az_tags', ID.tagHush, { name: 'quiet' }],
      ['az_notes', ID.noteB, { title: 'changed', secret: 'nb-other' }],
      ['az_notes', ID.noteA, { secret: 'na-other' }],
      ['az_posts', ID.postA, { secret: 'p1-other', shadow: ID.noteA2 }],
      ['az_posts', ID.postB, { secret: 'p2-other' }],
      ['users', ID.bob, { name: 'Robert', phone: '555-9999', emailVisibility: false }],
      ['users', ID.alice, { phone: '555-8888' }],
      ['rooms', ID.room, { code: 'OTHERCODE999', name: 'Sprint 8' }],
      ['participants', ID.participant, { name: 'Zed' }],
      ['rounds', ID.round, { topic: 'Signup page' }],
      ['votes', ID.vote, { value: '8' }],
    ],
  },
  {
    who: ['guest', 'alice'],
    changes: [
      ['az_vault', ID.vault, { code: '' }],
      ['az_tags', ID.tagHush, { name: 'open' }],
      ['az_notes', ID.noteB, { title: 'A note', secret: 'na-secret' }],
      ['az_notes', ID.noteA, { secret: 'p1-secret' }],
      ['az_posts', ID.postA, { secret: '', shadow: '' }],
      ['az_posts', ID.postB, { secret: 'p1-secret', shadow: ID.noteA }],
      ['users', ID.bob, { name: 'Alice', phone: '555-0101', emailVisibility: true }],
      ['users', ID.alice, { phone: '' }],
      ['rooms', ID.room, { code: 'ROOMCODE9999', name: '' }],
      ['participants', ID.participant, { name: 'Alice' }],
      ['rounds', ID.round, { topic: '' }],
      ['votes', ID.vote, { value: '?' }],
    ],
    // a hidden note pointing at a public post: which rows point back is hidden too
    creates: [['az_notes', { id: 'notec0000000001', title: 'C note', owner: ID.bob, link: ID.postB }]],
  },
  {
    who: ['guest', 'bob'],
    changes: [
      ['az_vault', ID.vault, { code: 'V-OMEGA' }],
      ['az_tags', ID.tagHush, { name: 'open' }],
      ['az_notes', ID.noteA, { title: 'B secret note', secret: 'nb-secret' }],
      ['az_notes', ID.noteA2, { title: 'Bob' }],
      ['az_posts', ID.postA, { secret: 'x', shadow: ID.noteB }],
      ['users', ID.alice, { name: 'Bob', phone: '555-0102', emailVisibility: true }],
      ['users', ID.bob, { phone: '' }],
      ['votes', ID.vote, { value: '1' }],
      ['rooms', ID.room, { code: 'ROOMCODE0000' }],
    ],
    creates: [['az_notes', { id: 'noted0000000001', title: 'D note', owner: ID.alice, link: ID.postB }]],
  },
];

/** Makes the schema and the data on `server`, with the superuser client `su`. */
export async function seed(su, litebase) {
  const users = await su.collections.getOne('users');
  users.fields.push(text('phone', { hidden: true }));
  await su.collections.update('users', { fields: users.fields });
  for (const def of COLLECTIONS) await su.collections.create(def);
  for (const [name, field] of LATE_FIELDS) {
    const c = await su.collections.getOne(name);
    await su.collections.update(name, { fields: [...c.fields, field] });
  }
  if (su.__target === 'pocketbase') {
    for (const name of POKER) {
      const c = await litebase.collections.getOne(name);
      const fields = c.fields.filter((f) => f.name !== 'id');
      await su.collections.create({
        id: c.id, name: c.name, type: c.type, fields, indexes: c.indexes,
        listRule: c.listRule, viewRule: c.viewRule, createRule: c.createRule, updateRule: c.updateRule, deleteRule: c.deleteRule,
      });
    }
    await su.settings.update({ batch: { enabled: true, maxRequests: 50 } });
  }
  for (const u of Object.values(USERS)) {
    await su.collection('users').create({ ...u, passwordConfirm: u.password, emailVisibility: u.id === ID.bob, verified: true });
  }
  for (const [collection, record, how] of RECORDS) {
    if (how === 'update') await su.collection(collection).update(record.id, record);
    else await su.collection(collection).create(record);
  }
}
