// The emulator's inbox page. Messages arrive as trees of nodes built by the
// emulator (internal/slackemu/inbox_mrkdwn.go); this script turns them into
// DOM with createElement and textContent only, so nothing a log record holds
// is ever parsed as HTML.
'use strict';

// The same elements the emulator may send; anything else becomes a span.
const TAGS = new Set(['div', 'span', 'b', 'i', 's', 'code', 'pre', 'a', 'hr', 'button', 'details', 'summary']);

// hashChannel is the channel named in the URL's #fragment, if any.
function hashChannel() {
  try {
    return decodeURIComponent(location.hash.slice(1));
  } catch (_) {
    return ''; // a malformed escape: show the first channel
  }
}

const state = {
  channel: hashChannel(),
  thread: null, // {channel, ts} of the open thread
  threadKey: '',
  shown: new Map(), // ts → {key, el} of the channel's messages on screen
  data: null,
};

const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function safeHref(h) {
  return typeof h === 'string' && /^(https?:\/\/|mailto:)/i.test(h);
}

// build makes the DOM of one node; msg is the message it belongs to (for clicks).
function build(n, msg) {
  if (!n.t) return document.createTextNode(n.x || '');
  const e = el(TAGS.has(n.t) ? n.t : 'span', n.c);
  if (n.x) e.append(document.createTextNode(n.x));
  if (n.b) e.dataset.blockId = n.b;
  if (e.tagName === 'A' && safeHref(n.h)) {
    e.href = n.h;
    e.rel = 'noopener noreferrer';
    e.target = '_blank';
  }
  if (e.tagName === 'BUTTON') {
    e.type = 'button';
    if (n.a) {
      e.dataset.actionId = n.a.action_id;
      e.dataset.value = n.a.value;
      e.addEventListener('click', () => click(msg, n.a, e));
    }
  }
  for (const k of n.k || []) e.append(build(k, msg));
  return e;
}

function messageEl(m, inThread) {
  const row = el('div', 'msg');
  row.dataset.ts = m.ts;
  row.dataset.channel = m.channel;
  const webhook = m.via === 'webhook';
  row.append(el('div', 'avatar', webhook ? 'W' : 'O'));
  const main = el('div', 'msg-main');
  const head = el('div', 'msg-head');
  head.append(el('span', 'author', webhook ? 'incoming-webhook' : 'otelcol-slack'), el('span', 'time', m.time));
  if (m.updates > 0) head.append(el('span', 'edited', '(edited)'));
  const blocks = el('div', 'blocks');
  for (const n of m.body || []) blocks.append(build(n, m));
  main.append(head, blocks);
  if (!inThread && m.replies > 0) {
    const r = el('button', 'replies', m.replies === 1 ? '1 reply' : m.replies + ' replies');
    r.type = 'button';
    r.addEventListener('click', () => openThread(m.channel, m.ts));
    main.append(r);
  }
  if (m.metadata) {
    const d = el('details', 'meta');
    d.append(el('summary', '', 'metadata · ' + m.metadata.event_type), el('pre', '', m.metadata.payload));
    main.append(d);
  }
  row.append(main);
  return row;
}

const messageKey = (m) => m.ts + '/' + m.updates + '/' + m.replies;

// keepOpen carries open menus and metadata over to a message's new version.
function keepOpen(from, to) {
  const open = [...from.querySelectorAll('details')].map((d) => d.open);
  to.querySelectorAll('details').forEach((d, i) => { d.open = Boolean(open[i]); });
}

function renderChannels(d) {
  if (!d.channels.some((c) => c.name === state.channel) && d.channels.length > 0) {
    state.channel = d.channels[0].name;
    state.shown = new Map();
  }
  const list = $('channels');
  list.replaceChildren();
  for (const c of d.channels) {
    const b = el('button', 'channel-link' + (c.name === state.channel ? ' selected' : ''));
    b.type = 'button';
    b.dataset.channel = c.name;
    b.append(el('span', 'name', c.name), el('span', 'count', String(c.messages)));
    b.addEventListener('click', () => selectChannel(c.name));
    list.append(b);
  }
  $('channel-name').textContent = state.channel || 'No messages yet';
}

