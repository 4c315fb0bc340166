#!/usr/bin/env node
// A stand-in for the poker server that implements just enough of the DOM contract
// (/work/plan/CONTRACT.md) to test the browser harness itself: `node selftest.mjs`
// runs the scenario against it once as is (must pass) and once with LEAK=1, where it
// leaks cards before reveal (must fail). Not the product: polling instead of a
// WebSocket, one process, memory only.
//
//   node fake_poker.mjs serve --http 127.0.0.1:0 --dir IGNORED   (same CLI as poker)

import http from 'node:http';
import { randomBytes } from 'node:crypto';

// FAKE_LEAK=1: other people's cards in the list before reveal; =results: stats before reveal.
const LEAK = process.env.FAKE_LEAK === '1';
const LEAK_RESULTS = process.env.FAKE_LEAK === 'results';
const DECK = ['0', '1', '2', '3', '5', '8', '13', '21', '34', '55', '89', '?', '☕'];
const KEYS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'q', 'w', 'e'];
const T = {
  en: { reveal: 'Reveal cards', voted: 'voted', waiting: 'waiting', create: 'Create room', join: 'Join', name: 'Your name', room: 'Room name', topic: 'Topic', set: 'Set topic', est: 'Save estimate', voter: 'Voter', spectator: 'Spectator', deck: 'Deck' },
  fr: { reveal: 'Révéler les cartes', voted: 'a voté', waiting: 'en attente', create: 'Créer la salle', join: 'Rejoindre', name: 'Votre nom', room: 'Nom de la salle', topic: 'Sujet', set: 'Définir le sujet', est: 'Enregistrer', voter: 'Votant', spectator: 'Spectateur', deck: 'Jeu' },
};
const rooms = new Map();
const id = () => randomBytes(8).toString('hex');
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const cookies = (req) => Object.fromEntries((req.headers.cookie || '').split(/;\s*/).filter(Boolean).map((c) => c.split('=')));
const langOf = (req, url) => {
  const q = url.searchParams.get('lang');
  if (q === 'en' || q === 'fr') return { lang: q, set: `lang=${q}; Path=/` };
  const c = cookies(req).lang;
  if (c === 'en' || c === 'fr') return { lang: c };
  return { lang: /^fr/i.test(req.headers['accept-language'] || '') ? 'fr' : 'en' };
};
const text = (req) => new Promise((r) => { let b = ''; req.on('data', (c) => { b += c; }); req.on('end', () => r(b)); });
const body = async (req) => new URLSearchParams(await text(req));
const THEME = '<button type="button" data-testid="theme-toggle" onclick="const h = document.documentElement; h.dataset.theme = h.dataset.theme === \'dark\' ? \'light\' : \'dark\'">Theme</button>';
const page = (lang, title, main, script = '') => `<!doctype html><html lang="${lang}" data-theme="light"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title></head><body>${THEME}<main>${main}</main>${script}</body></html>`;
const seat = (room, req) => room.people.find((p) => p.token === cookies(req)[`pk_${room.code}`]);
const num = (xs) => xs.map(Number).filter((x) => !Number.isNaN(x));

function stats(room) {
  const cards = [...room.votes.values()];
  const n = num(cards).sort((a, b) => a - b);
  const avg = n.reduce((a, b) => a + b, 0) / n.length;
  const med = n.length % 2 ? n[(n.length - 1) / 2] : (n[n.length / 2 - 1] + n[n.length / 2]) / 2;
  const counts = DECK.map((c) => ({ c, k: cards.filter((x) => x === c).length })).filter((b) => b.k);
  const top = Math.max(...counts.map((b) => b.k));
  return { avg, med, min: n[0], max: n[n.length - 1], agree: (100 * top) / cards.length, counts, mode: counts.filter((b) => b.k === top).map((b) => b.c).join(' ') };
}

