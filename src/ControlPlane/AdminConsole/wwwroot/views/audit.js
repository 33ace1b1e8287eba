// Audit: the org's events filtered by type, actor and time range (GET /v1/audit-events), a live tail that asks for
// events after the newest one shown every few seconds (the API has no stream; ?after=<seq> makes each poll cheap),
// the NDJSON export as a download (GET /v1/audit-events/export, fetched with the access token, saved from a Blob),
// and the chain verification's result (GET /v1/audit-events/verify).
import * as api from '../api.js';
import { banner, describe, field, h, mount, table, text, when } from '../ui.js';

const TAIL_MS = 2000;
const PAGE = 100;
const KEEP = 500; // rows kept on screen while tailing

function details(e) {
  return e.details ? Object.entries(e.details).filter(([, v]) => v !== null && v !== '').map(([k, v]) => `${k}=${v}`).join(' ') : '';
}

function localInput(value) {
  return h('input', { type: 'datetime-local', value, 'aria-label': 'time' });
}

function iso(input) {
  if (!input.value) return null;
  const d = new Date(input.value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export async function render(container, params) {
  const type = h('input', { type: 'text', placeholder: 'e.g. role_assigned', value: params.get('event') || '', 'data-testid': 'audit-type' });
  const actor = h('input', { type: 'text', placeholder: 'usr_…', value: params.get('actor') || '', 'data-testid': 'audit-actor' });
  const from = localInput('');
  const to = localInput('');
  const tail = h('input', { type: 'checkbox', checked: true, 'data-testid': 'audit-tail' });
  const status = h('span', { class: 'muted small', 'data-testid': 'audit-status', 'aria-live': 'polite' });
  const verifyResult = h('div', { class: 'result', 'aria-live': 'polite', 'data-testid': 'verify-result' });
  const list = h('div');
  let rows = [];
  let newest = 0;
  let cursor = null;
  let timer = 0;
  let stopped = false;

  function query(extra = {}) {
    const q = new URLSearchParams();
    if (type.value.trim()) q.set('event', type.value.trim());
    if (actor.value.trim()) q.set('actorId', actor.value.trim());
    if (iso(from)) q.set('from', iso(from));
    if (iso(to)) q.set('to', iso(to));
    for (const [k, v] of Object.entries(extra)) q.set(k, String(v));
    return q;
  }

  function draw() {
    mount(list,
      table([
        { label: '#', cell: (e) => String(e.seq) },
        { label: 'Time', cell: (e) => when(e.timestamp) },
        { label: 'Event', cell: (e) => h('code', { 'data-testid': 'audit-row-event' }, e.event) },
        { label: 'Outcome', cell: (e) => text(e.outcome) },
        { label: 'Actor', cell: (e) => text(e.actorId) },
        { label: 'Subject', cell: (e) => text(e.email || e.userId) },
        { label: 'Address', cell: (e) => text(e.ipAddress) },
        { label: 'Details', cell: (e) => h('code', { class: 'small' }, details(e)) },
      ], rows, { empty: 'No audit event matches.', testid: 'audit-events' }),
      cursor ? h('div', { class: 'pager' }, h('button', { type: 'button', class: 'secondary', 'data-testid': 'audit-more', onclick: more }, 'Older events')) : null);
  }

  async function load() {
    const page = await api.get(`/v1/audit-events?${query({ limit: PAGE })}`);
    rows = page.items;
    cursor = page.nextCursor;
    newest = rows.length ? rows[0].seq : 0;
    status.textContent = `${rows.length} events shown.`;
    draw();
  }

  async function more() {
    try {
      const page = await api.get(`/v1/audit-events?${query({ limit: PAGE, cursor })}`);
      rows = rows.concat(page.items);
      cursor = page.nextCursor;
      draw();
    } catch (e) { banner(describe(e)); }
  }

  async function poll() {
    if (stopped) return;
    if (tail.checked && !iso(to)) {
      try {
        const page = await api.get(`/v1/audit-events?${query({ limit: PAGE, after: newest })}`);
        if (!stopped && page.items.length) {
          rows = page.items.concat(rows).slice(0, KEEP);
          newest = rows[0].seq;
          draw();
        }
        status.textContent = `Live: checked ${new Date().toLocaleTimeString()}.`;
      } catch (e) {
        status.textContent = `Live tail paused: ${describe(e)}`;
      }
    } else {
      status.textContent = tail.checked ? 'Live tail is off while an end time is set.' : 'Live tail off.';
    }
    if (!stopped) timer = setTimeout(poll, TAIL_MS);
  }

  async function download() {
    try {
      const ndjson = await api.get(`/v1/audit-events/export?${query()}`);
      const url = URL.createObjectURL(new Blob([ndjson], { type: 'application/x-ndjson' }));
      // A link made here (not by h(), which only builds in-app links): the Blob's URL, never user data.
      const link = document.createElement('a');
      link.href = url;
      link.download = `audit-${api.claims().org}-${new Date().toISOString().replace(/[:.]/g, '-')}.ndjson`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      const lines = ndjson.split('\n').filter((l) => l.trim()).length;
      banner(`Exported ${lines} lines (signed seals first, then events oldest first).`, 'ok');
    } catch (e) { banner(describe(e)); }
  }

  async function verify() {
    mount(verifyResult, h('p', { class: 'muted' }, 'Verifying the chain…'));
    try {
      const v = await api.get('/v1/audit-events/verify');
      mount(verifyResult, h('div', { class: v.ok ? 'audit-card' : 'audit-card broken', 'data-testid': v.ok ? 'verify-ok' : 'verify-broken' },
        h('strong', {}, v.ok ? 'Chain verified: ok. ' : 'Chain broken. '),
        h('span', {}, `${v.checked} events checked`),
        v.checkpointSeq ? h('span', {}, ` · latest signed checkpoint at #${v.checkpointSeq}`) : null,
        v.retainedFromSeq ? h('span', {}, ` · retained from #${v.retainedFromSeq}`) : null,
        v.ok ? null : h('span', {}, ` · first bad event #${text(v.firstBrokenSeq)} (${text(v.firstBrokenEventId)}): ${text(v.reason)}`)));
    } catch (e) {
      mount(verifyResult, h('p', { class: 'error' }, describe(e)));
    }
  }

  const filters = h('form', { class: 'card inline-form', onsubmit: async (event) => {
    event.preventDefault();
    try { await load(); } catch (e) { banner(describe(e)); }
  } },
  field('Event type', type), field('Actor (user id)', actor), field('From', from), field('To', to),
  h('button', { type: 'submit', 'data-testid': 'audit-filter' }, 'Filter'),
  h('label', { class: 'inline' }, tail, 'Live tail'));

  await load();
  mount(container,
    h('h1', {}, 'Audit'),
    filters,
    h('div', { class: 'toolbar' },
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'audit-export', onclick: download }, 'Export NDJSON'),
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'audit-verify', onclick: verify }, 'Verify chain'),
      status),
    verifyResult,
    list);
  timer = setTimeout(poll, TAIL_MS);
  return () => { stopped = true; clearTimeout(timer); };
}
