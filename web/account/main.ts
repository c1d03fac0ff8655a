/**
 * The account page (API.md 9): sign in, then the caller's profile, password, login sessions, second
 * factors, passkeys and API keys. Every action is one documented request (shared/api.ts).
 */
import { ApiError, call, client, type Schema } from '../shared/api';
import {
  button,
  checkbox,
  field,
  formatDate,
  h,
  messageArea,
  replace,
  secretText,
  section,
  sectionNav,
  setTitle,
} from '../shared/dom';
import { createPasskey, optionsOf, type PublicKeyCredentialCreationOptionsJSON } from '../shared/passkeys';
import { action, form, guarded } from '../shared/controls';
import { pageShell } from '../shared/shell';
import { applicationsSection } from './applications';
import { factorLabel } from '../shared/signin';

// The answers' types come from the generated client (clients/typescript): no copies of their shapes here.
type User = Schema<'UserResponse'>;

const { app, showSignIn, signOut, fail, start } = pageShell<User>({
  heading: 'Your account',
  signInTitle: 'Sign in',
  render: renderAccount,
});

/** Reloads of the sections whose contents depend on each other (a passkey is also a second factor). */
const reloads: (() => void)[] = [];
const reloadAll = () => reloads.forEach((r) => r());

function renderAccount(me: User): void {
  setTitle('Your account');
  reloads.length = 0;
  const sections = [
    profileSection(me),
    passwordSection(),
    sessionsSection(),
    mfaSection(),
    passkeysSection(),
    apiKeysSection(),
    applicationsSection(fail, reloads),
  ];
  replace(
    app,
    h(
      'header',
      { class: 'top' },
      h('h1', null, 'Your account'),
      h('p', null, 'Signed in as ', h('strong', null, me.email)),
      h(
        'div',
        { class: 'actions' },
        action('Sign out', () => signOut()),
      ),
    ),
    sectionNav(sections, 'Sections of your account'),
    sections,
  );
}

function profileSection(me: User): HTMLElement {
  const messages = messageArea();
  const rows = h('dl', { class: 'facts' });
  const show = (u: User) => {
    const name = [u.title, u.first_name, u.last_name].filter(Boolean).join(' ');
    replace(
      rows,
      ...[
        ['Name', name || 'not given'],
        ['Email address', u.email],
        ['Username', u.username ?? 'none'],
        ['Role', u.role],
        ['Email address confirmed', u.email_verified ? 'yes' : 'no'],
        ['Account created', formatDate(u.created_at)],
      ].flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
    );
  };
  show(me);
  // The documented profile change (API.md 3, `PATCH /users`), which takes any credential scheme.
  const email = field('New email address', { type: 'email', autocomplete: 'email', required: true });
  const change = form(
    async () => {
      messages.clear();
      try {
        // API.md 12: the address changes when the link mailed to it is opened; the old address is told at once.
        const updated = await call(client.PATCH('/users', { body: { email: email.input.value.trim() } }));
        show(updated);
        email.input.value = '';
        messages.info(
          updated.pending_email
            ? `We sent a link to ${updated.pending_email}: your email address changes when you open it.`
            : `Your email address is ${updated.email}.`,
        );
      } catch (e) {
        fail(messages, e, {
          CONFLICT: 'That email address belongs to another account.',
          VALIDATION_ERROR: 'Enter a whole email address, such as name@example.org.',
        });
      }
    },
    email.row,
    h('div', { class: 'actions' }, button('Change email address')),
  );
  return section('Profile', rows, messages.el, change);
}

