/**
 * The pages' one way to the service: same-origin requests to the documented routes of API.md, the
 * `auth_token` cookie as the credential, and the double-submit CSRF header (section 1.1) on every unsafe
 * request. Failures come back as an ApiError whatever the surface's error shape, and `describe` turns
 * one into words for a person.
 */

export interface FieldProblem {
  name: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldProblem[] = [],
    readonly details: Record<string, unknown> = {},
    readonly retryAfterSec?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function cookie(name: string): string | undefined {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** Reads the error body of any of the four surfaces (API.md 1-4) into one shape. */
function toApiError(status: number, body: unknown, retryAfter: string | null): ApiError {
  const retry = retryAfter && /^\d+$/.test(retryAfter) ? Number(retryAfter) : undefined;
  const b = (body ?? {}) as Record<string, unknown>;
  // Portal: {"error": {"code", "message", "details"}}
  if (b.error && typeof b.error === 'object') {
    const e = b.error as { code?: string; message?: string; details?: Record<string, unknown> };
    const details = e.details ?? {};
    const fields = Object.entries(details)
      .filter(([, v]) => typeof v === 'string')
      .map(([name, message]) => ({ name, message: message as string }));
    return new ApiError(status, e.code ?? `HTTP_${status}`, e.message ?? '', fields, details, retry);
  }
  // Clinical: {"success": false, "error": "...", "code": "..."}
  if (typeof b.error === 'string') {
    return new ApiError(status, String(b.code ?? `HTTP_${status}`), b.error, [], b, retry);
  }
  // Key:token: {"errors": ["..."]}
  if (Array.isArray(b.errors)) {
    return new ApiError(status, codeFor(status), b.errors.map(String).join(' '), [], {}, retry);
  }
  // IAM: {"error_codes": [...], "message", "fields": [{name, message}]}
  if (Array.isArray(b.error_codes)) {
    const fields = Array.isArray(b.fields) ? (b.fields as FieldProblem[]) : [];
    return new ApiError(status, codeFor(status), String(b.message ?? ''), fields, {}, retry);
  }
  return new ApiError(status, codeFor(status), '', [], {}, retry);
}

function codeFor(status: number): string {
  return (
    {
      400: 'VALIDATION_ERROR',
      401: 'INVALID_TOKEN',
      403: 'FORBIDDEN',
      404: 'NOT_FOUND',
      409: 'CONFLICT',
      429: 'RATE_LIMIT_EXCEEDED',
    }[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : `HTTP_${status}`)
  );
}

export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (!SAFE.has(method)) {
    const csrf = cookie('csrf_token');
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The service could not be reached.');
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  if (!res.ok) throw toApiError(res.status, parsed, res.headers.get('Retry-After'));
  return parsed as T;
}

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
