import { ApiError, call, client, describe, type Schema } from './api';
import { button, checkbox, field, h, messageArea, replace, section, type Messages } from './dom';
import { passkeyLogin } from './passkey-login';
import { optionsOf, PasskeyCeremonyError, usePasskey, type PublicKeyCredentialRequestOptionsJSON } from './passkeys';

/** What MFA_REQUIRED carries (API.md 6). */
/** The second step that an `MFA_REQUIRED` refusal carries (its `details`; API.md 6). */
export type MfaDetails = Schema<'MfaChallenge'>;

export interface SignInOptions {
  /** Called once the sign-in cookies are set. */
  onSignedIn: () => void;
  /** This page's own URL, where an institution sends the browser back with `?code=`. */
  returnUrl: string;
  /** Something to say above the form (signed out, session ended, ...). */
  notice?: string;
  /** An SSO code (or error) found in the URL on return from an institution. */
  ssoReturn?: { code?: string; error?: string };
  /** The heading of the form (a page of its own may say more: "Sign in to the admin console"). */
  title?: string;
  /** Ways to sign in besides the password and passkeys; both offered unless turned off. */
  institution?: boolean;
  magicLink?: boolean;
}

const LOGIN_WORDS = {
  INVALID_CREDENTIALS: 'That email address or password is not right.',
  ACCOUNT_DISABLED: 'This account is disabled. Ask an administrator to enable it.',
};

/**
 * Runs a first step (password, passkey, institution): success means the cookies are set; MFA_REQUIRED
 * moves on to the second step; anything else is said in words.
 */
async function firstStep(
  root: HTMLElement,
  opts: SignInOptions,
  messages: Messages,
  request: () => Promise<unknown>,
  words: Record<string, string> = LOGIN_WORDS,
): Promise<void> {
  try {
    await request();
    opts.onSignedIn();
  } catch (e) {
    if (e instanceof ApiError && e.code === 'MFA_REQUIRED') {
      replace(root, secondStep(root, opts, e.details as unknown as MfaDetails));
      // Straight to the code field when the first factor takes a code, else to the choice of factors.
      (
        root.querySelector<HTMLElement>('form input') ?? root.querySelector<HTMLElement>('.choices input:checked')
      )?.focus();
      return;
    }
    messages.error(e instanceof PasskeyCeremonyError ? e.message : describe(e, words));
  }
}

/** Disables a form's controls while its request runs, so that a double press sends one request. */
function busy<T>(form: HTMLElement, run: () => Promise<T>): Promise<T> {
  const controls = [...form.querySelectorAll<HTMLButtonElement | HTMLInputElement>('button, input')];
  controls.forEach((c) => (c.disabled = true));
  form.setAttribute('aria-busy', 'true');
  return run().finally(() => {
    controls.forEach((c) => (c.disabled = false));
    form.removeAttribute('aria-busy');
  });
}

function onSubmit(form: HTMLFormElement, run: () => Promise<void>) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(form, run);
  });
}

