// The filter / sort / fields / expand language, as a table of cases over a fixed seed.
//
// Seed: `authors` (name, age, active, mentor → authors) and `posts` (title, views,
// published, tags multi-select, author → authors, reviewers → authors (multi), when).
// Expected results are sets of post titles (or author names), order-insensitive unless a sort is given.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Scope, expectError } from './support.mjs';

const s = new Scope('flt');
let A; // authors collection
let P; // posts collection
const ids = {}; // author key → id

const AUTHORS = [
  // key, name, age, active, mentor
  ['ann', 'Ann', 30, true, null],
  ['bob', 'Bob', 45, false, 'ann'],
  ['cat', 'Cat', 25, true, 'bob'],
  ['dan', 'Dan "The Man"', 60, true, null],
  ['eve', 'eve', 22, false, 'cat'],
  ['fay', 'Fay', 35, true, 'dan'], // no posts, reviews nothing
];

const POSTS = [
  // title, views, published, tags, author, reviewers, when
  ['Hello World', 10, true, ['red'], 'ann', ['bob', 'cat'], '2020-01-01 10:00:00.000Z'],
  ['hello there', 20, false, ['red', 'green'], 'ann', ['bob'], ''],
  ['Goodbye', 30, true, ['green'], 'bob', [], '2021-06-15 12:00:00.000Z'],
  ['50% off', 0, true, [], 'bob', ['ann', 'bob', 'cat'], ''],
  ['under_score', 5, false, ['blue'], 'cat', ['cat'], ''],
  ['Say "hi"', 100, true, ['red', 'green', 'blue'], 'dan', ['dan'], ''],
  ["It's fine", 15, false, ['blue', 'red'], null, [], ''],
  ['Zebra', 7, true, ['green', 'blue'], 'eve', ['eve', 'ann'], ''],
  ['apple', 42, true, ['red'], 'ann', ['ann'], ''],
  ['Banana', 42, false, ['green'], 'cat', [], ''],
  ['future', 1, true, [], 'dan', [], '2099-01-01 00:00:00.000Z'],
  ['past', 2, false, [], null, [], '2000-01-01 00:00:00.000Z'],
];
const ALL = POSTS.map((p) => p[0]);
const except = (...titles) => ALL.filter((t) => !titles.includes(t));

before(async () => {
  await s.init();
  A = await s.collection({
    name: 'authors',
    listRule: '',
    viewRule: '',
    fields: [
      { name: 'name', type: 'text' },
      { name: 'age', type: 'number' },
      { name: 'active', type: 'bool' },
    ],
  });
  // self relation: added once the collection exists
  A = await s.pb.collections.update(A.id, {
    fields: [...A.fields, { name: 'mentor', type: 'relation', collectionId: A.id, maxSelect: 1 }],
  });
  P = await s.collection({
    name: 'posts',
    listRule: '',
    viewRule: '',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'views', type: 'number' },
      { name: 'published', type: 'bool' },
      { name: 'tags', type: 'select', maxSelect: 3, values: ['red', 'green', 'blue'] },
      { name: 'author', type: 'relation', collectionId: A.id, maxSelect: 1 },
      { name: 'reviewers', type: 'relation', collectionId: A.id, maxSelect: 5 },
      { name: 'when', type: 'date' },
      { name: 'created', type: 'autodate', onCreate: true, onUpdate: false },
    ],
  });
  for (const [key, name, age, active] of AUTHORS) {
    ids[key] = (await s.pb.collection(A.name).create({ name, age, active })).id;
  }
  for (const [key, , , , mentor] of AUTHORS) {
    if (mentor) await s.pb.collection(A.name).update(ids[key], { mentor: ids[mentor] });
  }
  for (const [title, views, published, tags, author, reviewers, when] of POSTS) {
    await s.pb.collection(P.name).create({
      title, views, published, tags, when,
      author: author ? ids[author] : '',
      reviewers: reviewers.map((k) => ids[k]),
    });
  }
});
after(() => s.cleanup());

const titles = async (filter, opts = {}) =>
  (await s.pb.collection(P.name).getFullList({ filter, ...opts })).map((r) => r.title);
