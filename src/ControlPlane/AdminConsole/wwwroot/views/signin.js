// Sign-in: email + password (+ organization when the user belongs to several). Lockout (423) and rate-limit (429)
// refusals are shown exactly as the API words them, with Retry-After. The MFA step goes between password and session:
// when the API answers { mfa_required, mfa_token, methods }, renderSecondFactor() takes over the same container.
import * as api from '../api.js';
import { describe, field, h, mount } from '../ui.js';

export function render(container, { onSignedIn }) {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, 'data-testid': 'email' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'password' });
  const org = h('input', { type: 'text', name: 'org_id', placeholder: 'only if you belong to several', 'data-testid': 'org' });
  const message = h('p', { class: 'error', role: 'alert', 'aria-live': 'polite', 'data-testid': 'signin-error' });
  const submit = h('button', { type: 'submit', 'data-testid': 'sign-in' }, 'Sign in');
  const form = h('form', { class: 'card signin', onsubmit: async (event) => {
    event.preventDefault();
    message.textContent = '';
    submit.disabled = true;
    try {
      const outcome = await api.signIn(email.value, password.value, org.value.trim() || undefined);
      password.value = '';
      if (outcome?.mfaRequired) {
        renderSecondFactor(container, outcome, { onSignedIn });
        return;
      }
      onSignedIn();
    } catch (e) {
      message.textContent = describe(e);
    } finally {
      submit.disabled = false;
    }
  } },
  h('h1', {}, 'Sign in'),
  h('p', { class: 'muted' }, 'Authio admin console. Your session is kept in an HttpOnly cookie; this page never stores a token.'),
  field('Email', email), field('Password', password), field('Organization id', org), message, submit);
  mount(container, form);
  email.focus();
}

/**
 * The second step of a sign-in the API answered with mfa_required: a code from the authenticator app (TOTP) or a
 * recovery code, posted with the first step's mfa_token. Passkeys are offered by the API but not by this page yet:
 * a passkey user signs in through the API (or enters a recovery code).
 */
export function renderSecondFactor(container, challenge, { onSignedIn }) {
  const code = h('input', { type: 'text', name: 'code', autocomplete: 'one-time-code', inputmode: 'text', required: true, 'data-testid': 'mfa-code' });
  const message = h('p', { class: 'error', role: 'alert', 'aria-live': 'polite', 'data-testid': 'mfa-message' }, challenge.message || '');
  const submit = h('button', { type: 'submit', 'data-testid': 'mfa-submit' }, 'Verify');
  const methods = challenge.methods.length ? challenge.methods.join(', ') : 'none named';
  const form = h('form', { class: 'card signin', 'data-testid': 'mfa-step', onsubmit: async (event) => {
    event.preventDefault();
    message.textContent = '';
    submit.disabled = true;
    try {
      const value = code.value.replace(/\s/g, '');
      const method = /^\d{6,8}$/.test(value) ? 'totp' : 'recovery_code';
      await api.completeSecondFactor(challenge.mfaToken, method, value);
      onSignedIn();
    } catch (e) {
      message.textContent = describe(e);
      if (e.code === 'mfa_token_invalid' || e.code === 'mfa_token_expired') {
        render(container, { onSignedIn });
      }
    } finally {
      submit.disabled = false;
    }
  } },
  h('h1', {}, 'Second factor'),
  h('p', { class: 'muted' }, `Enter the 6-digit code from your authenticator app, or one of your recovery codes. Methods on this account: ${methods}.`),
  field('Code', code), message, submit,
  h('button', { type: 'button', class: 'secondary', onclick: () => render(container, { onSignedIn }) }, 'Back'));
  mount(container, form);
  code.focus();
}
