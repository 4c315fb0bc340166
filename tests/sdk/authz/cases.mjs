// The table of the authorization matrix: every request below is sent by every
// identity (guest, Alice, Bob, superuser) to both servers. PocketBase's answer is
// the expectation for litebase's.

import { ID } from './schema.mjs';

export const IDENTITIES = ['guest', 'alice', 'bob', 'superuser'];

const list = (collection, query = {}) => ({ method: 'GET', path: `/api/collections/${collection}/records`, query });
const view = (collection, id, query = {}) => ({ method: 'GET', path: `/api/collections/${collection}/records/${id}`, query });

/** Filters that reach other collections or hidden fields, on the public `az_posts`. */
const POST_FILTERS = [
  "vault.code = 'V-ALPHA'",
  "vault.code != ''",
  "vault.code ~ 'V-%'",
  "vault.id != ''",
  `vault = '${ID.vault}'`,
  "vault.code = 'V-ALPHA' || title != ''",
  "tags.name ?= 'hush'",
  "tags.name = 'open'",
  "tags.name !~ 'hu'",
  "tags.name ?!= 'open'",
  'tags.public = true',
  "tags.public ?= false",
  `tags:each ?= '${ID.tagHush}'`,
  'tags:length > 1',
  "owner.name = 'Bob'",
  "owner.name ?~ 'B'",
  "owner.name = 'Bob' || title = 'Alpha'",
  "owner.email ~ 'bob'",
  "owner.email ~ 'alice'",
  "owner.phone = '555-0102'",
  "owner.tokenKey != ''",
  "owner.password != ''",
  "owner.verified = true",
  "az_notes_via_link.title ?= 'B secret note'",
  "az_notes_via_link.title ~ 'secret'",
  "az_notes_via_link.title = 'A note'",
  "az_notes_via_link.id != ''",
  "az_notes_via_link.vault.code = 'V-ALPHA'",
  "az_notes_via_link.secret = 'nb-secret'",
  "az_notes_via_link.owner.name = 'Bob'",
  "az_comments_via_post.note.title = 'B secret note'",
  "az_comments_via_post.body = 'hello'",
  "az_vault_via_post.code = 'V-ALPHA'",
  "az_vault_via_post.id != ''",
  "notes_via_link.title = 'x'",
  "nope_via_link.title = 'x'",
  "owner.az_notes_via_owner.title ?= 'B secret note'",
  "secret = 'p1-secret'",
  "shadow.title = 'A note'",
  "shadow != ''",
  "secret != ''",
  "@collection.votes.value ?= '13'",
  "@collection.rooms.code ?~ 'ROOM%'",
  "@collection.az_vault.code ?= 'V-ALPHA'",
  "@collection.az_notes.title ?= 'B secret note'",
  "@request.auth.id != ''",
  "   ",
  "title = 'Alpha' &&",
  "unknown = 1",
];

const POST_SORTS = ['vault.code', '-vault.code', 'owner.name', '-owner.name', 'secret', '-secret', 'tags.name',
  'az_notes_via_link.title', '-az_notes_via_link.title', '-tags.name', 'tags:length', 'shadow.title', ',,,', '-title,,', '   ',
  'owner.phone', 'title:lower', '@rowid', 'az_vault_via_post.code'];

const POST_EXPANDS = ['vault', 'owner', 'tags', 'az_notes_via_link', 'az_comments_via_post.note', 'az_comments_via_post.note.vault',
  'owner,vault,tags,az_notes_via_link', 'owner.az_notes_via_owner', 'owner.nope_via_owner', 'owner,nope', 'vault.nope', 'shadow', 'shadow.owner', 'tags,owner.az_notes_via_owner, tags', 'az_vault_via_post', 'owner,az_vault_via_post'];

/**
 * Cells where litebase deliberately answers differently from PocketBase (without
 * PocketBase leaking there), keyed like the report, each with the ids litebase
 * returns instead and why. None today: an every-item check such as
 * `tags.public = true` counts a tag the caller may not list as failing, which is
 * PocketBase's answer whenever that answer does not depend on the hidden tag.
 * @type {Record<string, {ids: string[], why: string}>}
 */
