// Sessions: one user's (#/sessions?user=usr_…) or the whole org's (mod), with user agent, address, created and last
// used; terminate one or many. Ending a session revokes its tokens at every edge through the change feed.
import * as api from '../api.js';
import { auditCard, banner, confirmAction, describe, h, mount, table, text, when } from '../ui.js';
import { latestAudit, orgSessions } from './common.js';

export async function render(container, params) {
  const claims = api.claims();
  const userId = params.get('user') || (api.isAdmin() ? null : claims.sub);
  const selected = new Set();
  const result = h('div', { class: 'result', 'aria-live': 'polite', 'data-testid': 'action-result' });
  const list = h('div');
  let rows = [];

  async function load() {
    rows = userId
      ? await api.get(`/v1/users/${encodeURIComponent(userId)}/sessions`)
      : await orgSessions();
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
    mount(result, h('p', {}, `Ended: ${ended.join(', ') || 'none'}.`),
      ended.length ? auditCard(await latestAudit('session_ended', row?.userId).catch(() => null)) : null);
    await load();
  }

  function draw() {
    const check = (s) => h('input', { type: 'checkbox', 'aria-label': `Select ${s.id}`, checked: selected.has(s.id), onchange: (e) => {
      if (e.target.checked) selected.add(s.id); else selected.delete(s.id);
      bulk.disabled = selected.size === 0;
    } });
    const bulk = h('button', { type: 'button', class: 'danger', disabled: true, 'data-testid': 'terminate-selected', onclick: () => terminate([...selected]) }, 'Terminate selected');
    mount(list,
      h('div', { class: 'toolbar' }, bulk, h('button', { type: 'button', class: 'secondary', onclick: () => load().catch((e) => banner(describe(e))) }, 'Reload')),
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
      ], rows, { empty: 'No live sessions.', testid: 'sessions' }));
  }

  let title = 'Sessions in the org';
  if (userId) {
    const user = await api.get(`/v1/users/${encodeURIComponent(userId)}`).catch(() => null);
    title = `Sessions of ${user ? user.email : userId}`;
  }
  await load();
  mount(container, h('h1', {}, title),
    userId && api.isAdmin() ? h('p', {}, h('a', { href: '#/sessions' }, 'All sessions in the org')) : null,
    result, list);
}
