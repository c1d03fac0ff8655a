/**
 * What the service counts for operators (API.md 13). This base class is the one used when METRICS_PORT
 * is unset: every method does nothing, and prom-client is never loaded. With METRICS_PORT set,
 * PrometheusMetrics (prometheus.ts) takes its place. Label values come from these closed sets only (and
 * route templates), never from a request's path, an email or an id, so that series stay few.
 */
export type SignInMethodLabel = 'password' | 'magic_link' | 'passkey' | 'sso';
export type SignInOutcome =
  | 'success'
  | 'wrong_password'
  | 'unknown_user'
  | 'mfa_required'
  | 'locked'
  | 'rate_limited'
  | 'disabled'
  | 'unverified'
  | 'failure';
export type MfaOutcome = 'success' | 'wrong_code' | 'locked';
export type RefreshOutcome = 'success' | 'invalid' | 'reused';
export type RefreshSurface = 'portal' | 'key_token';

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