export const EXPECTED_DIFFERENCES = {};

/** Read requests: sent twice (the leak check changes hidden data in between). */
export function readRequests() {
  const out = [];
  const add = (key, req) => out.push({ key, ...req });
  add('posts list', list('az_posts'));
  for (const f of POST_FILTERS) add(`posts filter ${f}`, list('az_posts', { filter: f }));
  for (const s of POST_SORTS) add(`posts sort ${s}`, list('az_posts', { sort: s }));
  for (const e of POST_EXPANDS) add(`posts expand ${e}`, list('az_posts', { expand: e }));
  add('posts fields id,secret', list('az_posts', { fields: 'id,secret' }));
  add('posts fields expand.owner.phone', list('az_posts', { expand: 'owner', fields: '*,expand.owner.phone,expand.owner.email' }));
  add('posts filter+sort owner', list('az_posts', { filter: "owner.name != ''", sort: '-owner.name' }));
  for (const f of ["note.title = 'B secret note'", "note.owner.name = 'Bob'", "note.vault.code = 'V-ALPHA'", "post.title = 'Alpha'", "note.id != ''", "note.secret != ''"]) {
    add(`comments filter ${f}`, list('az_comments', { filter: f }));
  }
  add('comments sort note.title', list('az_comments', { sort: 'note.title' }));
  add('comments expand note', list('az_comments', { expand: 'note' }));
  add('comments expand note.owner,post.owner', list('az_comments', { expand: 'note.owner,post.owner' }));
  for (const q of [{}, { filter: "link.title = 'Alpha'" }, { filter: "link.vault.code = 'V-ALPHA'" }, { filter: "owner.name = 'Alice'" },
    { filter: "secret = 'na-secret'" }, { sort: '-title' }, { sort: 'secret' }, { expand: 'link,owner,vault' }]) {
    add(`notes ${JSON.stringify(q)}`, list('az_notes', q));
  }
  for (const q of [{}, { filter: "name = 'Bob'" }, { filter: "az_notes_via_owner.title ?= 'B secret note'" }, { filter: "phone = '555-0102'" },
    { filter: "email ~ 'bob'" }, { filter: "az_posts_via_owner.title != ''" }, { sort: 'phone' }, { sort: '-name' },
    { expand: 'az_notes_via_owner' }, { fields: 'id,phone,email' }, { filter: "@collection.users.name ?= 'Bob'" }]) {
    add(`users ${JSON.stringify(q)}`, list('users', q));
  }
  for (const q of [{}, { filter: "name = 'hush'" }, { filter: "az_posts_via_tags.title = 'Beta'" }, { sort: '-name' }, { expand: 'az_posts_via_tags' }]) {
    add(`tags ${JSON.stringify(q)}`, list('az_tags', q));
  }
  for (const c of ['az_vault', 'rooms', 'participants', 'rounds', 'votes']) {
    add(`${c} list`, list(c));
    add(`${c} filter id`, list(c, { filter: "id != ''" }));
  }
  add('votes filter value', list('votes', { filter: "value = '13'" }));
  add('votes filter round.room.code', list('votes', { filter: "round.room.code ~ 'ROOM'" }));
  add('participants sort token_hash', list('participants', { sort: 'token_hash' }));
  const views = [
    ['az_posts', ID.postA], ['az_posts', ID.postB], ['az_notes', ID.noteA], ['az_notes', ID.noteB], ['az_comments', ID.comment],
    ['users', ID.alice], ['users', ID.bob], ['az_tags', ID.tagOpen], ['az_tags', ID.tagHush], ['az_vault', ID.vault],
    ['rooms', ID.room], ['participants', ID.participant], ['rounds', ID.round], ['votes', ID.vote],
  ];
  for (const [c, id] of views) add(`view ${c}/${id}`, view(c, id));
  add('view posts/A expand all', view('az_posts', ID.postA, { expand: 'owner,vault,tags,az_notes_via_link,az_comments_via_post.note' }));
  add('view comment expand note.vault', view('az_comments', ID.comment, { expand: 'note.vault,note.owner' }));
  add('view posts/A fields secret', view('az_posts', ID.postA, { fields: 'secret,title' }));
  add('view votes/x filter ignored', view('votes', ID.vote, { filter: "value = '13'" }));
  // auth answers carry the record: hidden fields stay out of them too. Whoever
  // sends Alice's password is Alice, so this answer is outside the leak check.
  add('auth-with-password alice', {
    method: 'POST', path: '/api/collections/users/auth-with-password', leakCheck: false,
    body: { identity: 'alice@example.com', password: 'alice-password' }, query: { expand: 'az_notes_via_owner', fields: '' },
  });
  add('auth-with-password wrong', {
    method: 'POST', path: '/api/collections/users/auth-with-password', body: { identity: 'bob@example.com', password: 'nope-nope' },
  });
  add('auth-refresh', { method: 'POST', path: '/api/collections/users/auth-refresh' });
  add('auth-methods', { method: 'GET', path: '/api/collections/users/auth-methods' });
  return out;
}