function passwordSection(): HTMLElement {
  const messages = messageArea();
  const current = field('Current password', { type: 'password', autocomplete: 'current-password', required: true });
  const next = field('New password', {
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    hint: '8 to 128 characters with a lower-case letter, an upper-case letter and a digit; not a common password.',
  });
  const again = field('New password again', { type: 'password', autocomplete: 'new-password', required: true });
  const reset = checkbox('Also end my other sessions, tokens and API keys');
  const labels = { old_password: 'Current password', password: 'New password', password2: 'New password again' };
  const el = form(
    async () => {
      messages.clear();
      if (next.input.value !== again.input.value) {
        messages.error('The two new passwords are not the same.');
        return;
      }
      try {
        // The documented password change (API.md 4): it asks for the current password.
        await call(
          client.POST('/v1/auth/password/change', {
            body: {
              old_password: current.input.value,
              password: next.input.value,
              password2: again.input.value,
              reset_tokens: reset.input.checked,
            },
          }),
        );
        for (const f of [current, next, again]) f.input.value = '';
        messages.info(
          reset.input.checked
            ? 'Your password is changed, and every other session, token and API key has ended.'
            : 'Your password is changed.',
        );
        reloadAll();
      } catch (e) {
        fail(messages, e, { INVALID_CREDENTIALS: 'Your current password is not right.' }, labels);
      }
    },
    current.row,
    next.row,
    again.row,
    reset.row,
    h('div', { class: 'actions' }, button('Change password')),
  );
  return section('Password', messages.el, el);
}

const METHODS: Record<string, string> = {
  password: 'password',
  magic_link: 'email link',
  'magic-link': 'email link',
  mfa: 'two factors',
  passkey: 'passkey',
  sso: 'institution',
};

function sessionsSection(): HTMLElement {
  const messages = messageArea();
  const list = h('ul', { class: 'items' });
  const load = async () => {
    try {
      const sessions = await call(client.GET('/api/auth/sessions'));
      replace(
        list,
        sessions.map((s) =>
          h(
            'li',
            { class: s.current ? 'item current' : 'item' },
            h('p', null, h('strong', null, s.current ? 'This browser (the session in use)' : 'Another session')),
            h(
              'p',
              null,
              `Signed in ${formatDate(s.created_at)} with ${METHODS[s.method] ?? s.method}`,
              s.ip ? ` from ${s.ip}` : '',
              `; ends ${formatDate(s.expires_at)}.`,
            ),
            s.user_agent ? h('p', { class: 'hint' }, s.user_agent) : null,
            s.current
              ? null
              : h(
                  'div',
                  { class: 'actions' },
                  action(
                    'End session',
                    async () => {
                      try {
                        await call(client.DELETE('/api/auth/sessions/{id}', { params: { path: { id: s.id } } }));
                        messages.info('That session has ended: it can no longer be used.');
                        await load();
                      } catch (e) {
                        fail(messages, e);
                      }
                    },
                    'danger',
                  ),
                ),
          ),
        ),
      );
    } catch (e) {
      fail(messages, e);
    }
  };
  reloads.push(() => void load());
  void load();
  return section(
    'Where you are signed in',
    messages.el,
    list,
    h(
      'div',
      { class: 'actions' },
      action('Reload the list', load),
      action(
        'End all sessions',
        async () => {
          try {
            await call(client.POST('/api/auth/logout-all'));
            showSignIn('Every session has ended, this one too.');
          } catch (e) {
            fail(messages, e);
          }
        },
        'danger',
      ),
    ),
  );
}

const FACTOR_TYPES: Record<string, string> = {
  totp: 'Authenticator app',
  email: 'Codes by email',
  sms: 'Codes by text message',
  passkey: 'Passkey',
};

/**
 * Recovery codes, shown this once as one list of selectable text (with a button that copies them all);
 * they stay until the person says they are kept.
 */
function recoveryCodes(into: HTMLElement, codes: string[]): void {
  const copied = h('span', { class: 'hint', role: 'status' });
  const copyAll = button('Copy all the codes', () => {
    // The clipboard is only offered to secure contexts (https, or this machine).
    if (!navigator.clipboard) {
      replace(copied, 'Select the codes and copy them yourself.');
      return;
    }
    navigator.clipboard.writeText(codes.join('\n')).then(
      () => replace(copied, 'Copied.'),
      () => replace(copied, 'Select the codes and copy them yourself.'),
    );
  });
  replace(
    into,
    h(
      'div',
      { class: 'once', role: 'region', 'aria-label': 'Your recovery codes' },
      h('h3', null, 'Your recovery codes'),
      h(
        'p',
        null,
        'Keep these ten codes somewhere safe: each signs you in once if you lose your second factor. They are shown only now.',
      ),
      h(
        'ol',
        { class: 'codes' },
        codes.map((c) => h('li', null, h('code', { class: 'selectable' }, c))),
      ),
      h(
        'div',
        { class: 'actions' },
        copyAll,
        copied,
        button('I have saved my recovery codes', () => into.replaceChildren()),
      ),
    ),
  );
}