function frags(room, me, lang) {
  const t = T[lang];
  const shown = room.phase !== 'voting';
  const now = Date.now();
  const ppl = room.people.map((p) => {
    const card = room.votes.get(p.id);
    const status = card && (shown || LEAK) ? card : card ? t.voted : t.waiting;
    return `<li data-testid="participant" data-pid="${p.id}" data-name="${esc(p.name)}" data-presence="${now - p.seen < 3000 ? 'online' : 'away'}" data-role="${p.role}">${esc(p.name)} <span data-testid="vote-status" data-voted="${!!card}">${esc(status)}</span></li>`;
  }).join('');
  const s = (shown || LEAK_RESULTS) && room.votes.size ? stats(room) : null;
  const results = s ? `<dl><dt>avg</dt><dd data-testid="stat-average">${s.avg.toFixed(2).replace('.', lang === 'fr' ? ',' : '.')}</dd><dt>med</dt><dd data-testid="stat-median">${s.med}</dd><dt>mode</dt><dd data-testid="stat-mode">${s.mode}</dd><dt>min</dt><dd data-testid="stat-min">${s.min}</dd><dt>max</dt><dd data-testid="stat-max">${s.max}</dd><dt>agr</dt><dd data-testid="stat-agreement">${s.agree.toFixed(0)} %</dd></dl><ul data-testid="distribution">${s.counts.map((b) => `<li data-testid="bar" data-card="${esc(b.c)}" data-count="${b.k}">${esc(b.c)}: ${b.k}</li>`).join('')}</ul>${room.estimate ? `<p>Final <strong data-testid="final-estimate">${esc(room.estimate)}</strong></p>` : ''}` : '';
  const mine = room.votes.get(me.id);
  const host = room.people[0] === me;
  return {
    'room-header': `<header id="room-header"><h1>${esc(room.name)}</h1><p>Expires <time data-testid="expires">in 30 days</time></p></header>`,
    participants: `<section id="participants"><h2>People</h2><ul>${ppl}</ul></section>`,
    round: `<section id="round" data-phase="${room.phase}"><h2 data-testid="topic">${esc(room.topic)}</h2><p><span data-testid="votes-cast">${room.votes.size}</span> votes</p></section>`,
    hand: `<section id="hand"><h2>Cards</h2>${DECK.map((c, i) => `<button type="button" data-testid="card" data-card="${esc(c)}" data-key="${KEYS[i]}" aria-pressed="${mine === c}"${me.role === 'spectator' || room.phase !== 'voting' ? ' disabled' : ''}>${esc(c)} <kbd>${KEYS[i]}</kbd></button>`).join('')}</section>`,
    controls: `<section id="controls">${host && room.phase === 'voting' ? `<button type="button" data-testid="reveal" data-act="reveal">${t.reveal}</button>` : ''}${host ? `<form data-testid="topic-form" data-act="topic"><label>${t.topic} <input name="text"></label><button type="submit">${t.set}</button></form>` : ''}${host && shown ? `<form data-testid="estimate-form" data-act="estimate"><label>${t.est} <input name="value"></label><button type="submit">${t.est}</button></form>` : ''}</section>`,
    results: `<section id="results">${results}</section>`,
    history: `<section id="history"><h2>History</h2>${room.history.map((h) => `<article data-testid="history-round" data-round="${h.round}">#${h.round} <strong data-testid="history-estimate">${esc(h.estimate)}</strong></article>`).join('')}${['csv', 'md', 'json'].map((k) => `<a data-testid="export-${k}" href="/r/${room.code}/export.${k}">${k}</a>`).join(' ')}</section>`,
  };
}

const CLIENT = `<script>
const code = location.pathname.split('/')[2];
let last = {};
async function act(msg) { await fetch('/r/' + code + '/act', { method: 'POST', body: JSON.stringify(msg) }); poll(); }
async function poll() {
  try {
    const f = await (await fetch('/r/' + code + '/frag')).json();
    for (const [k, html] of Object.entries(f)) if (last[k] !== html) { document.getElementById(k).outerHTML = html; last[k] = html; }
    document.querySelector('[data-testid=connection]').dataset.state = 'open';
  } catch { document.querySelector('[data-testid=connection]').dataset.state = 'closed'; }
}
setInterval(poll, 150); poll();
document.addEventListener('click', (e) => {
  const card = e.target.closest('[data-testid=card]');
  if (card && !card.disabled) act({ type: 'vote', value: card.dataset.card });
  const b = e.target.closest('button[data-act]');
  if (b) act({ type: b.dataset.act });
});
document.addEventListener('submit', (e) => {
  e.preventDefault();
  act({ type: e.target.dataset.act, ...Object.fromEntries(new FormData(e.target)) });
});
document.addEventListener('keydown', (e) => {
  if (e.target.closest('input, textarea, select')) return;
  const card = document.querySelector('#hand [data-key="' + e.key + '"]');
  if (card && !card.disabled) act({ type: 'vote', value: card.dataset.card });
});
</script>`;

