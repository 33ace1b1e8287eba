// Sessions: one user's (#/sessions?user=usr_…) or the whole org's (mod; GET /v1/sessions, paged on the server), with
// user agent, address, created and last used; terminate one or many. Ending a session revokes its tokens at every edge
// through the change feed: after terminating, the view asks GET /v1/sessions/{sid}/revocation until every online edge
// reports a feed position at or past the revocation, and then shows "revoked at edges".
import * as api from '../api.js';
import { auditCard, banner, confirmAction, describe, h, mount, table, text, when } from '../ui.js';
import { latestAudit, watchRevocation } from './common.js';

const PAGE = 50;

/** One line about a revocation's progress to the edges, as GET /v1/sessions/{sid}/revocation reports it. */
function propagation(status) {
  if (status.confirmed) {
    return status.sequence === null
      ? 'revoked at edges (the revocation has outlived every token it could refuse)'
      : `revoked at edges: ${status.edges_confirmed} of ${status.edges_online} online edges are at change #${status.sequence} or later`;
  }
  if (!status.ended_at) return 'still live';
  if (status.edges_online === 0) return `ended; no edge is online to confirm change #${status.sequence}`;
  return `ended; waiting for the edges: ${status.edges_confirmed} of ${status.edges_online} online edges have change #${status.sequence}`;
}

export async function render(container, params, { signal } = {}) {
  const claims = api.claims();
  const userId = params.get('user') || (api.isAdmin() ? null : claims.sub);
  const selected = new Set();
  const result = h('div', { class: 'result', 'aria-live': 'polite', 'data-testid': 'action-result' });
  const list = h('div');
  let rows = [];
  const cursors = [null]; // the URL of each page shown so far (org-wide list): Previous goes back one
  let next = null;

  async function load(url = cursors[cursors.length - 1]) {
    if (userId) {
      rows = await api.get(`/v1/users/${encodeURIComponent(userId)}/sessions`, signal);
      next = null;
    } else {
      const page = await api.page(url || `/v1/sessions?limit=${PAGE}`, signal);
      rows = page.items;
      next = page.next;
    }
    selected.clear();
    draw();
  }

  async function terminate(ids) {
    const mine = ids.includes(claims.sid);
    const what = ids.length === 1 ? 'this session' : `${ids.length} sessions`;
    const warn = mine ? ' One of them is this console session: you will be signed out.' : '';
    if (!(await confirmAction('Terminate sessions', `End ${what}? Their tokens are refused at the edges once the change reaches them.${warn}`, 'Terminate'))) return;
    const ended = [];
    const failed = [];
    for (const id of ids) {
      try {
        await api.del(`/v1/sessions/${encodeURIComponent(id)}`);
        ended.push(id);
      } catch (e) {
        failed.push(`${id}: ${describe(e)}`);
      }
    }
    banner(`Ended ${ended.length} session(s).${failed.length ? ` Failed: ${failed.join('; ')}` : ''}`, failed.length ? 'error' : 'ok');
    if (mine) return;
    const row = rows.find((r) => r.id === ended[ended.length - 1]);
    const states = ended.map((id) => {
      const line = h('span', { 'data-testid': `revocation-${id}`, class: 'revocation' }, 'ended; asking the edges…');
      return { id, line, item: h('li', {}, h('code', {}, id), ': ', line) };
    });
    mount(result, h('p', {}, `Ended: ${ended.join(', ') || 'none'}.`),
      states.length ? h('ul', { class: 'propagation', 'data-testid': 'propagation' }, states.map((s) => s.item)) : null,
      ended.length ? auditCard(await latestAudit('session_ended', row?.userId).catch(() => null)) : null);
    await load();
    for (const s of states) {
      watchRevocation(s.id, (status, error) => {
        s.line.textContent = error ? describe(error) : propagation(status);
        s.line.className = status?.confirmed ? 'revocation ok' : 'revocation';
      }, signal);
    }
  }

  function draw() {
    const check = (s) => h('input', { type: 'checkbox', 'aria-label': `Select ${s.id}`, checked: selected.has(s.id), onchange: (e) => {
      if (e.target.checked) selected.add(s.id); else selected.delete(s.id);
      bulk.disabled = selected.size === 0;
    } });
    const bulk = h('button', { type: 'button', class: 'danger', disabled: true, 'data-testid': 'terminate-selected', onclick: () => terminate([...selected]) }, 'Terminate selected');
    const go = (url) => load(url).catch((e) => banner(describe(e)));
    mount(list,
      h('div', { class: 'toolbar' }, bulk, h('button', { type: 'button', class: 'secondary', onclick: () => go() }, 'Reload')),
      table([
        { label: '', cell: check },
        { label: 'User', cell: (s) => h('span', {}, text(s.email || s.userId)) },
        { label: 'Device / user agent', cell: (s) => h('span', { class: 'ua', 'data-testid': 'user-agent' }, text(s.userAgent)) },
        { label: 'Address', cell: (s) => text(s.ipAddress) },
        { label: 'Created', cell: (s) => when(s.createdAt) },
        { label: 'Last used', cell: (s) => when(s.lastSeenAt) },
        { label: '', cell: (s) => h('div', { class: 'inline' },
          s.id === claims.sid ? h('span', { class: 'tag' }, 'this console') : null,
          h('button', { type: 'button', class: 'danger', 'data-testid': `terminate-${s.id}`, onclick: () => terminate([s.id]) }, 'Terminate')) },
      ], rows, { empty: 'No live sessions.', testid: 'sessions' }),
      userId ? null : h('div', { class: 'pager' },
        h('button', { type: 'button', class: 'secondary', 'data-testid': 'sessions-previous', disabled: cursors.length < 2, onclick: () => { cursors.pop(); go(); } }, '‹ Previous'),
        h('span', {}, `Page ${cursors.length} · ${rows.length} sessions, newest first`),
        h('button', { type: 'button', class: 'secondary', 'data-testid': 'sessions-next', disabled: !next, onclick: () => { cursors.push(next); go(); } }, 'Next ›')));
  }

  let title = 'Sessions in the org';
  if (userId) {
    const user = await api.get(`/v1/users/${encodeURIComponent(userId)}`, signal).catch(() => null);
    title = `Sessions of ${user ? user.email : userId}`;
  }
  await load();
  mount(container, h('h1', {}, title),
    userId && api.isAdmin() ? h('p', {}, h('a', { href: '#/sessions' }, 'All sessions in the org')) : null,
    result, list);
}
