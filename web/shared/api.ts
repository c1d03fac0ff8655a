/**
 * The pages' one way to the service: the generated client of `clients/typescript` (types from the
 * committed OpenAPI document, requests through openapi-fetch), same-origin, with the `auth_token` cookie
 * as the credential and the double-submit CSRF header (section 1.1) on every unsafe request. `call`
 * gives the data of a success and throws an ApiError for any failure, whatever the surface's error
 * shape; `describe` turns one into words for a person.
 */
import { createIdentityClient, IdentityError, readCookie, unwrap } from '../../clients/typescript/src/index';

export type { Answer, FieldProblem, Query, Schema } from '../../clients/typescript/src/index';
export { roleValues, subscriptionStatusValues } from '../../clients/typescript/src/index';
export { createOAuthClientDtoScopesValues as oauthScopeValues } from '../../clients/typescript/src/index';

/** A failure of any of the four surfaces, read into one shape (the client's IdentityError). */
export const ApiError = IdentityError;
export type ApiError = IdentityError;

/** The readable cookies (`csrf_token`): the session's own are HttpOnly, out of the page's reach. */
export const cookie = (name: string): string | undefined => readCookie(name);

/** The client of the page's own origin, with the cookie session and its CSRF header. */
export const client = createIdentityClient({ csrfToken: () => readCookie('csrf_token') });

/** The data of a successful answer, or an ApiError: `const me = await call(client.GET('/api/auth/me'))`. */
export const call = unwrap;

/** Sentences for the codes a person may meet; a caller may say it better for its own context. */
const WORDS: Record<string, string> = {
  NETWORK: 'The service could not be reached. Check your connection and try again.',
  INVALID_CREDENTIALS: 'That email address or password is not right.',
  INVALID_MFA_CODE: 'That code is not right. Check it and try again.',
  TOKEN_EXPIRED: 'Your sign-in has expired. Sign in again.',
  INVALID_TOKEN: 'You are not signed in any more. Sign in again.',
  ACCOUNT_DISABLED: 'This account is disabled. Ask an administrator to enable it.',
  EMAIL_NOT_VERIFIED: 'Confirm your email address first: follow the link in the mail we sent you.',
  CSRF_TOKEN_INVALID: 'The page lost its security token. Reload the page and sign in again.',
  MFA_STEP_UP_REQUIRED:
    'This change needs a sign-in with your second factor. Sign out, then sign in again with your password and your second factor.',
  MFA_ENROLMENT_REQUIRED:
    'Your role must use two-factor authentication. Set up a second factor under "Two-factor authentication" first.',
  MFA_REQUIRED_BY_POLICY: 'Your role must keep a second factor, so the last one cannot be removed.',
  FORBIDDEN: 'You are not allowed to do that.',
  NOT_FOUND: 'That item does not exist any more. Reload the page to see the current list.',
  CONFLICT: 'That is already taken or was changed meanwhile.',
  PAYLOAD_TOO_LARGE: 'That is too large to send.',
  SIGN_IN_REQUIRED: 'Sign in with your password (and your second factor) to change this.',
  INTERNAL_ERROR: 'Something went wrong on our side. Try again in a moment.',
  SERVICE_UNAVAILABLE: 'The service is not available right now. Try again in a moment.',
};

/** A failure in words: never raw JSON, never a bare code. */
export function describe(
  e: unknown,
  overrides: Record<string, string> = {},
  fieldLabels: Record<string, string> = {},
): string {
  if (!(e instanceof ApiError)) return 'Something went wrong in this page. Reload it and try again.';
  if (overrides[e.code]) return overrides[e.code];
  if (e.code === 'RATE_LIMIT_EXCEEDED' || e.status === 429) {
    const wait = e.retryAfterSec
      ? e.retryAfterSec < 90
        ? `${e.retryAfterSec} seconds`
        : `${Math.ceil(e.retryAfterSec / 60)} minutes`
      : 'a while';
    return `Too many attempts. Wait ${wait} and try again.`;
  }
  if (e.code === 'VALIDATION_ERROR' || e.status === 400) {
    const fields = e.fields
      .filter((f) => f.message)
      .map((f) => (fieldLabels[f.name] ? `${fieldLabels[f.name]}: ` : '') + f.message.replace(/\.$/, ''));
    if (fields.length) return `Please check: ${fields.join('; ')}.`;
    return e.message ? sentence(e.message) : 'Something in the form is not right. Check it and try again.';
  }
  if (WORDS[e.code]) return WORDS[e.code];
  if (e.message) return sentence(e.message);
  return e.status >= 500 ? WORDS.INTERNAL_ERROR : `The request was refused (error ${e.status}).`;
}

const sentence = (s: string) => (/[.!?]$/.test(s) ? s : `${s}.`);