const names = async (filter) => (await s.pb.collection(A.name).getFullList({ filter })).map((r) => r.name);
const same = (actual, expected, msg) => assert.deepEqual([...actual].sort(), [...expected].sort(), msg);

// [filter on posts, expected titles]
const POST_CASES = () => [
  // equality / inequality on text
  ['title = "Goodbye"', ['Goodbye']],
  ["title = 'Goodbye'", ['Goodbye']],
  ['title = "goodbye"', [], '= is case-sensitive'],
  ['title != "Goodbye"', except('Goodbye')],
  // comparison on numbers
  ['views > 30', ['Say "hi"', 'apple', 'Banana']],
  ['views >= 30', ['Goodbye', 'Say "hi"', 'apple', 'Banana']],
  ['views < 5', ['50% off', 'future', 'past']],
  ['views <= 5', ['50% off', 'under_score', 'future', 'past']],
  ['views = 42', ['apple', 'Banana']],
  ['views = 42.0', ['apple', 'Banana']],
  ['views != 42', except('apple', 'Banana')],
  ['views > -1', ALL],
  ['views > 1000', []],
  // like / not like: case-insensitive, wrapped in % unless the value has %
  ['title ~ "hello"', ['Hello World', 'hello there']],
  ['title ~ "HELLO"', ['Hello World', 'hello there']],
  ['title !~ "e"', ['50% off', 'Say "hi"', 'Banana', 'past']],
  ['title ~ "50%"', ['50% off']],
  ['title ~ "%ana"', ['Banana']],
  ['title ~ "B%"', ['Banana'], 'with a % in the value there is no implicit wrapping: starts-with'],
  ['title ~ "%E"', ['Goodbye', 'under_score', 'apple', "It's fine", 'future', 'hello there'], 'ends-with, case-insensitive'],
  ['title ~ "_"', ['under_score'], '_ is literal, not a single-char wildcard'],
  // booleans
  ['published = true', ['Hello World', 'Goodbye', '50% off', 'Say "hi"', 'Zebra', 'apple', 'future']],
  ['published = false', ['hello there', 'under_score', "It's fine", 'Banana', 'past']],
  ['published != true', ['hello there', 'under_score', "It's fine", 'Banana', 'past']],
  // quotes inside strings
  ['title = \'Say "hi"\'', ['Say "hi"']],
  ['title = "Say \\"hi\\""', ['Say "hi"']],
  ['title = "It\'s fine"', ["It's fine"]],
  ['title = \'It\\\'s fine\'', ["It's fine"]],
  // null / empty
  ['author = null', ["It's fine", 'past']],
  ['author = ""', ["It's fine", 'past']],
  ['author != null', except("It's fine", 'past')],
  ['when = null', except('Hello World', 'Goodbye', 'future', 'past')],
  ['when != ""', ['Hello World', 'Goodbye', 'future', 'past']],
  ['tags = null', [], 'an empty multi value is "[]", not null'],
  ['tags = ""', []],
  ['reviewers = ""', []],
  // && || and parentheses
  ['published = true && views > 20', ['Goodbye', 'Say "hi"', 'apple']],
  ['views = 0 || views = 100', ['50% off', 'Say "hi"']],
  ['(views < 5 || views > 40) && published = true', ['50% off', 'Say "hi"', 'apple', 'future']],
  ['views < 5 || (views > 40 && published = true)', ['50% off', 'future', 'past', 'Say "hi"', 'apple']],
  ['title = "apple" || views > 10 && views < 40', ['apple', 'hello there', 'Goodbye', "It's fine"]],
  ['views > 10 && views < 40 || title = "apple"', ['apple', 'hello there', 'Goodbye', "It's fine"]],
  ['((title = "apple"))', ['apple']],
  // datetimes and macros
  ['when > "2020-06-01"', ['Goodbye', 'future']],
  ['when > "2020-06-01 00:00:00.000Z" && when < "2030-01-01"', ['Goodbye']],
  ['when > @now', ['future']],
  ['when < @todayStart && when != ""', ['Hello World', 'Goodbye', 'past']],
  ['created <= @now', ALL],
  ['created > @now', []],
  ['@year > 2000 && title = "apple"', ['apple']],
  // multi select. A bare multi-value field is its stored JSON text; :each iterates the items.
  // plain operator on :each = "every item" (and never matches an empty list for =),
  // ?-operator = "at least one item".
  ['tags = \'["red"]\'', ['Hello World', 'apple'], 'bare field = compact JSON array text'],
  ['tags = \'["red","green"]\'', ['hello there']],
  ['tags = "[]"', ['50% off', 'future', 'past']],
  ['tags ?= "red"', [], 'no implicit iteration without :each'],
  ['tags ~ "red"', ['Hello World', 'hello there', 'Say "hi"', "It's fine", 'apple'], 'LIKE over the JSON text'],
  ['tags:each ?= "red"', ['Hello World', 'hello there', 'Say "hi"', "It's fine", 'apple']],
  ['tags:each = "red"', ['Hello World', 'apple']],
  ['tags:each != "red"', ['Goodbye', '50% off', 'under_score', 'Zebra', 'Banana', 'future', 'past'], 'empty lists match "every item !="'],
  ['tags:each ?!= "red"', ['hello there', 'Goodbye', 'under_score', 'Say "hi"', "It's fine", 'Zebra', 'Banana', '50% off', 'future', 'past'], 'empty lists match "some item !=" too'],
  ['tags:each ?~ "ree"', ['hello there', 'Goodbye', 'Say "hi"', 'Zebra', 'Banana']],
  ['tags:each ~ "e"', ['Hello World', 'hello there', 'Goodbye', 'under_score', 'Say "hi"', "It's fine", 'Zebra', 'apple', 'Banana']],
  ['tags:each ?= "red" && tags:each ?= "blue"', [], 'both conditions bind the SAME item (one shared join)'],
  ['tags ~ \'"red"\' && tags ~ \'"blue"\'', ['Say "hi"', "It's fine"], 'has red and has blue, via the JSON text'],
  ['tags:each ?= "red" || tags:each ?= "blue"', ['Hello World', 'hello there', 'under_score', 'Say "hi"', "It's fine", 'Zebra', 'apple']],
  ['reviewers.name ?= "Bob" && reviewers.name ?= "Cat"', [], 'the same relation path is one shared join as well'],
  ['tags:each != "green" && tags:length > 0', ['Hello World', 'under_score', "It's fine", 'apple']],
  ['tags:length = 0', ['50% off', 'future', 'past']],
  ['tags:length > 1', ['hello there', 'Say "hi"', "It's fine", 'Zebra']],
  ['tags:length = 3', ['Say "hi"']],
  // single relation paths
  ['author.name = "Ann"', ['Hello World', 'hello there', 'apple']],
  ['author.age > 40', ['Goodbye', '50% off', 'Say "hi"', 'future']],
  ['author.active = false', ['Goodbye', '50% off', 'Zebra']],
  ['author.mentor.name = "Ann"', ['Goodbye', '50% off']],
  [`author = "${ids.cat}"`, ['under_score', 'Banana']],
  ['author.name = \'Dan "The Man"\'', ['Say "hi"', 'future']],
  // multi relation
  [`reviewers ?= "${ids.bob}"`, [], 'bare multi relation is JSON text, like multi select'],
  [`reviewers:each ?= "${ids.bob}"`, ['Hello World', 'hello there', '50% off']],
  [`reviewers.id ?= "${ids.bob}"`, ['Hello World', 'hello there', '50% off']],
  [`reviewers.id = "${ids.bob}"`, ['hello there'], 'every reviewer is bob'],
  [`reviewers:each = "${ids.bob}"`, ['hello there']],
  [`reviewers.id != "${ids.bob}"`, except('Hello World', 'hello there', '50% off'), 'no reviewer is bob (empty lists included)'],
  ['reviewers.name ?= "Cat"', ['Hello World', '50% off', 'under_score']],
  ['reviewers.name = "Cat"', ['under_score']],
  ['reviewers.age ?> 40', ['Hello World', 'hello there', '50% off', 'Say "hi"']],
  ['reviewers.age > 20', ['Hello World', 'hello there', '50% off', 'under_score', 'Say "hi"', 'Zebra', 'apple'], 'every reviewer; empty lists do not match'],
  ['reviewers:length = 0', ['Goodbye', "It's fine", 'Banana', 'future', 'past']],
  ['reviewers:length >= 2', ['Hello World', '50% off', 'Zebra']],
  ['reviewers.mentor.name ?= "Bob"', ['Hello World', '50% off', 'under_score']],
  // modifiers
  ['title:lower = "hello world"', ['Hello World']],
  ['title:lower ~ "b"', ['Goodbye', 'Zebra', 'Banana']],
  ['author.name:lower = "eve"', ['Zebra']],
  // @collection joins (not necessarily related)
  // the same @collection name (or alias) is one join, so its ?-conditions correlate
  [`@collection.${s.name('authors')}.age ?> 50 && @collection.${s.name('authors')}.id ?= author`, ['Say "hi"', 'future']],
  [`@collection.${s.name('authors')}.age > 10`, ALL, 'plain operator: every author row must match'],
  [`@collection.${s.name('authors')}.age > 50`, []],
  [`@collection.${s.name('authors')}.name ?= "Bob" && views = 0`, ['50% off']],
  [`@collection.${s.name('authors')}:x.id ?= author && @collection.${s.name('authors')}:x.active ?= false`, ['Goodbye', '50% off', 'Zebra']],
  [`@collection.${s.name('authors')}:x.id ?= author && @collection.${s.name('authors')}:y.name ?= "Fay"`, except("It's fine", 'past'), 'different aliases are independent joins'],
  // fields compared with fields
  ['views > author.age', ['Say "hi"', 'apple', 'Banana']],
  ['author.name = null', ["It's fine", 'past'], 'a missing relation makes the path null'],
  ['author.name != "Ann"', except('Hello World', 'hello there', 'apple'), 'rows without author included'],
  ['title = author.name', []],
];

