// Shell and router: restores the session from the refresh cookie, draws the navigation, and shows one view per
// location hash (#/users, #/sessions …). Each view module exports render(container, params, { signal }) and may
// return a cleanup. Every render gets its own container and AbortSignal: when the user navigates on, the old render's
// container is detached and its signal aborted, so a render that finishes late draws into nothing and stops polling.
import * as api from './api.js';
import { banner, clearBanner, describe, h, mount } from './ui.js';
import * as audit from './views/audit.js';
import * as operator from './views/operator.js';
import * as apikeys from './views/apikeys.js';
import * as overview from './views/overview.js';
import * as ratelimits from './views/ratelimits.js';
import * as sessions from './views/sessions.js';
import * as signin from './views/signin.js';
import * as signingkeys from './views/signingkeys.js';
import * as users from './views/users.js';

const VIEWS = [
  { route: 'overview', label: 'Overview', view: overview },
  { route: 'users', label: 'Users', view: users, admin: true },
  { route: 'sessions', label: 'Sessions', view: sessions },
  { route: 'api-keys', label: 'API keys', view: apikeys },
  { route: 'signing-keys', label: 'Signing keys', view: signingkeys },
  { route: 'audit', label: 'Audit', view: audit, admin: true },
  { route: 'ratelimits', label: 'Rate limits', view: ratelimits },
  { route: 'operator', label: 'Operator', view: operator, operator: true },
];
let operatorView = false; // GET /v1/edges answered this user (asked once per user, see views/operator.js)

let cleanup = null;
let generation = 0; // a newer show() wins: a slower, older view must not draw over it
let rendering = null; // the AbortController of the view on screen (or being rendered)

function route() {
  const [name, query] = (location.hash.replace(/^#\/?/, '') || 'overview').split('?');
  return { name, params: new URLSearchParams(query || '') };
}

function drawChrome() {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  const claims = api.claims();
  if (!claims) {
    mount(nav);
    mount(who);
    return;
  }
  const current = route().name;
  mount(nav,
    VIEWS.filter((v) => !v.operator || operatorView).map((v) => h('a', { href: `#/${v.route}`, class: v.route === current ? 'active' : '', 'data-route': v.route }, v.label)));
  mount(who,
    h('span', { 'data-testid': 'who' }, `${claims.sub} · ${claims.role || ''} · org ${claims.org}`),
    h('button', { type: 'button', class: 'secondary', 'data-testid': 'sign-out', onclick: signOut }, 'Sign out'));
}

async function signOut() {
  await api.signOut();
  location.hash = '#/signin';
  show();
}

async function show() {
  const mine = ++generation;
  rendering?.abort();
  const controller = new AbortController();
  rendering = controller;
  if (typeof cleanup === 'function') cleanup();
  cleanup = null;
  clearBanner();
  const main = document.getElementById('view');
  // A fresh container per render: once replaced, whatever an older render still draws lands in a detached node.
  const container = h('div', { class: 'view-slot' });
  mount(main, container);
  const { name, params } = route();
  if (!api.claims() && name !== 'signin') {
    mount(container, h('p', { class: 'muted' }, 'Signing in…'));
    try { await api.refresh(); } catch (e) { banner(describe(e)); }
    if (mine !== generation) return;
  }
  if (!api.claims()) {
    drawChrome();
    signin.render(container, { onSignedIn: () => { location.hash = '#/overview'; show(); } });
    return;
  }
  if (name === 'signin') { location.hash = '#/overview'; return; }
  const entry = VIEWS.find((v) => v.route === name) || VIEWS[0];
  operatorView = await operator.allowed();
  if (mine !== generation) return;
  drawChrome();
  mount(container, h('p', { class: 'muted' }, 'Loading…'));
  try {
    const done = await entry.view.render(container, params, { signal: controller.signal });
    if (mine !== generation || controller.signal.aborted) { if (typeof done === 'function') done(); return; }
    cleanup = done;
  } catch (e) {
    if (mine !== generation || controller.signal.aborted) return;
    mount(container, h('h1', {}, entry.label), h('p', { class: 'error', 'data-testid': 'view-error' }, describe(e)));
  }
  main.focus({ preventScroll: true });
}

window.addEventListener('hashchange', show);
window.addEventListener('authio:signed-out', () => { if (route().name !== 'signin') show(); });
show();