export function signInView(opts: SignInOptions): HTMLElement {
  const root = h('div', { class: 'signin' });
  const messages = messageArea();
  if (opts.notice) messages.info(opts.notice);

  // Password (API.md 1.1), in browser mode: the tokens come back as cookies.
  const identifier = field('Email or username', { autocomplete: 'username webauthn', required: true });
  const password = field('Password', { type: 'password', autocomplete: 'current-password', required: true });
  const remember = checkbox('Keep me signed in on this device for 30 days');
  const passwordForm = h(
    'form',
    { class: 'stack', novalidate: true },
    identifier.row,
    password.row,
    remember.row,
    h('div', { class: 'actions' }, button('Sign in', undefined, 'primary')),
  );
  onSubmit(passwordForm, async () => {
    messages.clear();
    if (!identifier.input.value.trim() || !password.input.value) {
      messages.error('Enter your email address (or username) and your password.');
      return;
    }
    await firstStep(root, opts, messages, () =>
      call(
        client.POST('/api/auth/login', {
          body: {
            username: identifier.input.value.trim(),
            password: password.input.value,
            remember: remember.input.checked,
            set_cookie: true,
          },
        }),
      ),
    );
  });

  // Passkey (API.md 8): with the email above when one is typed, else any passkey this device holds.
  const passkeyButton = button('Sign in with a passkey', () => {
    messages.clear();
    const email = identifier.input.value.trim();
    void busy(root, () =>
      firstStep(root, opts, messages, () => passkeyLogin(email || undefined, remember.input.checked), {
        INVALID_CREDENTIALS: 'That passkey was not accepted. It may have been removed, or it belongs to another site.',
        NOT_FOUND: 'Passkeys are not available on this service yet.',
        VALIDATION_ERROR: 'That email address does not look right.',
      }),
    );
  });

  // Magic link (API.md 1.2): the page only asks for the link; the mail goes to patients and caregivers.
  const linkEmail = field('Email address for a sign-in link', { type: 'email', autocomplete: 'email' });
  const linkMessages = messageArea();
  const linkForm = h(
    'form',
    { class: 'stack', novalidate: true },
    linkEmail.row,
    h('div', { class: 'actions' }, button('Email me a sign-in link')),
    linkMessages.el,
  );
  onSubmit(linkForm, async () => {
    linkMessages.clear();
    const email = linkEmail.input.value.trim();
    try {
      await call(client.POST('/api/auth/magic-link', { body: { email } }));
      linkMessages.info(
        `If ${email} belongs to a patient or caregiver account, a sign-in link is on its way. It works once, within 15 minutes.`,
      );
    } catch (e) {
      linkMessages.error(describe(e, { VALIDATION_ERROR: 'Enter a whole email address, such as name@example.org.' }));
    }
  });

  // Forgot password (API.md 12): always the same answer, whether or not the address has an account.
  const forgotEmail = field('Email address of your account', { type: 'email', autocomplete: 'email' });
  const forgotMessages = messageArea();
  const forgotForm = h(
    'form',
    { class: 'stack', novalidate: true, hidden: true },
    forgotEmail.row,
    h('div', { class: 'actions' }, button('Email me a reset link')),
    forgotMessages.el,
  );
  onSubmit(forgotForm, async () => {
    forgotMessages.clear();
    const email = forgotEmail.input.value.trim();
    try {
      await call(client.POST('/api/auth/password/forgot', { body: { email } }));
      forgotMessages.info(
        `If ${email} belongs to an account with a password, a link to choose a new one is on its way. It works once, within 30 minutes.`,
      );
    } catch (e) {
      forgotMessages.error(describe(e, { VALIDATION_ERROR: 'Enter a whole email address, such as name@example.org.' }));
    }
  });
  const forgotButton = button('Forgot your password?', () => {
    forgotForm.hidden = false;
    forgotEmail.input.value = identifier.input.value.includes('@') ? identifier.input.value.trim() : '';
    forgotEmail.input.focus();
  });

  // An institution (API.md 7): find its identity provider by the email's domain, then go there.
  const ssoEmail = field('Email address at your institution', { type: 'email', autocomplete: 'email' });
  const ssoMessages = messageArea();
  const ssoForm = h(
    'form',
    { class: 'stack', novalidate: true },
    ssoEmail.row,
    h('div', { class: 'actions' }, button('Continue to my institution')),
    ssoMessages.el,
  );
  onSubmit(ssoForm, async () => {
    ssoMessages.clear();
    const email = ssoEmail.input.value.trim();
    try {
      const found = await call(client.GET('/api/sso/discover', { params: { query: { email } } }));
      ssoMessages.info(`Taking you to ${found.name}…`);
      window.location.assign(
        `/api/sso/${encodeURIComponent(found.provider)}/login?redirect_uri=${encodeURIComponent(opts.returnUrl)}`,
      );
    } catch (e) {
      ssoMessages.error(
        describe(e, {
          NOT_FOUND: 'No institution sign-in is set up for that address.',
          VALIDATION_ERROR: 'Enter a whole email address, such as name@example.org.',
        }),
      );
    }
  });

  replace(
    root,
    h('h1', null, opts.title ?? 'Sign in'),
    messages.el,
    section(
      'With your password or a passkey',
      passwordForm,
      h(
        'div',
        { class: 'stack passkey-way' },
        h(
          'p',
          { class: 'hint' },
          'With a passkey you need no password: leave the email empty to choose a passkey saved on this device.',
        ),
        h('div', { class: 'actions' }, passkeyButton),
      ),
      h('div', { class: 'stack' }, h('div', { class: 'actions' }, forgotButton), forgotForm),
    ),
    opts.institution === false ? null : section('With your institution', ssoForm),
    opts.magicLink === false ? null : section('Patients and caregivers: a link by email', linkForm),
  );

  if (opts.ssoReturn?.error) {
    messages.error(
      'Your institution did not sign you in. Try again, or use another way to sign in.' +
        (opts.ssoReturn.error === 'access_denied' ? ' (You or your institution declined.)' : ''),
    );
  } else if (opts.ssoReturn?.code) {
    const code = opts.ssoReturn.code;
    messages.info('Finishing the sign-in with your institution…');
    void firstStep(
      root,
      opts,
      messages,
      () => call(client.POST('/api/sso/token', { body: { code, set_cookie: true } })),
      {
        INVALID_TOKEN: 'That institution sign-in has expired or was already used. Sign in again.',
      },
    );
  }
  return root;
}