/**
 * Writes, in order: each is sent by every identity in turn (guest, Alice, Bob,
 * superuser), and after each one the superuser reads what is stored (`check`).
 * Ids are per identity so that creates do not collide.
 */
export function writeRequests() {
  const out = [];
  const add = (key, make, check) => out.push({ key, make, check });
  const idFor = (prefix, who) => `${prefix}${who.slice(0, 3)}`.padEnd(15, '0');
  const me = { guest: '', alice: ID.alice, bob: ID.bob, superuser: ID.alice };
  add('create post with hidden secret', (who) => ({
    method: 'POST', path: '/api/collections/az_posts/records',
    body: { id: idFor('np', who), title: `by ${who}`, secret: 'injected', owner: me[who] },
  }), (who) => view('az_posts', idFor('np', who)));
  add('create note for someone else', (who) => ({
    method: 'POST', path: '/api/collections/az_notes/records',
    body: { id: idFor('nn', who), title: 'planted', owner: ID.bob },
  }), (who) => view('az_notes', idFor('nn', who)));
  add('create note with hidden secret', (who) => ({
    method: 'POST', path: '/api/collections/az_notes/records',
    body: { id: idFor('ns', who), title: 'mine', secret: 'injected', owner: me[who] },
  }), (who) => view('az_notes', idFor('ns', who)));
  add('update post A title and secret', (who) => ({
    method: 'PATCH', path: `/api/collections/az_posts/records/${ID.postA}`, body: { title: `Alpha by ${who}`, secret: `set by ${who}` },
  }), () => view('az_posts', ID.postA));
  add('update post B owner', (who) => ({
    method: 'PATCH', path: `/api/collections/az_posts/records/${ID.postB}`, body: { owner: me[who] || ID.alice },
  }), () => view('az_posts', ID.postB));
  add('update note B', (who) => ({
    method: 'PATCH', path: `/api/collections/az_notes/records/${ID.noteB}`, body: { title: `note by ${who}` },
  }), () => view('az_notes', ID.noteB));
  add('update own user phone (hidden)', (who) => ({
    method: 'PATCH', path: `/api/collections/users/records/${me[who] || ID.alice}`, body: { phone: `phone of ${who}`, name: `name of ${who}` },
  }), (who) => view('users', me[who] || ID.alice));
  add('update vote', () => ({
    method: 'PATCH', path: `/api/collections/votes/records/${ID.vote}`, body: { value: '1' },
  }), () => view('votes', ID.vote));
  add('create vote', (who) => ({
    method: 'POST', path: '/api/collections/votes/records',
    body: { id: idFor('nv', who), round: ID.round, participant: ID.participant, value: '2' },
  }), (who) => view('votes', idFor('nv', who)));
  add('batch: own note then note B', (who) => ({
    method: 'POST', path: '/api/batch', body: {
      requests: [
        { method: 'POST', url: '/api/collections/az_notes/records', body: { id: idFor('bn', who), title: 'batched', secret: 'x', owner: me[who] } },
        { method: 'PATCH', url: `/api/collections/az_notes/records/${ID.noteB}`, body: { title: `batched by ${who}` } },
      ],
    },
  }), (who) => view('az_notes', idFor('bn', who)));
  add('batch: create post with secret', (who) => ({
    method: 'POST', path: '/api/batch', body: {
      requests: [{ method: 'POST', url: '/api/collections/az_posts/records', body: { id: idFor('bp', who), title: 'b', secret: 'batched secret', owner: me[who] } }],
    },
  }), (who) => view('az_posts', idFor('bp', who)));
  add('delete note B', () => ({ method: 'DELETE', path: `/api/collections/az_notes/records/${ID.noteB}` }),
    () => view('az_notes', ID.noteB));
  add('delete vault', () => ({ method: 'DELETE', path: `/api/collections/az_vault/records/${ID.vault}` }),
    () => view('az_vault', ID.vault));
  return out;
}