test('filter table on posts', async (t) => {
  for (const [filter, expected, note] of POST_CASES()) {
    await t.test(filter, async () => {
      same(await titles(filter), expected, note ? `${filter} (${note})` : filter);
    });
  }
});

// [filter on authors, expected names]
const AUTHOR_CASES = () => [
  ['name = "Ann"', ['Ann']],
  ['age >= 45', ['Bob', 'Dan "The Man"']],
  ['active = true && age < 30', ['Cat']],
  ['mentor = null', ['Ann', 'Dan "The Man"']],
  ['mentor.name = \'Dan "The Man"\'', ['Fay']],
  ['mentor.mentor.name = "Ann"', ['Cat']],
  ['name:lower = "eve" || name = "Bob"', ['Bob', 'eve']],
  // back-relations: <collection>_via_<field>
  [`${s.name('posts')}_via_author.title ?= "apple"`, ['Ann']],
  [`${s.name('posts')}_via_author.views ?> 40`, ['Ann', 'Cat', 'Dan "The Man"']],
  [`${s.name('posts')}_via_author.views >= 5`, ['Ann', 'Cat', 'eve'], 'plain operator: every post of the author'],
  [`${s.name('posts')}_via_author.title = "Zebra"`, ['eve']],
  [`${s.name('posts')}_via_author.title != "Zebra"`, ['Ann', 'Bob', 'Cat', 'Dan "The Man"', 'Fay'], 'no post is Zebra: authors without posts included'],
  [`${s.name('posts')}_via_author.id = ""`, ['Fay'], 'authors without posts'],
  [`${s.name('posts')}_via_reviewers.title ?= "Zebra"`, ['Ann', 'eve']],
  [`${s.name('posts')}_via_reviewers.published ?= false`, ['Bob', 'Cat']],
];

