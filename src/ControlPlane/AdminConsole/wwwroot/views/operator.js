// Operator: for platform operators only (GET /v1/edges answers them; everyone else gets 403 and no navigation entry).
// The edge fleet (id, version, feed position and lag, key-set age, last seen, stale), the operator's org and its
// settings, and founding a new org (POST /v1/orgs). Platform-wide settings are configuration (ControlPlane:*), not an
// API, so they are shown as far as the API reports them and changed by redeploying.
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

export async function render(container) {
  let timer = 0;
  let stopped = false;
  const fleet = h('div');
  const orgs = h('div');
  const result = h('div', { class: 'result', 'aria-live': 'polite', 'data-testid': 'action-result' });

  async function drawFleet() {
    const view = await api.get('/v1/edges');
    if (stopped) return;
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

  async function drawOrgs() {
    const org = await api.get('/v1/org');
    mount(orgs, table([
      { label: 'Org', cell: (o) => [h('div', {}, o.name), h('div', { class: 'muted small' }, o.id)] },
      { label: 'Access-token lifetime', cell: (o) => `${o.access_token_ttl_seconds} s` },
      { label: 'Idle timeout', cell: (o) => `${o.idle_timeout_seconds} s` },
      { label: 'Audit retention', cell: (o) => `${o.audit_retention_days} days` },
    ], [org], { testid: 'orgs' }),
    h('p', { class: 'muted small' }, 'The API lists only the signed-in org; other orgs are reached by signing in to them (each org\'s mods manage it).'));
  }

  const name = h('input', { type: 'text', required: true, 'data-testid': 'new-org-name', autocomplete: 'off' });
  const create = h('form', { class: 'card inline-form', onsubmit: async (event) => {
    event.preventDefault();
    try {
      const org = await api.post('/v1/orgs', { name: name.value });
      name.value = '';
      banner(`Org created: ${org.name} (${org.id}); you are its mod.`, 'ok');
      mount(result, h('p', {}, `Created ${org.name} (${org.id}). Sign in to it to manage it.`));
    } catch (e) { mount(result, h('p', { class: 'error' }, describe(e))); }
  } }, h('h2', {}, 'Found an org'), field('Name', name), h('button', { type: 'submit', 'data-testid': 'create-org' }, 'Create'));

  await Promise.all([drawFleet(), drawOrgs()]);
  mount(container,
    h('h1', {}, 'Operator'),
    h('h2', {}, 'Edge fleet'), fleet,
    h('h2', {}, 'Orgs'), orgs, create, result,
    h('h2', {}, 'Platform settings'),
    h('p', { class: 'muted', 'data-testid': 'platform-settings' },
      'Platform settings (operators, self-service orgs, edge orgs, rate limits of the credential endpoints, token lifetimes\' maximums) are the control plane\'s configuration (ControlPlane:*, see its README); no API changes them, so they are changed by redeploying.'));
  const tick = async () => {
    try { await drawFleet(); } catch { /* next tick retries; a sign-out stops the view */ }
    if (!stopped) timer = setTimeout(tick, REFRESH_MS);
  };
  timer = setTimeout(tick, REFRESH_MS);
  return () => { stopped = true; clearTimeout(timer); };
}
