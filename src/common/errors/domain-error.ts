/**
 * The closed set of failures that services report. Each surface's filter turns a code into its own
 * status and body; services never throw HTTP exceptions.
 */
export const ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  BAD_REQUEST: 400,
  INVALID_CLIENT: 400,
  /** The key:token surface answers a wrong email/password pair with 400, not 401. */
  INVALID_LOGIN: 400,
  INVALID_REFRESH_TOKEN: 400,
  INVALID_VERIFICATION_TOKEN: 400,
  /** A single sign-on callback whose state names no live attempt of this browser (API.md 7). */
  INVALID_STATE: 400,
  INVALID_CREDENTIALS: 401,
  UNAUTHENTICATED: 401,
  TOKEN_EXPIRED: 401,
  INVALID_TOKEN: 401,
  /** A right first factor of a user with MFA on: the second step is next (API.md 6). */
  MFA_REQUIRED: 401,
  INVALID_MFA_CODE: 401,
  FORBIDDEN: 403,
  ACCOUNT_DISABLED: 403,
  EMAIL_NOT_VERIFIED: 403,
  SUBSCRIPTION_REQUIRED: 403,
  CSRF_TOKEN_INVALID: 403,
  MFA_STEP_UP_REQUIRED: 403,
  MFA_ENROLMENT_REQUIRED: 403,
  /** A delegated credential (API key, IAM token, key:token pair) tried a sensitive action (API.md 12). */
  SIGN_IN_REQUIRED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  EMAIL_EXISTS: 409,
  MFA_REQUIRED_BY_POLICY: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMIT_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface FieldError {
  name: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields: FieldError[] = [],
    /** What a client needs next (the `mfa_token` of MFA_REQUIRED); rendered by the portal and clinical dialects. */
    readonly details?: Record<string, unknown>,
    /** Seconds after which the refusal ends (a 429's `Retry-After`, API.md section 0). */
    readonly retryAfterSec?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}
