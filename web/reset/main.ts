/**
 * The reset page (API.md 12): the link of a "Forgot your password?" mail lands here with `?token=`. One
 * documented request (`POST /api/auth/password/reset`); it signs nobody in, so the page sends the person
 * to the sign-in form afterwards (where a second factor is still asked for when MFA is on).
 */
import { call, client, describe } from '../shared/api';
import { form } from '../shared/controls';
import { button, field, h, messageArea, replace, section } from '../shared/dom';

const root = document.getElementById('app')!;
const token = new URLSearchParams(window.location.search).get('token') ?? '';
// The token stays out of the history and of any Referer from here on.
window.history.replaceState(null, '', window.location.pathname);

const messages = messageArea();
const next = field('New password', {
  type: 'password',
  autocomplete: 'new-password',
  required: true,
  hint: '8 to 128 characters with a lower-case letter, an upper-case letter and a digit; not a common password.',
});
const again = field('New password again', { type: 'password', autocomplete: 'new-password', required: true });
const signIn = h('a', { href: '/account' }, 'Sign in');

const resetForm = form(
  async () => {
    messages.clear();
    if (next.input.value !== again.input.value) {
      messages.error('The two new passwords are not the same.');
      return;
    }
    try {
      await call(client.POST('/api/auth/password/reset', { body: { token, password: next.input.value } }));
      replace(
        root,
        h('h1', null, 'Your password is changed'),
        h(
          'p',
          { role: 'status' },
          'Every sign-in and key of your account has ended. Sign in again with your new password.',
        ),
        h('p', null, signIn),
      );
    } catch (e) {
      messages.error(
        describe(
          e,
          { INVALID_TOKEN: 'This link is not valid any more (it works once, for 30 minutes). Ask for a new one.' },
          { password: 'New password' },
        ),
      );
    }
  },
  next.row,
  again.row,
  h('div', { class: 'actions' }, button('Set new password', undefined, 'primary')),
);

replace(
  root,
  h('h1', null, 'Choose a new password'),
  messages.el,
  token
    ? section('New password', resetForm)
    : h('p', null, 'This page needs the link from the mail. Ask for one with "Forgot your password?" on ', signIn, '.'),
);
