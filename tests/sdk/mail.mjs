// Client side of the mail catcher (smtp_catcher.py, started by run.mjs).
//
// run.mjs passes SDK_SMTP_PORT (where the server must send mail) and SDK_MAIL_URL
// (where the catcher serves what it caught as JSON). Tests take a cursor before
// the action that sends mail, then wait for "the next mail to X after the cursor".
//
// Tokens and codes are pulled out of the body loosely on purpose: litebase's mail
// templates are worded differently from PocketBase's.

import assert from 'node:assert/strict';
import { TARGET } from './support.mjs';

export const SMTP_PORT = process.env.SDK_SMTP_PORT ? Number(process.env.SDK_SMTP_PORT) : null;
export const MAIL_URL = process.env.SDK_MAIL_URL || null;
/** false when the tests run without the runner's catcher: mail tests then skip. */
export const MAIL_ENABLED = Boolean(SMTP_PORT && MAIL_URL);
export const MAIL_SKIP = MAIL_ENABLED ? false : 'no mail catcher (run through run.mjs, or set SDK_SMTP_PORT and SDK_MAIL_URL)';

export const SENDER_ADDRESS = 'noreply@example.com';
export const SENDER_NAME = 'SDK tests';

/**
 * Point the server's mailer at the catcher. PocketBase keeps this in its settings;
 * litebase got LITEBASE_SMTP_HOST/LITEBASE_SMTP_PORT from run.mjs at start-up.
 */
export async function configureMail(adminPb) {
  if (!MAIL_ENABLED || TARGET !== 'pocketbase') return;
  await adminPb.settings.update({
    smtp: { enabled: true, host: '127.0.0.1', port: SMTP_PORT, tls: false },
    meta: { senderAddress: SENDER_ADDRESS, senderName: SENDER_NAME },
  });
}

async function fetchMails(since = 0) {
  const res = await fetch(`${MAIL_URL}/messages?since=${since}`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200, 'mail catcher answers');
  return res.json();
}

/** The sequence number of the newest caught mail: pass it as `since` later. */
export async function mailCursor() {
  const res = await fetch(`${MAIL_URL}/health`, { signal: AbortSignal.timeout(5000) });
  return (await res.json()).seq;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Wait (bounded) for the first mail to `to` caught after `since`.
 * @returns {{seq, from, to, subject, text, html, body}}
 */
export async function waitForMail(to, { since = 0, timeoutMs = 10_000, subject } = {}) {
  const want = to.toLowerCase();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mails = await fetchMails(since);
    const hit = mails.find((m) => m.to.includes(want) && (!subject || subject.test(m.subject)));
    if (hit) return hit;
    if (Date.now() > deadline) {
      const seen = mails.map((m) => `${m.to.join(',')}: ${m.subject}`).join('; ') || 'none';
      assert.fail(`no mail to ${to} within ${timeoutMs} ms (mails since #${since}: ${seen})`);
    }
    await sleep(100);
  }
}

/** All mails to `to` caught after `since` (no waiting). */
export async function mailsTo(to, since = 0) {
  const want = to.toLowerCase();
  return (await fetchMails(since)).filter((m) => m.to.includes(want));
}

/**
 * Assert that no mail to `to` arrives within `waitMs` after `since`. Servers send
 * mail in the background (PocketBase answers before the mail goes out), so this waits.
 */
export async function expectNoMail(to, { since = 0, waitMs = 1500 } = {}) {
  await sleep(waitMs);
  const got = await mailsTo(to, since);
  assert.deepEqual(got.map((m) => m.subject), [], `expected no mail to ${to}`);
}

const JWT_RE = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/;
const LONG_TOKEN_RE = /[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]{10,}){0,2}/g;

/**
 * The token in a mail: the first JWT-looking string (text part first, then HTML);
 * failing that, the first long token-like string that is not a plain word or hex
 * colour. PocketBase puts it at the end of a link,
 * `{APP_URL}/_/#/auth/confirm-password-reset/{TOKEN}`.
 */
export function extractToken(mail) {
  for (const src of [mail.text, mail.html, mail.body]) {
    const m = (src || '').match(JWT_RE);
    if (m) return m[0];
  }
  for (const src of [mail.text, mail.body]) {
    for (const m of (src || '').matchAll(LONG_TOKEN_RE)) {
      if (/\d/.test(m[0]) && /[A-Za-z]/.test(m[0])) return m[0];
    }
  }
  assert.fail(`no token found in the mail "${mail.subject}":\n${mail.body}`);
}

/** The one-time code in a mail: the first standalone 6–10 digit number. */
export function extractCode(mail) {
  const text = mail.text && mail.text.trim() ? mail.text : (mail.html || '').replace(/<style[\s\S]*?<\/style>/gi, '').replace(/<[^>]+>/g, ' ');
  const m = text.match(/(?<![\w-])\d{6,10}(?![\w-])/);
  assert.ok(m, `no 6-10 digit code found in the mail "${mail.subject}":\n${mail.body}`);
  return m[0];
}