/**
 * Realtime subscriptions (topic + options), each opened by every identity, before
 * the leak check; the probing filters use the seeded hidden values.
 */
export const SUBSCRIPTIONS = [
  { key: 'posts/*', collection: 'az_posts', topic: '*' },
  { key: 'posts/* filter vault.code', collection: 'az_posts', topic: '*', options: { filter: "vault.code = 'V-ALPHA'" } },
  { key: 'posts/* filter vault.id', collection: 'az_posts', topic: '*', options: { filter: "vault.id != ''" } },
  { key: 'posts/* filter az_notes_via_link', collection: 'az_posts', topic: '*', options: { filter: "az_notes_via_link.title ?= 'B secret note'" } },
  { key: 'posts/* filter @collection.votes', collection: 'az_posts', topic: '*', options: { filter: "@collection.votes.value ?= '13'" } },
  { key: 'posts/* filter @request', collection: 'az_posts', topic: '*', options: { filter: "@request.auth.id != ''" } },
  { key: 'posts/* filter secret', collection: 'az_posts', topic: '*', options: { filter: "secret = 'p1-secret'" } },
  { key: 'posts/* filter shadow', collection: 'az_posts', topic: '*', options: { filter: "shadow.title = 'A note'" } },
  { key: 'posts/* filter owner.name', collection: 'az_posts', topic: '*', options: { filter: "owner.name = 'Bob'" } },
  { key: 'posts/* filter tags.name', collection: 'az_posts', topic: '*', options: { filter: "tags.name ?= 'hush'" } },
  { key: 'posts/* filter title', collection: 'az_posts', topic: '*', options: { filter: "title ~ 'Alpha'" } },
  { key: 'posts/* filter spaces', collection: 'az_posts', topic: '*', options: { filter: '   ' } },
  { key: 'posts/A expand', collection: 'az_posts', topic: ID.postA, options: { expand: 'owner,vault,tags,az_notes_via_link,shadow' } },
  { key: 'posts/A fields secret', collection: 'az_posts', topic: ID.postA, options: { fields: 'id,title,secret,shadow' } },
  { key: 'notes/*', collection: 'az_notes', topic: '*' },
  { key: 'notes/B', collection: 'az_notes', topic: ID.noteB },
  { key: 'notes/* expand link', collection: 'az_notes', topic: '*', options: { expand: 'link.vault,owner' } },
  { key: 'users/*', collection: 'users', topic: '*' },
  { key: 'votes/*', collection: 'votes', topic: '*' },
  { key: 'votes/* filter', collection: 'votes', topic: '*', options: { filter: "value = '13'" } },
  { key: 'rooms/*', collection: 'rooms', topic: '*' },
];

/**
 * The superuser's writes while the subscriptions listen: each sets a field to the
 * value it has, in fields no leak pass changes, so every pass reads the same
 * visible data and each write still makes an update event.
 */
export const REALTIME_WRITES = [
  ['az_posts', ID.postA, { title: 'Alpha' }],
  ['az_posts', ID.postB, { title: 'Beta' }],
  ['az_notes', ID.noteB, { link: ID.postA }],
  ['az_notes', ID.noteA, { link: ID.postA }],
  ['users', ID.bob, { verified: true }],
  ['votes', ID.vote, { participant: ID.participant }],
  ['rooms', ID.room, { locked: false }],
];