// renderMessages replaces only the messages that changed, so open menus,
// metadata and the scroll position survive live updates.
function renderMessages(d) {
  const box = $('messages');
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const next = new Map();
  const els = [];
  for (const m of d.messages) {
    if (m.channel !== state.channel || m.thread_ts) continue;
    const key = messageKey(m);
    const old = state.shown.get(m.ts);
    let e = old && old.key === key ? old.el : null;
    if (!e) {
      e = messageEl(m, false);
      if (old) keepOpen(old.el, e);
    }
    e.classList.toggle('opened', Boolean(state.thread && state.thread.channel === m.channel && state.thread.ts === m.ts));
    next.set(m.ts, { key, el: e });
    els.push(e);
  }
  box.replaceChildren(...els);
  state.shown = next;
  if (atBottom) box.scrollTop = box.scrollHeight;
}

function renderThread(d) {
  const pane = $('thread');
  const t = state.thread;
  const parent = t && d.messages.find((m) => m.channel === t.channel && m.ts === t.ts);
  if (!parent) {
    pane.hidden = true;
    state.threadKey = '';
    return;
  }
  const replies = d.messages.filter((m) => m.channel === t.channel && m.thread_ts === t.ts);
  const key = [parent, ...replies].map(messageKey).join(' ');
  pane.hidden = false;
  if (key === state.threadKey) return;
  state.threadKey = key;
  const box = $('thread-messages');
  const els = [messageEl(parent, true), el('div', 'thread-sep', replies.length === 1 ? '1 reply' : replies.length + ' replies')];
  for (const r of replies) els.push(messageEl(r, true));
  box.replaceChildren(...els);
}

function render() {
  const d = state.data;
  if (!d) return;
  renderChannels(d);
  renderMessages(d);
  renderThread(d);
}

function selectChannel(name) {
  state.channel = name;
  state.shown = new Map();
  history.replaceState(null, '', '#' + encodeURIComponent(name));
  render();
}

function openThread(channel, ts) {
  state.thread = { channel, ts };
  state.threadKey = '';
  render();
}

function setStatus(id, text, error) {
  const s = $(id);
  s.textContent = text;
  s.classList.toggle('error', error);
}

// refresh reads every message; a change that comes while it runs reads again after.
let inflight = false;
let again = false;
async function refresh() {
  if (inflight) {
    again = true;
    return;
  }
  inflight = true;
  try {
    const res = await fetch('/_emu/inbox/data', { cache: 'no-store' });
    if (!res.ok) throw new Error('GET /_emu/inbox/data answered ' + res.status);
    state.data = await res.json();
    render();
    setStatus('live', 'live · ' + state.data.messages.length + ' messages', false);
  } catch (err) {
    setStatus('live', 'could not read the messages: ' + err.message, true);
  } finally {
    inflight = false;
    if (again) {
      again = false;
      refresh();
    }
  }
}

// click posts what Slack would send for a button or an overflow option, and
// shows the answer (or why there was none) in the status line.
async function click(m, a, button) {
  const menu = button.closest('details.overflow');
  if (menu) menu.open = false;
  const body = {
    channel: m.channel_id, ts: m.ts, block_id: a.block_id, action_id: a.action_id, value: a.value, user_id: 'U0EMULATOR',
  };
  setStatus('action', 'clicking ' + a.action_id + '…', false);
  try {
    const res = await fetch('/_emu/click', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    const text = (await res.text()).trim();
    let shown = text;
    let ok = res.ok;
    try {
      const answer = JSON.parse(text);
      shown = JSON.stringify(answer);
      if (answer && answer.ok === false) ok = false;
    } catch (_) {
      // not JSON: show the text as it is
    }
    setStatus('action', 'click ' + a.action_id + ' → ' + res.status + ' ' + shown, !ok);
  } catch (err) {
    setStatus('action', 'click ' + a.action_id + ' failed: ' + err.message, true);
  }
}

function start() {
  $('close-thread').addEventListener('click', () => {
    state.thread = null;
    render();
  });
  const events = new EventSource('/_emu/inbox/events');
  events.addEventListener('change', refresh);
  events.addEventListener('error', () => setStatus('live', 'live updates interrupted; reconnecting…', true));
  refresh();
}

start();