test('filter table on authors (self relation, back-relations)', async (t) => {
  for (const [filter, expected] of AUTHOR_CASES()) {
    await t.test(filter, async () => {
      same(await names(filter), expected, filter);
    });
  }
});

test('filter with SDK placeholders: pb.filter() escapes values', async () => {
  const f = s.pb.filter('title = {:t} || title = {:u} || views = {:n}', { t: 'Say "hi"', u: "It's fine", n: 42 });
  same(await titles(f), ['Say "hi"', "It's fine", 'apple', 'Banana']);
});

test('bad filters → 400 {status, message, data:{}}', async () => {
  for (const filter of [
    'title ===', 'title = "unterminated', '(title = "a"', 'title = "a" &&', 'nope = 1', 'author.nope = 1', '@collection.nope_nope.x = 1', 'title:nope = 1', '@request.nope = 1',
    'published', // a bare field is not a condition
    `${s.name('posts')}_via_author:length > 0`, // :length is not available on back-relations
  ]) {
    const body = await expectError(s.pb.collection(P.name).getList(1, 10, { filter }), 400);
    assert.deepEqual(body.data, {}, filter);
  }
});

// sorts -------------------------------------------------------------------------------------------
test('sort: single key asc/desc, several keys, relation paths', async () => {
  const sorted = async (sort, filter = '') =>
    (await s.pb.collection(P.name).getFullList({ sort, filter })).map((r) => r.title);
  const byViews = await sorted('views', 'views > 20');
  assert.equal(byViews[0], 'Goodbye');
  assert.equal(byViews[3], 'Say "hi"');
  same(byViews.slice(1, 3), ['apple', 'Banana']);
  assert.deepEqual(await sorted('title', 'views > 20'), ['Banana', 'Goodbye', 'Say "hi"', 'apple'], 'text sorts byte-wise (case-sensitive)');
  assert.deepEqual(await sorted('-views,title', 'views > 20'), ['Say "hi"', 'Banana', 'apple', 'Goodbye']);
  assert.deepEqual(await sorted('-views,-title', 'views > 20'), ['Say "hi"', 'apple', 'Banana', 'Goodbye']);
  assert.deepEqual(await sorted('+views', 'views < 5'), ['50% off', 'future', 'past']);
  assert.deepEqual(await sorted('title', 'views < 5'), ['50% off', 'future', 'past']);
  assert.deepEqual(await sorted('published,views', 'views < 8'), ['past', 'under_score', '50% off', 'future', 'Zebra']);
  assert.deepEqual(await sorted('author.name,title', 'author.name ~ "a"'),
    ['Hello World', 'apple', 'hello there', 'Banana', 'under_score', 'Say "hi"', 'future']);
  assert.deepEqual(await sorted('-when', 'when != ""'), ['future', 'Goodbye', 'Hello World', 'past']);
  assert.deepEqual(await sorted('tags:length,-views,title', 'views > 20'), ['Banana', 'apple', 'Goodbye', 'Say "hi"']);
});