function mfaSection(): HTMLElement {
  const messages = messageArea();
  const status = h('p');
  const list = h('ul', { class: 'items' });
  const recovery = h('div');
  const once = h('div');
  const setup = h('div', { class: 'stack' });

  const load = async () => {
    try {
      const mfa = await call(client.GET('/api/auth/mfa'));
      replace(
        status,
        mfa.enabled
          ? 'Two-factor authentication is on: signing in needs your password and one of these factors.'
          : 'Two-factor authentication is off. Add a factor to turn it on.',
      );
      replace(
        list,
        mfa.factors.map((f) =>
          h(
            'li',
            { class: 'item' },
            h('p', null, h('strong', null, factorLabel(f.type, f.name, FACTOR_TYPES))),
            h('p', { class: 'hint' }, `Added ${formatDate(f.created_at)}; last used ${formatDate(f.last_used_at)}.`),
            f.type === 'passkey'
              ? h('p', { class: 'hint' }, 'Remove it under Passkeys.')
              : h(
                  'div',
                  { class: 'actions' },
                  action(
                    `Remove ${f.name ?? FACTOR_TYPES[f.type] ?? 'factor'}`,
                    guarded(messages, fail, async () => {
                      await call(client.DELETE('/api/auth/mfa/factors/{id}', { params: { path: { id: f.id } } }));
                      messages.info('That factor is removed.');
                      reloadAll();
                    }),
                    'danger',
                  ),
                ),
          ),
        ),
      );
      replace(
        recovery,
        mfa.enabled
          ? [
              h('p', null, `You have ${mfa.recovery_codes_left} unused recovery codes.`),
              h(
                'div',
                { class: 'actions' },
                action(
                  'Make new recovery codes',
                  guarded(messages, fail, async () => {
                    const r = await call(client.POST('/api/auth/mfa/recovery-codes'));
                    recoveryCodes(once, r.recovery_codes);
                    messages.info('New recovery codes are made; the old ones no longer work.');
                    await load();
                  }),
                ),
              ),
            ]
          : [],
      );
    } catch (e) {
      fail(messages, e);
    }
  };

  /** The last step of every enrolment: the first code confirms the factor (API.md 6). */
  const confirmForm = (factorId: string, label: string, hint: string) => {
    const code = field(label, { autocomplete: 'one-time-code', inputmode: 'numeric', hint, required: true });
    const el = form(
      guarded(
        messages,
        fail,
        async () => {
          const r = await call(
            client.POST('/api/auth/mfa/factors/{id}/confirm', {
              params: { path: { id: factorId } },
              body: { code: code.input.value.trim() },
            }),
          );
          setup.replaceChildren(...setupChoices());
          if (r.recovery_codes) recoveryCodes(once, r.recovery_codes);
          messages.info(
            r.recovery_codes
              ? 'Two-factor authentication is on. Save your recovery codes now.'
              : 'The new factor is confirmed.',
          );
          await load();
        },
        { INVALID_MFA_CODE: 'That code is not right. Check it and try again.' },
      ),
      code.row,
      h(
        'div',
        { class: 'actions' },
        button('Confirm', undefined, 'primary'),
        button('Cancel', () => setup.replaceChildren(...setupChoices())),
      ),
    );
    return { el, input: code.input };
  };

  const setupChoices = (): HTMLElement[] => {
    const appName = field('Name for the authenticator app', { placeholder: 'Phone', autocomplete: 'off' });
    const totp = form(
      guarded(messages, fail, async () => {
        const name = appName.input.value.trim();
        const t = await call(client.POST('/api/auth/mfa/totp', { body: name ? { name } : {} }));
        const confirm = confirmForm(t.factor_id, 'Code from your authenticator app', 'The 6 digits the app shows now.');
        replace(
          setup,
          h('h3', null, 'Scan this code with your authenticator app'),
          h('img', {
            src: t.qr_code,
            alt: 'QR code for your authenticator app',
            class: 'qr',
            width: 200,
            height: 200,
          }),
          secretText('Or type this secret key into the app', t.secret),
          confirm.el,
        );
        confirm.input.focus();
      }),
      h('h3', null, 'An authenticator app'),
      appName.row,
      h('div', { class: 'actions' }, button('Set up an authenticator app')),
    );
    const byEmail = form(
      guarded(messages, fail, async () => {
        const r = await call(client.POST('/api/auth/mfa/email'));
        const confirm = confirmForm(
          r.factor_id,
          'Code from the email',
          'We sent 6 digits to your email address; they work for 10 minutes.',
        );
        replace(setup, h('h3', null, 'Confirm your email address'), confirm.el);
        confirm.input.focus();
      }),
      h('h3', null, 'Codes by email'),
      h('div', { class: 'actions' }, button('Use codes sent to my email')),
    );
    const phone = field('Mobile number', {
      type: 'tel',
      autocomplete: 'tel',
      hint: 'In international form, starting with + and the country code, such as +447700900123.',
    });
    const bySms = form(
      async () => {
        messages.clear();
        try {
          const r = await call(client.POST('/api/auth/mfa/sms', { body: { phone: phone.input.value.trim() } }));
          const confirm = confirmForm(
            r.factor_id,
            'Code from the text message',
            'We sent 6 digits to your phone; they work for 10 minutes.',
          );
          replace(setup, h('h3', null, 'Confirm your phone'), confirm.el);
          confirm.input.focus();
        } catch (e) {
          fail(messages, e, {
            VALIDATION_ERROR: 'Enter the number in international form, starting with + and the country code.',
          });
        }
      },
      h('h3', null, 'Codes by text message'),
      phone.row,
      h('div', { class: 'actions' }, button('Send a code to this number')),
    );
    return [totp, byEmail, bySms];
  };

  setup.replaceChildren(...setupChoices());
  reloads.push(() => void load());
  void load();
  return section(
    'Two-factor authentication',
    status,
    messages.el,
    once,
    list,
    recovery,
    h('h3', { class: 'sub' }, 'Add a factor'),
    setup,
  );
}

