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
 * The second step of a sign-in the API answered with mfa_required. The console does not complete it yet: it shows the
 * API's message and the methods it offered, and leads back to the first step. The step's form (a code, or a passkey)
 * goes here, posting mfaToken with the user's answer and calling onSignedIn once the API returns an access token.
 */
export function renderSecondFactor(container, challenge, { onSignedIn }) {
  void onSignedIn;
  const methods = challenge.methods.length ? challenge.methods.join(', ') : 'none named';
  mount(container, h('div', { class: 'card signin', 'data-testid': 'mfa-step' },
    h('h1', {}, 'Second factor'),
    h('p', { role: 'alert', 'data-testid': 'mfa-message' },
      challenge.message || 'This account needs a second factor to sign in.'),
    h('p', { class: 'muted' }, `Methods the API offers: ${methods}. The console cannot complete this step yet; use the API.`),
    h('button', { type: 'button', class: 'secondary', onclick: () => render(container, { onSignedIn }) }, 'Back')));
}
