// Operator: for platform operators only (GET /v1/edges answers them; everyone else gets 403 and no navigation entry).
// The edge fleet (id, version, feed position and lag, key-set age, last seen, stale), every org (GET /v1/orgs, paged
// on the server), founding a new org (POST /v1/orgs), and the platform's effective settings (GET /v1/platform/settings,
// read-only: they are configuration, ControlPlane:*, changed by redeploying).
import * as api from '../api.js';
import { banner, describe, field, h, mount, table, text, when } from '../ui.js';

const REFRESH_MS = 5000;
let known = null; // { key, allowed }: whether this signed-in user is an operator, asked once per token subject/org

/** Whether the signed-in user may see the operator view: asks GET /v1/edges once per user and org. */
export async function allowed() {
  const claims = api.claims();
  if (!claims) return false;
  const key = `${claims.org}/${claims.sub}/${claims.role}`;
  if (known?.key !== key) {
    let ok = false;
    try { await api.get('/v1/edges'); ok = true; } catch { ok = false; }
    known = { key, allowed: ok };
  }
  return known.allowed;
}

function secs(value) { return value === null || value === undefined ? '—' : `${Number(value).toFixed(value < 10 ? 2 : 0)} s`; }

export async function render(container, params, { signal } = {}) {
  let timer = 0;
  let stopped = false;
  const fleet = h('div');
  const orgs = h('div');
  const settings = h('div');
  const result = h('div', { class: 'result', 'aria-live': 'polite', 'data-testid': 'action-result' });

  async function drawFleet() {
    const view = await api.get('/v1/edges', signal);
    if (stopped || signal?.aborted) return;
    const head = view.head_sequence;
    mount(fleet,
      h('p', { class: 'muted' }, `Change-log head ${text(head)} · edges report every ${text(view.report_interval_seconds)} s; stale after 3 silent intervals. Refreshed ${new Date().toLocaleTimeString()}.`),
      table([
        { label: 'Edge', cell: (e) => h('code', { 'data-testid': 'edge-id' }, e.id) },
        { label: 'Version', cell: (e) => text(e.version) },
        { label: 'State', cell: (e) => h('span', { class: e.stale ? 'tag stale' : 'tag', 'data-testid': 'edge-state' }, e.stale ? 'stale' : 'online') },
        { label: 'Last seen', cell: (e) => when(e.last_seen) },
        { label: 'Feed', cell: (e) => `#${text(e.feed_sequence)}${head !== undefined && e.feed_sequence !== undefined ? ` (${head - e.feed_sequence} behind)` : ''} via ${text(e.feed_transport)}` },
        { label: 'Feed lag', cell: (e) => secs(e.feed_lag_seconds) },
        { label: 'Key-set age', cell: (e) => secs(e.key_set_age_seconds) },
        { label: 'Routes', cell: (e) => `${(e.routes || []).length}` },
      ], view.edges, { empty: 'No edge has reported yet.', testid: 'fleet' }));
  }

  const orgPages = [null]; // the URL of each page of orgs shown so far: Previous goes back one
  async function drawOrgs() {
    const page = await api.page(orgPages[orgPages.length - 1] || '/v1/orgs?limit=20', signal);
    const mine = api.claims()?.org;
    const go = () => drawOrgs().catch((e) => banner(describe(e)));
    mount(orgs, table([
      { label: 'Org', cell: (o) => [h('div', {}, o.name), h('div', { class: 'muted small' }, o.id)] },
      { label: 'Created', cell: (o) => when(o.created_at) },
      { label: '', cell: (o) => h('div', { class: 'inline' },
        o.operator ? h('span', { class: 'tag' }, 'operator org') : null,
        o.id === mine ? h('span', { class: 'tag' }, 'signed in here') : null) },
    ], page.items, { testid: 'orgs', empty: 'No orgs.' }),
    h('div', { class: 'pager' },
      h('button', { type: 'button', class: 'secondary', disabled: orgPages.length < 2, onclick: () => { orgPages.pop(); go(); } }, '‹ Previous'),
      h('span', {}, `Page ${orgPages.length} · oldest first`),
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'orgs-next', disabled: !page.next, onclick: () => { orgPages.push(page.next); go(); } }, 'Next ›')),
    h('p', { class: 'muted small' }, 'Each org is managed by its own mods: sign in to an org to manage it.'));
  }

  async function drawSettings() {
    const s = await api.get('/v1/platform/settings', signal);
    const section = (title, entries) => h('div', { class: 'card' }, h('h3', {}, title),
      h('dl', {}, Object.entries(entries).map(([k, v]) => [h('dt', {}, k.replaceAll('_', ' ')), h('dd', {}, text(v))])));
    mount(settings,
      h('div', { class: 'settings', 'data-testid': 'platform-settings' },
        section('Tokens', s.tokens),
        section('Sessions and lockout', { ...s.sessions, ...Object.fromEntries(Object.entries(s.lockout).map(([k, v]) => [`lockout_${k}`, v])) }),
        section('Signing keys and audit', { ...s.signing_keys, audit_retention_days: s.audit_retention_days }),
        section('Credential rate limits', s.credential_rate_limits),
        section('Platform', {
          issuer: s.issuer, audience: s.audience, feed_transport: s.feed_transport, self_service_orgs: s.self_service_orgs ? 'yes' : 'no', configured_operators: s.configured_operators,
          edge_org_ids: s.edge_org_ids.length ? s.edge_org_ids.join(', ') : 'operator org only', max_request_body_bytes: s.max_request_body_bytes,
        })),
      h('p', { class: 'muted small' }, 'Read-only: these are the control plane\'s configuration (ControlPlane:*, see its README), changed by redeploying. Durations in seconds; secrets are never shown.'));
  }

  const name = h('input', { type: 'text', required: true, 'data-testid': 'new-org-name', autocomplete: 'off' });
  const create = h('form', { class: 'card inline-form', onsubmit: async (event) => {
    event.preventDefault();
    try {
      const org = await api.post('/v1/orgs', { name: name.value });
      name.value = '';
      banner(`Org created: ${org.name} (${org.id}); you are its mod.`, 'ok');
      mount(result, h('p', {}, `Created ${org.name} (${org.id}). Sign in to it to manage it.`));
      await drawOrgs();
    } catch (e) { mount(result, h('p', { class: 'error' }, describe(e))); }
  } }, h('h2', {}, 'Found an org'), field('Name', name), h('button', { type: 'submit', 'data-testid': 'create-org' }, 'Create'));

  await Promise.all([drawFleet(), drawOrgs(), drawSettings()]);
  mount(container,
    h('h1', {}, 'Operator'),
    h('h2', {}, 'Edge fleet'), fleet,
    h('h2', {}, 'Orgs'), orgs, create, result,
    h('h2', {}, 'Platform settings'), settings);
  const tick = async () => {
    try { await drawFleet(); } catch { /* next tick retries; a sign-out stops the view */ }
    if (!stopped) timer = setTimeout(tick, REFRESH_MS);
  };
  timer = setTimeout(tick, REFRESH_MS);
  return () => { stopped = true; clearTimeout(timer); };
}
