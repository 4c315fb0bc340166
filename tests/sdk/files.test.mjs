// Record files through the SDK: uploads as FormData with Blobs, stored names,
// `field+` / `field-` modifiers, limits, pb.files.getURL (with thumbs and
// ?download), pb.files.getToken for protected files, removal on update.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { Scope, expectError, createUser, userClient, anonClient, rawFetch, ensureBatchEnabled } from './support.mjs';

const s = new Scope('files');
let docs; // public: `one` (single, ≤ 100 bytes), `many` (≤ 3, text or PNG, thumbs 20x10)
let vault; // `secret` is protected; the view rule lets only the owner see a record
let owner; // { record, email, password }

/** A w×h RGBA PNG (solid colour), built by hand: CRC-32 + zlib from node. */
function png(w, h) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(w * 4, 0x80)]);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Width and height of a PNG from its IHDR. */
function pngSize(buf) {
  return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

const text = (s) => new Blob([s], { type: 'text/plain' });

before(async () => {
  await s.init();
  docs = await s.collection({
    name: 'docs',
    listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'one', type: 'file', maxSelect: 1, maxSize: 100 },
      { name: 'many', type: 'file', maxSelect: 3, maxSize: 100000, mimeTypes: ['text/plain', 'image/png'], thumbs: ['20x10'] },
    ],
  });
  const users = await s.pb.collections.getOne('users');
  owner = await createUser();
  vault = await s.collection({
    name: 'vault',
    viewRule: 'owner = @request.auth.id',
    fields: [
      { name: 'owner', type: 'relation', collectionId: users.id, maxSelect: 1 },
      { name: 'secret', type: 'file', maxSelect: 1, protected: true },
    ],
  });
});
after(() => s.cleanup());

test('upload with FormData: PocketBase stored names, both shapes', async () => {
  const form = new FormData();
  form.append('title', 'with files');
  form.append('one', text('hello'), 'Hello World.txt');
  form.append('many', text('a'), 'a.txt');
  form.append('many', new Blob([png(4, 4)]), 'pic.png');
  const rec = await s.pb.collection(docs.name).create(form);
  assert.match(rec.one, /^hello_world_[a-z0-9]{10}\.txt$/);
  assert.equal(rec.many.length, 2);
  assert.match(rec.many[0], /^a[a-z0-9]{10}_[a-z0-9]{10}\.txt$/, 'a short name gets a random part');
  assert.match(rec.many[1], /^pic_[a-z0-9]{10}\.png$/);

  // A plain object with File/Blob values is sent as multipart by the SDK too.
  const again = await s.pb.collection(docs.name).create({ title: 'object', one: new File(['x'], 'x.txt') });
  assert.match(again.one, /^x[a-z0-9]{10}_[a-z0-9]{10}\.txt$/);
});

