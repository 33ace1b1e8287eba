// Users: search and paging on the server (GET /v1/users?q=&limit=&cursor=, Link rel="next"); create; change role
// (org-wide or on a project); deactivate; sign out everywhere. Each action asks first, then shows the audit event it produced.
import * as api from '../api.js';
import { auditCard, banner, confirmAction, describe, field, h, mount, table, when } from '../ui.js';
import { latestAudit } from './common.js';

const PAGE = 20;
const ROLES = ['explore', 'create', 'mod'];

function roleSelect(value, testid) {
  return h('select', { 'data-testid': testid }, ROLES.map((r) => h('option', { value: r, selected: r === value }, r)));
}

export async function render(container, params, { signal } = {}) {
  let shown = [];
  let next = null;
  let pages = [null]; // the URL of each page shown so far for this search: Previous goes back one
  let searchTimer = 0;
  let loads = 0; // a newer load wins over a slower, older one (typing fast)
  const search = h('input', { type: 'search', placeholder: 'Search by email or id', value: params.get('q') || '', 'data-testid': 'user-search', 'aria-label': 'Search users' });
  const list = h('div');
  const result = h('div', { class: 'result', 'aria-live': 'polite', 'data-testid': 'action-result' });

  async function act(title, message, label, run, eventType, userId) {
    if (!(await confirmAction(title, message, label))) return;
    try {
      const outcome = await run();
      banner(`${title}: done.`, 'ok');
      mount(result, h('p', {}, typeof outcome === 'string' ? outcome : `${title}: done.`), auditCard(await latestAudit(eventType, userId)));
      await load();
    } catch (e) {
      mount(result, h('p', { class: 'error' }, describe(e)));
    }
  }

  function row(u) {
    return [
      h('div', { class: 'email', 'data-testid': 'user-email' }, u.email),
      h('div', { class: 'muted small' }, u.id),
      Object.keys(u.projectRoles || {}).length
        ? h('div', { class: 'small' }, Object.entries(u.projectRoles).map(([p, r]) => `${p}: ${r}`).join(', ')) : null,
    ];
  }

  function firstPage() {
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (search.value.trim()) query.set('q', search.value.trim());
    return `/v1/users?${query}`;
  }

  async function load() {
    const mine = ++loads;
    const page = await api.page(pages[pages.length - 1] || firstPage(), signal);
    if (mine !== loads) return;
    shown = page.items;
    next = page.next;
    draw();
  }

  const go = () => load().catch((e) => banner(describe(e)));

  function draw() {
    const q = search.value.trim();
    mount(list,
      table([
        { label: 'User', cell: (u) => row(u) },
        { label: 'Role', cell: (u) => roleCell(u) },
        { label: 'Status', cell: (u) => (u.active ? 'active' : 'deactivated') },
        { label: 'Created', cell: (u) => when(u.createdAt) },
        { label: 'Actions', cell: (u) => actions(u) },
      ], shown, { empty: q ? 'No user matches.' : 'No users.', testid: 'users' }),
      h('div', { class: 'pager' },
        h('button', { type: 'button', class: 'secondary', 'data-testid': 'users-previous', disabled: pages.length < 2, onclick: () => { pages.pop(); go(); } }, '‹ Previous'),
        h('span', { 'data-testid': 'users-page' }, `Page ${pages.length} · ${shown.length} users${q ? ` matching “${q}”` : ''}, by email`),
        h('button', { type: 'button', class: 'secondary', 'data-testid': 'users-next', disabled: !next, onclick: () => { pages.push(next); go(); } }, 'Next ›')));
  }

  function roleCell(u) {
    const select = roleSelect(u.role, `role-${u.email}`);
    const project = h('input', { type: 'text', placeholder: 'project (optional)', 'aria-label': 'Project id', class: 'narrow' });
    const apply = h('button', { type: 'button', class: 'secondary', 'data-testid': `set-role-${u.email}`, disabled: !u.active, onclick: () => {
      const body = { role: select.value };
      if (project.value.trim()) body.project_id = project.value.trim();
      const where = body.project_id ? `on project ${body.project_id}` : 'org-wide';
      act('Change role', `Give ${u.email} the role ${body.role} ${where}? Their next token carries the new scopes.`, 'Change role',
        () => api.put(`/v1/users/${encodeURIComponent(u.id)}/role`, body), 'role_assigned', u.id);
    } }, 'Apply');
    return h('div', { class: 'inline' }, select, project, apply);
  }

  function actions(u) {
    return h('div', { class: 'inline' },
      h('a', { href: `#/sessions?user=${encodeURIComponent(u.id)}`, class: 'button secondary' }, 'Sessions'),
      h('button', { type: 'button', class: 'secondary', 'data-testid': `logout-all-${u.email}`, disabled: !u.active, onclick: () =>
        act('Sign out everywhere', `End every session of ${u.email}? Their tokens stop working at the edges.`, 'Sign out everywhere',
          async () => `Sessions ended: ${(await api.post(`/v1/users/${encodeURIComponent(u.id)}/logout-all`)).sessionsEnded}.`, 'force_logout', u.id) },
      'Sign out everywhere'),
      h('button', { type: 'button', class: 'danger', 'data-testid': `deactivate-${u.email}`, disabled: !u.active, onclick: () =>
        act('Deactivate user', `Deactivate ${u.email}? They can no longer sign in and all their sessions end.`, 'Deactivate',
          () => api.post(`/v1/users/${encodeURIComponent(u.id)}/deactivate`), 'user_deactivated', u.id) },
      'Deactivate'));
  }

  // type=text: the API decides what an email is, and says so in its own words.
  const email = h('input', { type: 'text', inputmode: 'email', required: true, 'data-testid': 'new-email', autocomplete: 'off' });
  const password = h('input', { type: 'password', required: true, 'data-testid': 'new-password', autocomplete: 'new-password' });
  const role = roleSelect('explore', 'new-role');
  const create = h('form', { class: 'card inline-form', onsubmit: async (event) => {
    event.preventDefault();
    await act('Create user', `Create ${email.value} with role ${role.value}?`, 'Create',
      async () => {
        const user = await api.post('/v1/users', { email: email.value, password: password.value, role: role.value });
        email.value = '';
        password.value = '';
        search.value = user.email;
        pages = [null];
        return `Created ${user.email} (${user.id}).`;
      }, 'user_created', null);
  } },
  h('h2', {}, 'Create a user'), field('Email', email), field('Initial password', password), field('Role', role),
  h('button', { type: 'submit', 'data-testid': 'create-user' }, 'Create'));

  // Typing waits 250 ms for a pause, then asks the server for the first page of matches.
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { pages = [null]; go(); }, 250);
  });
  await load();
  mount(container, h('h1', {}, 'Users'), create, result, h('div', { class: 'toolbar' }, search), list);
  return () => clearTimeout(searchTimer);
}