test('sort: @random returns every row exactly once', async () => {
  const all = await titles('', { sort: '@random' });
  same(all, ALL);
});

test('sort: id, created (autodate) and @rowid work', async () => {
  const byCreated = await titles('', { sort: 'created,@rowid' });
  assert.deepEqual(byCreated, ALL, 'seed order');
  const byId = (await s.pb.collection(P.name).getFullList({ sort: 'id' })).map((r) => r.id);
  assert.deepEqual(byId, [...byId].sort());
});

test('sort: unknown field → 400', async () => {
  await expectError(s.pb.collection(P.name).getList(1, 10, { sort: 'nope' }), 400);
  await expectError(s.pb.collection(P.name).getList(1, 10, { sort: '-author.nope' }), 400);
});

// fields ------------------------------------------------------------------------------------------
test('fields: a subset of keys', async () => {
  const list = await s.pb.collection(P.name).getList(1, 2, { fields: 'id,title', sort: 'views' });
  for (const r of list.items) assert.deepEqual(Object.keys(r).sort(), ['id', 'title']);
  assert.equal(list.totalItems, ALL.length, 'the envelope is untouched');
});

test('fields: "*" is every field; unknown names are simply absent', async () => {
  const [r] = (await s.pb.collection(P.name).getList(1, 1, { fields: '*', filter: 'title = "apple"' })).items;
  assert.deepEqual(Object.keys(r).sort(), [
    'author', 'collectionId', 'collectionName', 'created', 'id', 'published', 'reviewers', 'tags', 'title', 'views', 'when',
  ]);
  const [n] = (await s.pb.collection(P.name).getList(1, 1, { fields: 'nope', filter: 'title = "apple"' })).items;
  assert.deepEqual(n, {});
});

test('fields: items.* prefixed form and :excerpt modifier', async () => {
  const [r] = (await s.pb.collection(P.name).getList(1, 1, { fields: 'id,title:excerpt(5,true)', filter: 'title = "Hello World"' })).items;
  assert.deepEqual(Object.keys(r).sort(), ['id', 'title']);
  assert.equal(r.title, 'Hello...');
});