function handle(req, res, url) {
  const { lang, set } = langOf(req, url);
  const t = T[lang];
  const headers = { 'content-type': 'text/html; charset=utf-8', ...(set ? { 'set-cookie': set } : {}) };
  const send = (status, html, extra = {}) => { res.writeHead(status, { ...headers, ...extra }); res.end(html); };
  const parts = url.pathname.split('/').filter(Boolean);
  if (url.pathname === '/api/health') return send(200, '{"code":200}');
  if (req.method === 'GET' && url.pathname === '/') {
    return send(200, page(lang, 'Poker', `<h1>Poker</h1><nav><a data-testid="lang-en" href="/?lang=en">English</a> <a data-testid="lang-fr" href="/?lang=fr">Français</a></nav><form data-testid="create-room" method="post" action="/rooms"><label>${t.room} <input name="room_name"></label><label>${t.name} <input name="your_name" required></label><fieldset><legend>Role</legend><label><input type="radio" name="role" value="voter" checked> ${t.voter}</label><label><input type="radio" name="role" value="spectator"> ${t.spectator}</label></fieldset><label>${t.deck} <select name="deck"><option value="fibonacci">Fibonacci</option></select></label><button data-testid="create-submit">${t.create}</button></form>`));
  }
  if (req.method === 'POST' && url.pathname === '/rooms') {
    return body(req).then((f) => {
      const code = id().slice(0, 8);
      const me = { id: id(), token: id(), name: f.get('your_name'), role: f.get('role'), seen: 0 };
      rooms.set(code, { code, name: f.get('room_name'), people: [me], phase: 'voting', topic: '', votes: new Map(), estimate: null, history: [] });
      send(303, '', { location: `/r/${code}`, 'set-cookie': `pk_${code}=${me.token}; Path=/; HttpOnly; SameSite=Lax` });
    });
  }
  const room = parts[0] === 'r' ? rooms.get(parts[1]) : null;
  if (!room) return send(404, page(lang, 'Not found', '<h1>Not found</h1><a href="/">Create a room</a>'));
  const me = seat(room, req);
  const base = `http://${req.headers.host}`;
  if (req.method === 'POST' && parts[2] === 'join') {
    return body(req).then((f) => {
      const p = { id: id(), token: id(), name: f.get('name'), role: f.get('role'), seen: 0 };
      room.people.push(p);
      send(303, '', { location: `/r/${room.code}`, 'set-cookie': `pk_${room.code}=${p.token}; Path=/; HttpOnly; SameSite=Lax` });
    });
  }
  if (!me) return send(200, page(lang, 'Join', `<h1>${esc(room.name)}</h1><form data-testid="join-room" method="post" action="/r/${room.code}/join"><label>${t.name} <input name="name" required></label><label><input type="radio" name="role" value="voter" checked> ${t.voter}</label><label><input type="radio" name="role" value="spectator"> ${t.spectator}</label><button data-testid="join-submit">${t.join}</button></form>`));
  me.seen = Date.now();
  const exp = /^export\.(csv|md|json)$/.exec(parts[2] || '');
  if (exp) {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    const names = room.people.filter((p) => room.votes.has(p.id)).map((p) => p.name);
    return res.end(exp[1] === 'json' ? JSON.stringify({ names }) : names.join('\n'));
  }
  if (parts[2] === 'frag') { res.writeHead(200, { 'content-type': 'application/json' }); return res.end(JSON.stringify(frags(room, me, lang))); }
  if (req.method === 'POST' && parts[2] === 'act') {
    return text(req).then((raw) => {
      const m = JSON.parse(raw || '{}');
      if (m.type === 'vote' && room.phase === 'voting' && me.role === 'voter') room.votes.set(me.id, m.value);
      if (m.type === 'topic') room.topic = m.text;
      if (m.type === 'reveal') room.phase = 'revealed';
      if (m.type === 'estimate') { room.estimate = m.value; room.phase = 'completed'; room.history.push({ round: 1, estimate: m.value }); }
      res.writeHead(204); res.end();
    });
  }
  const f = frags(room, me, lang);
  return send(200, page(lang, room.name, `${f['room-header']}<p data-testid="connection" data-state="closed">conn</p><label>Share <input data-testid="share-link" readonly value="${base}/r/${room.code}"></label><label>Your link <input data-testid="seat-link" readonly value="${base}/r/${room.code}/seat/${me.token}"></label>${f.round}${f.hand}${f.controls}${f.results}${f.participants}${f.history}`, CLIENT));
}

const addr = process.argv[process.argv.indexOf('--http') + 1] || '127.0.0.1:0';
const [host, port] = addr.split(':');
const server = http.createServer((req, res) => {
  try { handle(req, res, new URL(req.url, 'http://x')); } catch (e) { res.writeHead(500); res.end(String(e)); }
});
server.listen(Number(port), host, () => console.log(`Server started at http://${host}:${server.address().port}`));
