import { ErrorCode, FieldError } from './domain-error';

export type Dialect = 'portal' | 'clinical' | 'key-token' | 'iam';

/** A failure after it has been told apart from everything else: what every dialect renders. */
export interface NormalizedError {
  status: number;
  code: ErrorCode;
  message: string;
  fields: FieldError[];
  details?: Record<string, unknown>;
}

/** IAM clients branch on numeric codes; 602 is the documented "username and password do not match". */
const IAM_CODES: Partial<Record<ErrorCode, number>> = {
  INVALID_CREDENTIALS: 602,
  /** A right password of a user with MFA on: this surface cannot carry a second step. */
  MFA_REQUIRED: 603,
  VALIDATION_ERROR: 400,
};

export const KEY_TOKEN_LOGIN_REQUIRED = 'You must be logged in to access this area';
/** The key:token surface's words for a delegated credential refused a sensitive action (API.md 12). */
export const KEY_TOKEN_SIGN_IN_REQUIRED = 'Sign in to change this';

export function renderError(dialect: Dialect, e: NormalizedError): unknown {
  switch (dialect) {
    case 'clinical':
      return {
        success: false,
        // Clinical clients show `error` to the user: a validation failure names every failing field there.
        error: e.fields.length ? e.fields.map((f) => f.message).join('; ') : e.message,
        code: e.code,
        ...(e.fields.length ? { fields: e.fields } : {}),
        // The clinical app reads what comes next (mfa_token, factors) beside the code.
        ...(e.details ?? {}),
      };
    case 'key-token': {
      if (e.status === 401 && e.code !== 'INVALID_CREDENTIALS' && e.message !== KEY_TOKEN_LOGIN_REQUIRED) {
        // The documented message first, then the reason (an expired credential is told apart from an invalid one).
        return { errors: [KEY_TOKEN_LOGIN_REQUIRED, e.message] };
      }
      if (e.code === 'SIGN_IN_REQUIRED') return { errors: [KEY_TOKEN_SIGN_IN_REQUIRED] };
      return { errors: e.fields.length ? e.fields.map((f) => `${f.name}: ${f.message}`) : [e.message] };
    }
    case 'iam': {
      const code = IAM_CODES[e.code] ?? e.status;
      return {
        error_codes: [code],
        // IAM clients match this exact sentence for every validation failure; the fields say what failed.
        message: e.code === 'VALIDATION_ERROR' ? 'Validation error.' : e.message,
        fields: e.fields.map((f) => ({ name: f.name, message: f.message, error_code: code })),
      };
    }
    case 'portal':
    default:
      return {
        error: {
          // The portal's closed list of codes has CONFLICT for every 409.
          code: e.code === 'EMAIL_EXISTS' ? 'CONFLICT' : e.code,
          message: e.message,
          ...(e.fields.length || e.details
            ? { details: { ...Object.fromEntries(e.fields.map((f) => [f.name, f.message])), ...(e.details ?? {}) } }
            : {}),
        },
      };
  }
}