test('fields: nested expand keys (expand.author.name)', async () => {
  const [r] = (await s.pb.collection(P.name).getList(1, 1, {
    filter: 'title = "apple"', expand: 'author,reviewers', fields: 'title,expand.author.name',
  })).items;
  assert.deepEqual(r, { title: 'apple', expand: { author: { name: 'Ann' } } });
  const [star] = (await s.pb.collection(P.name).getList(1, 1, {
    filter: 'title = "apple"', expand: 'author', fields: '*,expand.author.name',
  })).items;
  assert.equal(star.title, 'apple');
  assert.deepEqual(star.expand, { author: { name: 'Ann' } });
});

test('fields on getOne', async () => {
  const one = await s.pb.collection(A.name).getOne(ids.ann, { fields: 'name,age' });
  assert.deepEqual(one, { name: 'Ann', age: 30 });
});

// expand ------------------------------------------------------------------------------------------
test('expand: single relation → object, multi relation → array', async () => {
  const r = await s.pb.collection(P.name).getFirstListItem('title = "Hello World"', { expand: 'author,reviewers' });
  assert.equal(r.author, ids.ann, 'the raw id stays in place');
  assert.equal(r.expand.author.id, ids.ann);
  assert.equal(r.expand.author.name, 'Ann');
  assert.equal(r.expand.author.collectionName, A.name);
  assert.ok(Array.isArray(r.expand.reviewers));
  assert.deepEqual(r.expand.reviewers.map((x) => x.name), ['Bob', 'Cat'], 'multi expand keeps the stored order');
});

test('expand: empty relations are left out of expand', async () => {
  const r = await s.pb.collection(P.name).getFirstListItem('title = "past"', { expand: 'author,reviewers' });
  assert.equal(r.author, '');
  assert.deepEqual(r.reviewers, []);
  assert.deepEqual(r.expand, {}, 'expand requested but nothing to expand: an empty object');
  const g = await s.pb.collection(P.name).getFirstListItem('title = "Goodbye"', { expand: 'author,reviewers' });
  assert.deepEqual(Object.keys(g.expand), ['author']);
});

test('expand: nested a.b and a.b.c', async () => {
  const r = await s.pb.collection(P.name).getFirstListItem('title = "under_score"', { expand: 'author.mentor.mentor' });
  assert.equal(r.expand.author.name, 'Cat');
  assert.equal(r.expand.author.expand.mentor.name, 'Bob');
  assert.equal(r.expand.author.expand.mentor.expand.mentor.name, 'Ann');
  const m = await s.pb.collection(P.name).getFirstListItem('title = "Zebra"', { expand: 'reviewers.mentor' });
  assert.deepEqual(m.expand.reviewers.map((x) => [x.name, x.expand?.mentor?.name]), [['eve', 'Cat'], ['Ann', undefined]]);
});

test('expand: back-relation <collection>_via_<field> is always an array', async () => {
  const via = `${s.name('posts')}_via_author`;
  const ann = await s.pb.collection(A.name).getOne(ids.ann, { expand: via });
  same(ann.expand[via].map((p) => p.title), ['Hello World', 'hello there', 'apple']);
  const eve = await s.pb.collection(A.name).getOne(ids.eve, { expand: via });
  assert.ok(Array.isArray(eve.expand[via]));
  assert.deepEqual(eve.expand[via].map((p) => p.title), ['Zebra']);
  const viaRev = `${s.name('posts')}_via_reviewers`;
  const bob = await s.pb.collection(A.name).getOne(ids.bob, { expand: `${viaRev}.author` });
  same(bob.expand[viaRev].map((p) => `${p.title}/${p.expand?.author?.name}`), [
    'Hello World/Ann', 'hello there/Ann', '50% off/Bob',
  ]);
});

test('expand: an unknown relation is ignored', async () => {
  const r = await s.pb.collection(P.name).getFirstListItem('title = "apple"', { expand: 'nope' });
  assert.equal(r.title, 'apple');
  assert.equal(r.expand, undefined);
});

test('expand in list results', async () => {
  const list = await s.pb.collection(P.name).getList(1, 50, { expand: 'author', sort: 'title', filter: 'author != ""' });
  for (const r of list.items) assert.equal(r.expand.author.id, r.author);
});
