import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import {
  Metrics,
  MFA_OUTCOMES,
  MfaOutcome,
  REFRESH_OUTCOMES,
  REFRESH_SURFACES,
  SIGN_IN_METHODS,
  SIGN_IN_OUTCOMES,
  PoolState,
  RefreshOutcome,
  RefreshSurface,
  SignInMethodLabel,
  SignInOutcome,
} from './metrics';

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Request latency buckets, in seconds: most answers take a few ms, a sign-in (argon2) 20 to 100. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The metrics of API.md 13 in a registry of their own (not prom-client's global one, so that several
 * applications in one process, as in the tests, do not collide). Gauges that describe a state (the
 * argon2 work, the database pool) are read when scraped, not kept up to date on every request.
 */
export class PrometheusMetrics extends Metrics {
  override readonly enabled = true;
  readonly registry = new Registry();
  private argon2Pending = 0;

  private readonly requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from the request to its answer, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly signIns = new Counter({
    name: 'identity_sign_ins_total',
    help: 'Sign-in attempts by method and outcome',
    labelNames: ['method', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly mfa = new Counter({
    name: 'identity_mfa_verifications_total',
    help: 'Second-factor verifications of a sign-in, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly refreshes = new Counter({
    name: 'identity_refreshes_total',
    help: 'Refresh token presentations, by surface and outcome',
    labelNames: ['surface', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly refusals = new Counter({
    name: 'identity_rate_limit_refusals_total',
    help: 'Requests refused by a rate limit (429), by limit',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

  constructor(
    pool: () => PoolState | undefined,
    /** libuv's thread pool, where argon2 runs: hashes beyond it wait for a thread. */
    threads = Number(process.env.UV_THREADPOOL_SIZE) || 4,
  ) {
    super();
    collectDefaultMetrics({ register: this.registry });
    // Every series of the closed label sets exists from the start, at zero, so that rate() and alerts
    // on a rare outcome (locked, reused) have a series before the first event.
    for (const method of SIGN_IN_METHODS)
      for (const outcome of SIGN_IN_OUTCOMES) this.signIns.inc({ method, outcome }, 0);
    for (const outcome of MFA_OUTCOMES) this.mfa.inc({ outcome }, 0);
    for (const surface of REFRESH_SURFACES)
      for (const outcome of REFRESH_OUTCOMES) this.refreshes.inc({ surface, outcome }, 0);
    const pending = () => this.argon2Pending;
    new Gauge({
      name: 'identity_argon2_hashes_in_flight',
      help: 'argon2 hashes and verifications running on the thread pool now',
      registers: [this.registry],
      collect() {
        this.set(Math.min(pending(), threads));
      },
    });
    new Gauge({
      name: 'identity_argon2_hashes_queued',
      help: 'argon2 hashes and verifications waiting for a thread of the pool',
      registers: [this.registry],
      collect() {
        this.set(Math.max(0, pending() - threads));
      },
    });
    new Gauge({
      name: 'identity_db_pool_connections',
      help: 'Connections of the database pool, busy or idle',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const p = pool();
        this.set({ state: 'busy' }, p ? p.total - p.idle : 0);
        this.set({ state: 'idle' }, p?.idle ?? 0);
      },
    });
    new Gauge({
      name: 'identity_db_pool_waiting',
      help: 'Queries waiting for a connection of the database pool',
      registers: [this.registry],
      collect() {
        this.set(pool()?.waiting ?? 0);
      },
    });
    new Gauge({
      name: 'identity_db_pool_max',
      help: 'The size limit of the database pool',
      registers: [this.registry],
      collect() {
        this.set(pool()?.max ?? 0);
      },
    });
  }

  override signIn(method: SignInMethodLabel, outcome: SignInOutcome): void {
    this.signIns.inc({ method, outcome });
  }
  override mfaVerification(outcome: MfaOutcome): void {
    this.mfa.inc({ outcome });
  }
  override refresh(surface: RefreshSurface, outcome: RefreshOutcome): void {
    this.refreshes.inc({ surface, outcome });
  }
  override rateLimited(limit: string): void {
    this.refusals.inc({ limit });
  }
  override argon2Started(): void {
    this.argon2Pending++;
  }
  override argon2Finished(): void {
    this.argon2Pending--;
  }
  override httpRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method: HTTP_METHODS.has(method) ? method : 'OTHER', route, status: String(status) };
    this.requests.inc(labels);
    this.latency.observe(labels, seconds);
  }
  override async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
