/**
 * What the service counts for operators (API.md 13). This base class is the one used when METRICS_PORT
 * is unset: every method does nothing, and prom-client is never loaded. With METRICS_PORT set,
 * PrometheusMetrics (prometheus.ts) takes its place. Label values come from these closed sets only (and
 * route templates), never from a request's path, an email or an id, so that series stay few.
 */
export const SIGN_IN_METHODS = ['password', 'magic_link', 'passkey', 'sso'] as const;
export const SIGN_IN_OUTCOMES = [
  'success',
  'wrong_password',
  'unknown_user',
  'mfa_required',
  'locked',
  'rate_limited',
  'disabled',
  'unverified',
  'failure',
] as const;
export const MFA_OUTCOMES = ['success', 'wrong_code', 'locked'] as const;
export const REFRESH_SURFACES = ['portal', 'key_token'] as const;
export const REFRESH_OUTCOMES = ['success', 'invalid', 'reused'] as const;
export type SignInMethodLabel = (typeof SIGN_IN_METHODS)[number];
export type SignInOutcome = (typeof SIGN_IN_OUTCOMES)[number];
export type MfaOutcome = (typeof MFA_OUTCOMES)[number];
export type RefreshOutcome = (typeof REFRESH_OUTCOMES)[number];
export type RefreshSurface = (typeof REFRESH_SURFACES)[number];

export interface PoolState {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

export class Metrics {
  /** Whether anything is counted (METRICS_PORT is set). */
  readonly enabled: boolean = false;

  signIn(_method: SignInMethodLabel, _outcome: SignInOutcome): void {}
  mfaVerification(_outcome: MfaOutcome): void {}
  refresh(_surface: RefreshSurface, _outcome: RefreshOutcome): void {}
  rateLimited(_limit: string): void {}
  /** An argon2 hash or verification was handed to the thread pool / came back from it. */
  argon2Started(): void {}
  argon2Finished(): void {}
  httpRequest(_method: string, _route: string, _status: number, _seconds: number): void {}
  /** The Prometheus text of every metric. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: 'text/plain', body: '' };
  }
}

/** For code built outside Nest's container (unit specs, scripts): counts nothing. */
export const NO_METRICS = new Metrics();