function passkeysSection(): HTMLElement {
  const messages = messageArea();
  const list = h('ul', { class: 'items' });
  const adding = h('div');
  const once = h('div');
  const words = {
    NOT_FOUND: 'Passkeys are not available on this service yet.',
    INVALID_CREDENTIALS: 'Your device’s passkey was not accepted. Try again.',
    CONFLICT: 'This device already holds a passkey for your account.',
  };
  const load = async () => {
    try {
      const keys = await call(client.GET('/api/auth/passkeys'));
      replace(
        list,
        keys.length
          ? keys.map((k) =>
              h(
                'li',
                { class: 'item' },
                h('p', null, h('strong', null, k.name ?? 'Passkey')),
                h(
                  'p',
                  { class: 'hint' },
                  `Added ${formatDate(k.created_at)}; last used ${formatDate(k.last_used_at)}.`,
                ),
                h(
                  'div',
                  { class: 'actions' },
                  action(
                    `Remove passkey ${k.name ?? ''}`.trim(),
                    guarded(
                      messages,
                      fail,
                      async () => {
                        await call(client.DELETE('/api/auth/passkeys/{id}', { params: { path: { id: k.id } } }));
                        messages.info('That passkey is removed: it can no longer sign you in.');
                        reloadAll();
                      },
                      words,
                    ),
                    'danger',
                  ),
                ),
              ),
            )
          : [h('li', { class: 'hint' }, 'You have no passkeys yet.')],
      );
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        // A service without passkeys (API.md 8) yet: say so once, and offer nothing that cannot work.
        replace(list, h('li', { class: 'hint' }, 'Passkeys are not available on this service yet.'));
        adding.replaceChildren();
        return;
      }
      fail(messages, e, words);
    }
  };
  const name = field('Name for the new passkey', { placeholder: 'This laptop', autocomplete: 'off' });
  const add = form(
    guarded(
      messages,
      fail,
      async () => {
        const options = await call(client.POST('/api/auth/passkeys/register/options'));
        const response = await createPasskey(optionsOf<PublicKeyCredentialCreationOptionsJSON>(options));
        const label = name.input.value.trim();
        const created = await call(
          client.POST('/api/auth/passkeys/register/verify', {
            body: label ? { response: { ...response }, name: label } : { response: { ...response } },
          }),
        );
        name.input.value = '';
        // A first factor turns two-factor authentication on, and brings the recovery codes (API.md 8).
        if (created.recovery_codes) recoveryCodes(once, created.recovery_codes);
        messages.info(
          `The passkey “${created.name ?? 'Passkey'}” is added. You can now sign in with it.` +
            (created.recovery_codes ? ' Two-factor authentication is on: save your recovery codes now.' : ''),
        );
        reloadAll();
      },
      words,
    ),
    name.row,
    h('div', { class: 'actions' }, button('Add a passkey')),
  );
  adding.append(add);
  reloads.push(() => void load());
  void load();
  return section(
    'Passkeys',
    h(
      'p',
      null,
      'A passkey signs you in with this device’s screen lock instead of a password, and counts as a second factor.',
    ),
    messages.el,
    once,
    list,
    adding,
  );
}

