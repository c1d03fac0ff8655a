/**
 * What the account page and the admin console share around their own content: the sign-in view,
 * signing out, the way a failure is told, fetching the caller (with one renewal of an expired access
 * cookie), and the start, which takes an institution's return (the one-time code leaves the address
 * bar first).
 */
import { ApiError, call, client, cookie, describe } from './api';
import { failWith } from './controls';
import { h, replace, setTitle, type Child } from './dom';
import { signInView } from './signin';

export interface PageOptions<Me> {
  /** The page's heading, over an error that stops it. */
  heading: string;
  /** The document's title on the sign-in view. */
  signInTitle: string;
  /** Draws the signed-in page for the caller of `GET /api/auth/me`. */
  render: (me: Me) => void;
  /** What to show instead of a plain message for a refusal of `GET /api/auth/me` (besides 401). */
  refusal?: (e: ApiError) => Child[] | undefined;
}

export function pageShell<Me>(opts: PageOptions<Me>) {
  const app = document.getElementById('app') as HTMLElement;
  const returnUrl = `${location.origin}${location.pathname}`;

  /** After a change of view, keyboard and screen-reader users start again from its heading. */
  const focusHeading = (): void => {
    const heading = app.querySelector('h1');
    if (!heading || !document.hasFocus()) return;
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  };

  const showSignIn = (notice?: string, ssoReturn?: { code?: string; error?: string }): void => {
    setTitle(opts.signInTitle);
    replace(app, signInView({ onSignedIn: () => void show(), returnUrl, notice, ssoReturn }));
    focusHeading();
  };

  const signOut = async (notice = 'You have signed out.'): Promise<void> => {
    try {
      await call(client.POST('/api/auth/logout'));
    } catch {
      // Already signed out (an ended session): the sign-in form is where the person goes either way.
    }
    showSignIn(notice);
  };

  const show = async (renewed = false): Promise<void> => {
    // No session cookie at all (the CSRF cookie is set beside the session's and is readable): a signed-out
    // visit goes straight to the form, without a request that could only be refused.
    if (!cookie('csrf_token')) {
      showSignIn();
      return;
    }
    let me: Me;
    try {
      me = (await call(client.GET('/api/auth/me'))) as Me;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        // The access cookie lives as long as its token; the refresh cookie (and the CSRF cookie beside
        // it) outlive it, so an expired sign-in is renewed once (POST /api/auth/refresh in cookie mode).
        if (!renewed && cookie('csrf_token')) {
          try {
            await call(client.POST('/api/auth/refresh'));
            return show(true);
          } catch {
            // Not renewable (ended, reused, expired): the person signs in again.
          }
        }
        showSignIn();
        return;
      }
      const instead = e instanceof ApiError ? opts.refusal?.(e) : undefined;
      replace(
        app,
        h('h1', null, opts.heading),
        ...(instead ?? [h('p', { class: 'error', role: 'alert' }, describe(e))]),
      );
      return;
    }
    opts.render(me);
    focusHeading();
  };

  const fail = failWith({
    signedOut: (notice) => showSignIn(notice),
    stepUp: () => void signOut('Sign in with your password and your second factor.'),
  });

  const start = (): void => {
    const params = new URLSearchParams(location.search);
    const code = params.get('code') ?? undefined;
    const error = params.get('error') ?? undefined;
    if (code || error) {
      // The one-time code leaves the address bar (and the history) before anything else happens.
      history.replaceState(null, '', location.pathname);
      showSignIn(undefined, { code, error });
      return;
    }
    void show();
  };

  return { app, showSignIn, signOut, show, fail, start };
}
