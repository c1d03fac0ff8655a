/**
 * The page of an OAuth authorization request (API.md 15): `/interaction/<uid>`. It signs the person in
 * with the account page's own sign-in (password, passkey, institution, sign-in link, the second step),
 * tells the provider who signed in, and asks for consent when the application is not first party. Every
 * request goes to the documented interaction routes; the provider binds them to this browser.
 */
import { ApiError, call, client, describe, type Schema } from '../shared/api';
import { button, h, messageArea, replace } from '../shared/dom';
import { signInView } from '../shared/signin';

type Details = Schema<'InteractionDetailsView'>;

const root = document.getElementById('app') as HTMLElement;
const uid = location.pathname.split('/').filter(Boolean)[1] ?? '';
const at = { params: { path: { uid } } };

/** What each scope lets the application do, in words. */
const SCOPE_WORDS: Record<string, string> = {
  openid: 'Know who you are (your account id)',
  profile: 'See your name',
  email: 'See your email address',
  roles: 'See your role',
  offline_access: 'Stay connected when you are away (until you take its access back)',
  'api:read': 'Read your data in this service',
  'api:write': 'Read and change your data in this service (never your password, email or sign-in settings)',
};

const go = (to: string) => window.location.assign(to);

function failure(e: unknown): void {
  replace(
    root,
    h('h1', null, 'This sign-in cannot continue'),
    h(
      'p',
      { class: 'error', role: 'alert' },
      describe(e, {
        NOT_FOUND:
          'This sign-in request has expired or was started in another browser. Go back to the application and start again.',
      }),
    ),
    h('p', null, h('a', { href: '/account' }, 'Go to your account')),
  );
}

function showSignIn(details: Details, notice?: string, ssoReturn?: { code?: string; error?: string }): void {
  document.title = `Sign in to continue to ${details.client_name}`;
  replace(
    root,
    h('p', { class: 'muted' }, `${details.client_name} asks you to sign in.`),
    signInView({
      title: `Sign in to continue to ${details.client_name}`,
      onSignedIn: () => void signIn(details),
      returnUrl: `${location.origin}${location.pathname}`,
      notice,
      ssoReturn,
    }),
  );
  root.querySelector('h1')?.focus();
}

async function signIn(details: Details): Promise<void> {
  try {
    const { redirect_to } = await call(client.POST('/interaction/{uid}/login', at));
    go(redirect_to);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.code === 'SIGN_IN_REQUIRED')) {
      showSignIn(
        details,
        e.status === 401 && e.message && !/Authentication required/.test(e.message) ? e.message : undefined,
      );
      return;
    }
    if (e instanceof ApiError && e.code === 'MFA_STEP_UP_REQUIRED') {
      try {
        await call(client.POST('/api/auth/logout'));
      } catch {
        // Signed out already.
      }
      showSignIn(details, `${details.client_name} asks for your second factor: sign in with it.`);
      return;
    }
    failure(e);
  }
}

function showConsent(details: Details): void {
  document.title = `Allow ${details.client_name}?`;
  const messages = messageArea();
  const allow = button(`Allow ${details.client_name}`, () => void decide('consent'), 'primary');
  const deny = button('Cancel', () => void decide('abort'));
  async function decide(what: 'consent' | 'abort'): Promise<void> {
    messages.clear();
    allow.disabled = true;
    deny.disabled = true;
    try {
      const { redirect_to } = await call(
        what === 'consent'
          ? client.POST('/interaction/{uid}/consent', at)
          : client.POST('/interaction/{uid}/abort', at),
      );
      go(redirect_to);
    } catch (e) {
      allow.disabled = false;
      deny.disabled = false;
      messages.error(describe(e));
    }
  }
  const asked = details.scopes.filter((s) => SCOPE_WORDS[s]);
  replace(
    root,
    h('h1', null, `Allow ${details.client_name} to act for you?`),
    h('p', null, `${details.client_name} asks to:`),
    h('ul', { class: 'scopes' }, ...asked.map((s) => h('li', null, SCOPE_WORDS[s], ' ', h('code', null, s)))),
    h(
      'p',
      { class: 'muted' },
      'You can take this back at any time under "Applications with access" on your account page.',
    ),
    messages.el,
    h('div', { class: 'actions' }, allow, deny),
  );
  root.querySelector('h1')?.focus();
}

async function start(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code') ?? undefined;
  const error = params.get('error') ?? undefined;
  if (code || error) history.replaceState(null, '', location.pathname);
  let details: Details;
  try {
    details = await call(client.GET('/interaction/{uid}/details', at));
  } catch (e) {
    failure(e);
    return;
  }
  if (code || error) {
    showSignIn(details, undefined, { code, error });
    return;
  }
  if (details.prompt === 'consent') {
    showConsent(details);
    return;
  }
  // A sign-in cookie already here may do (unless the application asked for a new sign-in).
  await signIn(details);
}

void start();