function apiKeysSection(): HTMLElement {
  const messages = messageArea();
  const list = h('ul', { class: 'items' });
  const once = h('div');
  const load = async () => {
    try {
      const keys = await call(client.GET('/api/api-keys'));
      replace(
        list,
        keys.length
          ? keys.map((k) =>
              h(
                'li',
                { class: 'item' },
                h('p', null, h('strong', null, k.name), ' ', h('code', null, `${k.prefix}…`)),
                h(
                  'p',
                  { class: 'hint' },
                  `Created ${formatDate(k.created_at)}; ${k.expires_at ? `expires ${formatDate(k.expires_at)}` : 'does not expire'}.`,
                ),
                h(
                  'div',
                  { class: 'actions' },
                  action(
                    `Delete key ${k.name}`,
                    guarded(messages, fail, async () => {
                      await call(client.DELETE('/api/api-keys/{id}', { params: { path: { id: k.id } } }));
                      messages.info(`The key “${k.name}” is deleted: it no longer works.`);
                      once.replaceChildren();
                      await load();
                    }),
                    'danger',
                  ),
                ),
              ),
            )
          : [h('li', { class: 'hint' }, 'You have no API keys.')],
      );
    } catch (e) {
      fail(messages, e);
    }
  };
  const name = field('Name of the new key', { required: true, autocomplete: 'off', placeholder: 'Analysis script' });
  const days = field('Expires after (days)', {
    type: 'number',
    min: 1,
    inputmode: 'numeric',
    hint: 'Leave empty for a key that does not expire.',
  });
  const create = form(
    async () => {
      messages.clear();
      const body: Schema<'CreateApiKeyDto'> = { name: name.input.value.trim() };
      if (days.input.value.trim()) body.expires_in_days = Number(days.input.value);
      try {
        const k = await call(client.POST('/api/api-keys', { body }));
        replace(
          once,
          h(
            'div',
            { class: 'once' },
            secretText(`Your new key “${k.name}” (shown only now: copy it)`, k.key),
            h('p', { class: 'hint' }, 'Send it in the X-API-Key header. It acts with your role.'),
            h(
              'div',
              { class: 'actions' },
              button('I have copied the key', () => once.replaceChildren()),
            ),
          ),
        );
        name.input.value = '';
        days.input.value = '';
        await load();
      } catch (e) {
        fail(messages, e, {}, { name: 'Name', expires_in_days: 'Expires after' });
      }
    },
    name.row,
    days.row,
    h('div', { class: 'actions' }, button('Create key')),
  );
  reloads.push(() => void load());
  void load();
  return section('API keys', messages.el, once, list, create);
}

start();