test('getURL downloads, with ?download and thumbs', async () => {
  const rec = await s.pb.collection(docs.name).create({
    one: new File(['hello'], 'hello.txt'),
    many: [new File([png(40, 20)], 'wide.png')],
  });
  const url = s.pb.files.getURL(rec, rec.one);
  assert.equal(url, `${s.pb.baseURL}/api/files/${docs.id}/${rec.id}/${rec.one}`);
  const file = await fetch(url);
  assert.equal(file.status, 200);
  assert.equal(await file.text(), 'hello');
  assert.equal(file.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(file.headers.get('content-disposition'), `attachment; filename="${rec.one}"`);
  assert.match(file.headers.get('cache-control') || '', /max-age=2592000/);

  const pic = rec.many[0];
  const inline = await fetch(s.pb.files.getURL(rec, pic));
  assert.equal(inline.headers.get('content-type'), 'image/png');
  assert.equal(inline.headers.get('content-disposition'), `inline; filename="${pic}"`);
  assert.deepEqual(pngSize(Buffer.from(await inline.arrayBuffer())), [40, 20]);
  const attachment = await fetch(s.pb.files.getURL(rec, pic, { download: true }));
  assert.equal(attachment.headers.get('content-disposition'), `attachment; filename="${pic}"`);
  await attachment.arrayBuffer();

  const thumb = await fetch(s.pb.files.getURL(rec, pic, { thumb: '20x10' }));
  assert.equal(thumb.status, 200);
  assert.equal(thumb.headers.get('content-disposition'), `inline; filename="20x10_${pic}"`);
  assert.deepEqual(pngSize(Buffer.from(await thumb.arrayBuffer())), [20, 10]);
  const preset = await fetch(s.pb.files.getURL(rec, pic, { thumb: '100x100' }));
  assert.deepEqual(pngSize(Buffer.from(await preset.arrayBuffer())), [100, 100], 'the default thumb size');
  const unlisted = await fetch(s.pb.files.getURL(rec, pic, { thumb: '30x30' }));
  assert.deepEqual(pngSize(Buffer.from(await unlisted.arrayBuffer())), [40, 20], 'an unlisted size: the original');

  const missing = await rawFetch(`/api/files/${docs.id}/${rec.id}/nope.txt`);
  assert.equal(missing.status, 404);
});

test('field+ appends, field- removes (and the file goes), [] clears', async () => {
  const C = s.pb.collection(docs.name);
  const rec = await C.create({ many: [new File(['1'], 'first.txt')] });
  const first = rec.many[0];
  const appended = await C.update(rec.id, { 'many+': new File(['2'], 'second.txt') });
  assert.equal(appended.many.length, 2);
  assert.equal(appended.many[0], first);
  assert.match(appended.many[1], /^second_[a-z0-9]{10}\.txt$/);
  const removed = await C.update(rec.id, { 'many-': [first] });
  assert.deepEqual(removed.many, [appended.many[1]]);
  let gone;
  for (let i = 0; i < 50; i++) {
    gone = await fetch(s.pb.files.getURL(rec, first));
    await gone.arrayBuffer();
    if (gone.status === 404) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(gone.status, 404, 'the removed file is no longer served');
  // Without a modifier an upload replaces the field's files.
  const replaced = await C.update(rec.id, { many: [new File(['3'], 'third.txt')] });
  assert.equal(replaced.many.length, 1);
  assert.match(replaced.many[0], /^third_/);
  const cleared = await C.update(rec.id, { many: [] });
  assert.deepEqual(cleared.many, []);
});

test('limits: maxSelect, maxSize, mimeTypes, plain names', async () => {
  const C = s.pb.collection(docs.name);
  const rec = await C.create({ title: 'limits' });
  const tooMany = await expectError(
    C.update(rec.id, { many: ['a', 'b', 'c', 'd'].map((n) => new File([n], `${n}.txt`)) }),
    400,
  );
  assert.equal(tooMany.data.many.code, 'validation_too_many_files');
  const tooBig = await expectError(C.update(rec.id, { one: new File(['x'.repeat(101)], 'big.txt') }), 400);
  assert.equal(tooBig.data.one.code, 'validation_file_size_limit');
  assert.equal(tooBig.message, 'Failed to update record.');
  const wrongType = await expectError(C.update(rec.id, { many: new File([new Uint8Array([0, 1, 2, 3])], 'x.bin') }), 400);
  assert.equal(wrongType.data.many.code, 'validation_invalid_mime_type');
  const plain = await expectError(C.update(rec.id, { many: ['made_up.txt'] }), 400);
  assert.equal(plain.data.many.code, 'validation_invalid_file');
  const still = await C.getOne(rec.id);
  assert.equal(still.one, '');
  assert.deepEqual(still.many, []);
});

test('protected files: a file token of someone the view rule lets in', async () => {
  const rec = await s.pb.collection(vault.name).create({
    owner: owner.record.id,
    secret: new File(['top secret'], 'secret.txt'),
  });
  const plainUrl = s.pb.files.getURL(rec, rec.secret);
  const anonymous = await fetch(plainUrl);
  await anonymous.arrayBuffer();
  assert.equal(anonymous.status, 404, 'no token');

  const user = await userClient(owner.email, owner.password);
  const token = await user.files.getToken();
  const mine = await fetch(user.files.getURL(rec, rec.secret, { token }));
  assert.equal(mine.status, 200);
  assert.equal(await mine.text(), 'top secret');

  const other = await createUser();
  const stranger = await userClient(other.email, other.password);
  const theirs = await fetch(stranger.files.getURL(rec, rec.secret, { token: await stranger.files.getToken() }));
  await theirs.arrayBuffer();
  assert.equal(theirs.status, 404, 'the view rule says no');

  const admin = await fetch(s.pb.files.getURL(rec, rec.secret, { token: await s.pb.files.getToken() }));
  assert.equal(admin.status, 200);
  await admin.arrayBuffer();

  await expectError(anonClient().files.getToken(), 401);
});

test('a batch uploads files for its sub-requests, all or nothing', async () => {
  await ensureBatchEnabled(s.pb);
  const ok = s.pb.createBatch();
  ok.collection(docs.name).create({ title: 'batch one', one: new File(['1'], 'first.txt') });
  ok.collection(docs.name).create({ title: 'batch two', many: [new File(['2'], 'second.txt'), new File(['3'], 'third.txt')] });
  const [first, second] = await ok.send();
  assert.equal(first.status, 200);
  // PocketBase names a batch's files twice (its sub-request re-sends the named
  // file), so its names carry two random parts; litebase's carry one.
  assert.match(first.body.one, /^first_([a-z0-9]{10}_)?[a-z0-9]{10}\.txt$/);
  assert.equal(second.body.many.length, 2);
  const file = await fetch(s.pb.files.getURL(first.body, first.body.one));
  assert.equal(await file.text(), '1');

  const bad = s.pb.createBatch();
  bad.collection(docs.name).create({ title: 'batch three', one: new File(['x'], 'x.txt') });
  bad.collection(docs.name).create({ one: new File(['x'.repeat(101)], 'big.txt') });
  const err = await expectError(bad.send(), 400);
  assert.equal(err.data.requests['1'].code, 'batch_request_failed');
  const none = await s.pb.collection(docs.name).getList(1, 1, { filter: 'title = "batch three"' });
  assert.equal(none.totalItems, 0);
});
