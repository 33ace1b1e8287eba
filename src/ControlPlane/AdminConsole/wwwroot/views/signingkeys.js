// Signing keys: the org's key ring from GET /v1/signing-keys (next = pending, active, retiring = verifying, retired,
// revoked) with its dates; rotate (POST /v1/signing-keys/rotate); emergency revoke of one key
// (POST /v1/signing-keys/{kid}/revoke) only after the admin types that key's id.
import * as api from '../api.js';
import { auditCard, banner, confirmAction, describe, field, h, mount, table, when } from '../ui.js';
import { latestAudit } from './common.js';

// The API's states, in ring order, and what the console calls them.
const STATES = [['pending', 'next'], ['active', 'active'], ['verifying', 'retiring'], ['retired', 'retired'], ['revoked', 'revoked']];
const label = (state) => (STATES.find(([s]) => s === state) || [state, state])[1];
const order = (state) => { const i = STATES.findIndex(([s]) => s === state); return i < 0 ? STATES.length : i; };

/** Asks for the kid itself: a slip of the mouse cannot revoke a key. Resolves true only when the typed kid matches. */
function typedConfirmation(kid) {
  return new Promise((resolve) => {
    const input = h('input', { type: 'text', autocomplete: 'off', 'data-testid': 'typed-kid', 'aria-label': 'Key id' });
    const error = h('p', { class: 'error', 'data-testid': 'typed-error', 'aria-live': 'polite' });
    const dialog = h('dialog', { class: 'confirm', 'data-testid': 'revoke-dialog' },
      h('h3', {}, 'Emergency revoke'),
      h('p', {}, 'The key leaves the JWKS at once and every token it signed stops working, at the edges as soon as the feed carries it. This cannot be undone.'),
      h('p', {}, 'Type the key id ', h('code', {}, kid), ' to confirm.'),
      field('Key id', input), error,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => close(false) }, 'Cancel'),
        h('button', { type: 'button', class: 'danger', 'data-testid': 'revoke-confirm', onclick: () => {
          if (input.value.trim() !== kid) {
            error.textContent = 'That is not this key\'s id: nothing was revoked.';
            return;
          }
          close(true);
        } }, 'Revoke this key')));
    function close(answer) { dialog.close(); dialog.remove(); resolve(answer); }
    dialog.addEventListener('cancel', () => close(false));
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}

export async function render(container) {
  const list = h('div');
  const result = h('div', { class: 'result', 'aria-live': 'polite', 'data-testid': 'action-result' });
  const admin = api.isAdmin();

  async function draw() {
    const keys = (await api.get('/v1/signing-keys'))
      .sort((a, b) => order(a.state) - order(b.state) || String(b.activateAt).localeCompare(String(a.activateAt)));
    mount(list, table([
      { label: 'Key id', cell: (k) => h('code', { 'data-testid': 'kid' }, k.kid) },
      { label: 'State', cell: (k) => h('span', { class: `tag state-${k.state}`, 'data-testid': `state-${k.kid}` }, label(k.state)) },
      { label: 'Created', cell: (k) => when(k.createdAt) },
      { label: 'Signs from', cell: (k) => when(k.activateAt) },
      { label: 'Retires', cell: (k) => when(k.retireAt) },
      { label: 'Revoked', cell: (k) => when(k.revokedAt) },
      { label: '', cell: (k) => (admin && k.state !== 'revoked' && k.state !== 'retired'
        ? h('button', { type: 'button', class: 'danger', 'data-testid': `revoke-${k.kid}`, onclick: () => revoke(k.kid) }, 'Emergency revoke') : null) },
    ], keys, { empty: 'This org has no signing keys yet.', testid: 'signing-keys' }));
  }

  async function revoke(kid) {
    if (!(await typedConfirmation(kid))) return;
    try {
      await api.post(`/v1/signing-keys/${encodeURIComponent(kid)}/revoke`);
      banner(`Revoked ${kid}.`, 'ok');
      mount(result, h('p', {}, `Revoked ${kid}.`), auditCard(await latestAudit('signing_key_revoked')));
    } catch (e) { mount(result, h('p', { class: 'error' }, describe(e))); }
    await draw();
  }

  const rotate = h('button', { type: 'button', 'data-testid': 'rotate-signing-key', disabled: !admin, onclick: async () => {
    if (!(await confirmAction('Rotate signing keys', 'Publish a new key now? It signs after the pre-publish period; the current one keeps verifying until its tokens expire.', 'Rotate'))) return;
    try {
      const key = await api.post('/v1/signing-keys/rotate');
      mount(result, h('p', {}, `New key ${key.kid}: ${label(key.state)}, signs from ${when(key.activateAt)}.`), auditCard(await latestAudit('signing_key_created')));
    } catch (e) { mount(result, h('p', { class: 'error' }, describe(e))); }
    await draw();
  } }, 'Rotate now');

  await draw();
  mount(container, h('h1', {}, 'Signing keys'),
    h('p', { class: 'muted' }, 'The keys that sign this org\'s access tokens. next: published, signs soon · active: signs now · retiring: no longer signs, still verifies · revoked: gone from the JWKS.'),
    h('div', { class: 'toolbar' }, rotate, admin ? null : h('span', { class: 'muted small' }, 'Rotating and revoking need the mod role.')),
    result, list);
}