const FACTOR_LABELS: Record<string, string> = {
  totp: 'Authenticator app',
  email: 'A code by email',
  sms: 'A code by text message (SMS)',
  passkey: 'Passkey',
};

/**
 * A factor in words: its kind, and its name when the name says more ("Authenticator app: Phone"). A
 * factor left with the default name reads "Authenticator app", not "Authenticator app: Authenticator app".
 */
export function factorLabel(
  type: string,
  name: string | null | undefined,
  labels: Record<string, string> = FACTOR_LABELS,
  unnamed: string[] = [],
): string {
  const kind = labels[type] ?? type;
  const own = name?.trim();
  if (!own || unnamed.includes(type) || own.toLowerCase() === kind.toLowerCase()) return kind;
  if (own.toLowerCase() === (FACTOR_LABELS[type] ?? '').toLowerCase()) return kind;
  return `${kind}: ${own}`;
}

/** The second step (API.md 6): choose a factor, then a code, a passkey or a recovery code. */
function secondStep(root: HTMLElement, opts: SignInOptions, details: MfaDetails): HTMLElement {
  const messages = messageArea();
  const restart = () => replace(root, signInView({ ...opts, ssoReturn: undefined, notice: undefined }));
  const body = h('div', { class: 'stack' });
  const choices: { label: string; show: () => void }[] = details.factors.map((f) => ({
    label: factorLabel(f.type, f.name, FACTOR_LABELS, ['email', 'sms']),
    show: () => showFactor(f),
  }));
  choices.push({ label: 'A recovery code', show: () => showRecovery() });

  const verify = (payload: Omit<Schema<'VerifyDto'>, 'mfa_token'>) =>
    firstStepAgain(() =>
      call(client.POST('/api/auth/mfa/verify', { body: { mfa_token: details.mfa_token, ...payload } })),
    );

  const words = {
    INVALID_MFA_CODE: 'That code is not right. Check it and try again.',
    INVALID_TOKEN: 'This sign-in has expired or had too many wrong codes. Sign in again from the start.',
    INVALID_CREDENTIALS: 'That passkey was not accepted.',
  };

  async function firstStepAgain(request: () => Promise<unknown>) {
    try {
      await request();
      opts.onSignedIn();
    } catch (e) {
      if (e instanceof ApiError && e.code === 'INVALID_TOKEN') {
        replace(root, signInView({ ...opts, ssoReturn: undefined, notice: undefined }));
        const again = root.querySelector('.messages');
        if (again) replace(again, h('p', { class: 'error', role: 'alert' }, words.INVALID_TOKEN));
        return;
      }
      messages.error(e instanceof PasskeyCeremonyError ? e.message : describe(e, words));
    }
  }

  /** A code form; a factor's code is checked against that factor alone (`factor_id`). */
  function codeForm(label: string, name: 'code' | 'recovery_code', hint?: string, factorId?: string) {
    const code = field(label, {
      autocomplete: name === 'code' ? 'one-time-code' : 'off',
      inputmode: name === 'code' ? 'numeric' : undefined,
      hint,
      required: true,
    });
    const form = h(
      'form',
      { class: 'stack', novalidate: true },
      code.row,
      h('div', { class: 'actions' }, button('Verify', undefined, 'primary')),
    );
    onSubmit(form, async () => {
      messages.clear();
      const value = code.input.value.trim();
      if (!value) {
        messages.error('Enter the code first.');
        return;
      }
      await verify({ [name]: value, ...(factorId ? { factor_id: factorId } : {}) });
    });
    return { form, input: code.input };
  }

  function showFactor(f: MfaDetails['factors'][number]) {
    messages.clear();
    if (f.type === 'totp') {
      const { form, input } = codeForm(
        'Code from your authenticator app',
        'code',
        'The 6 digits your app shows now.',
        f.id,
      );
      replace(body, form);
      input.focus();
    } else if (f.type === 'email' || f.type === 'sms') {
      const where = f.type === 'email' ? 'email' : 'text message';
      const { form, input } = codeForm(
        `Code from the ${where}`,
        'code',
        'The 6 digits we sent you; they work for 10 minutes.',
        f.id,
      );
      const send = button(`Send me a code by ${where}`, () => {
        messages.clear();
        void busy(body, async () => {
          try {
            await call(
              client.POST('/api/auth/mfa/challenge', { body: { mfa_token: details.mfa_token, factor_id: f.id } }),
            );
            messages.info(`A code is on its way by ${where}.`);
            input.focus();
          } catch (e) {
            messages.error(describe(e, words));
          }
        });
      });
      replace(body, h('div', { class: 'actions' }, send), form);
    } else if (f.type === 'passkey') {
      const use = button(
        'Use my passkey',
        () => {
          messages.clear();
          void busy(body, () =>
            firstStepAgain(async () => {
              const options = await call(
                client.POST('/api/auth/mfa/challenge', { body: { mfa_token: details.mfa_token, factor_id: f.id } }),
              );
              const webauthn = await usePasskey(optionsOf<PublicKeyCredentialRequestOptionsJSON>(options));
              await call(
                client.POST('/api/auth/mfa/verify', {
                  body: { mfa_token: details.mfa_token, factor_id: f.id, webauthn: webauthn as never },
                }),
              );
            }),
          );
        },
        'primary',
      );
      replace(body, h('div', { class: 'actions' }, use));
    }
  }

  function showRecovery() {
    messages.clear();
    const { form, input } = codeForm(
      'Recovery code',
      'recovery_code',
      'One of the ten codes you saved when you set up two-factor authentication. Each works once.',
    );
    replace(body, form);
    input.focus();
  }

  const group = h('fieldset', { class: 'choices' }, h('legend', null, 'How do you want to confirm it is you?'));
  const groupName = `factor-${Math.random().toString(36).slice(2)}`;
  choices.forEach((choice, i) => {
    const id = `${groupName}-${i}`;
    const radio = h('input', { type: 'radio', name: groupName, id, onchange: () => choice.show() });
    if (i === 0) radio.checked = true;
    group.append(h('div', { class: 'check' }, radio, h('label', { for: id }, choice.label)));
  });

  const view = h(
    'div',
    null,
    h('h1', null, 'Second step'),
    h('p', null, 'Your account uses two-factor authentication. Confirm your sign-in with one of your factors.'),
    messages.el,
    section('Confirm your sign-in', group, body),
    h('div', { class: 'actions' }, button('Start again', restart)),
  );
  choices[0].show();
  return view;
}
