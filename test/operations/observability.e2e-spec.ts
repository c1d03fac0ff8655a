import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { OtlpReceiver, ReceivedSpan } from '../support/otlp-receiver';
import { parsePrometheusText } from '../support/prometheus-text';
import { freePort, ServiceProcess, spawnService, waitForHealth } from '../support/process';

const ADMIN = 'ops.admin@obs.example.org';
const PASSWORD = 'Obs-Quartz-Meadow-2931';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/**
 * What an operator watches (API.md 13), on the built service as it runs in production: Prometheus metrics
 * on a second listener, scraped and parsed here; OpenTelemetry traces sent to an OTLP/HTTP receiver
 * that this test runs and decodes; and readiness turning 503 first on a graceful stop.
 */
describe('metrics, traces and the graceful stop of the running service', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'identity-obs-'));
  const receiver = new OtlpReceiver();
  let svc: ServiceProcess;
  let metricsUrl: string;
  let databaseUrl: string;
  const seen = { access: '', refresh: '', rotated: '' };

  beforeAll(async () => {
    const url = new URL(process.env.TEST_DATABASE_URL!);
    const name = `identity_observability_w${process.env.JEST_WORKER_ID ?? '1'}`;
    const c = new Client({ connectionString: url.toString() });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.query(`CREATE DATABASE "${name}"`);
    } finally {
      await c.end();
    }
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    await receiver.start();
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}`;
    svc = spawnService(
      {
        DATABASE_URL: databaseUrl,
        DATA_DIR: dataDir,
        NODE_ENV: 'development',
        LOG_LEVEL: 'info',
        ADMIN_EMAIL: ADMIN,
        ADMIN_PASSWORD: PASSWORD,
        RATE_LIMIT_LOGIN: '3/15m',
        METRICS_PORT: String(metricsPort),
        METRICS_HOST: '127.0.0.1',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        SHUTDOWN_DRAIN: '2s',
      },
      await freePort(),
    );
    await waitForHealth(svc, 90_000);
  }, 120_000);

  afterAll(async () => {
    svc?.child.kill('SIGKILL');
    await receiver.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The log reaches the pipe on its own schedule: a line written before the first answer may come after it. */
  const saidSo = async (text: string) => {
    const deadline = Date.now() + 10_000;
    while (!svc.output().includes(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(svc.output()).toContain(text);
  };

  const login = (username: string, password: string) =>
    fetch(`${svc.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });

  it('serves Prometheus text on METRICS_PORT only: requests by route template, sign-ins, refreshes, limits, argon2, pool', async () => {
    await saidSo(`metrics on ${metricsUrl}/metrics`);
    const signedIn = await login(ADMIN, PASSWORD);
    expect(signedIn.status).toBe(200);
    const body = (await signedIn.json()) as { access_token: string; refresh_token: string; user: { id: string } };
    seen.access = body.access_token;
    seen.refresh = body.refresh_token;
    const refreshed = await fetch(`${svc.url}/api/auth/refresh`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: body.refresh_token }),
    });
    expect(refreshed.status).toBe(200);
    seen.rotated = ((await refreshed.json()) as { refresh_token: string }).refresh_token;
    expect((await login(ADMIN, 'Wrong-Password-123')).status).toBe(401);
    // An account nobody has: three wrong guesses use up its per-account budget (3/15m), the fourth is refused.
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await login('nobody@obs.example.org', `Guess-${i}-Wrong-Pw`)).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const auth = { Authorization: `Bearer ${seen.access}` };
    expect((await fetch(`${svc.url}/api/users/${body.user.id}`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${svc.url}/api/users?email=${encodeURIComponent(ADMIN)}`, { headers: auth })).status).toBe(
      200,
    );
    expect((await fetch(`${svc.url}/no/such/page/${body.user.id}`)).status).toBe(404);

    // Never on the API port; nothing but /metrics on its own port.
    expect((await fetch(`${svc.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${metricsUrl}/api/health`)).status).toBe(404);

    const res = await fetch(`${metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const scrape = parsePrometheusText(await res.text());

    expect(scrape.types.get('http_requests_total')).toBe('counter');
    expect(scrape.types.get('http_request_duration_seconds')).toBe('histogram');
    expect(scrape.sum('http_requests_total', { method: 'POST', route: '/api/auth/login', status: '200' })).toBe(1);
    expect(scrape.sum('http_requests_total', { method: 'POST', route: '/api/auth/login', status: '401' })).toBe(4);
    expect(scrape.sum('http_requests_total', { method: 'POST', route: '/api/auth/login', status: '429' })).toBe(1);
    expect(scrape.sum('http_requests_total', { method: 'GET', route: '/api/users/:id', status: '200' })).toBe(1);
    expect(scrape.sum('http_requests_total', { route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(
      scrape.sum('http_request_duration_seconds_count', { method: 'POST', route: '/api/auth/login', status: '200' }),
    ).toBe(1);
    // A sign-in costs an argon2 verification: tens of milliseconds, never under 1 ms.
    expect(
      scrape.sum('http_request_duration_seconds_bucket', { route: '/api/auth/login', status: '200', le: '0.001' }),
    ).toBe(0);

    const signIns = (outcome: string) => scrape.sum('identity_sign_ins_total', { method: 'password', outcome });
    expect(signIns('success')).toBe(1);
    expect(signIns('wrong_password')).toBe(1);
    expect(signIns('unknown_user')).toBe(3);
    expect(signIns('locked')).toBe(1);
    expect(signIns('mfa_required')).toBe(0); // present at zero, so that a rate() has a series from the start
    expect(
      scrape
        .find('identity_mfa_verifications_total')
        .map((s) => s.labels.outcome)
        .sort(),
    ).toEqual(['locked', 'success', 'wrong_code']);
    expect(scrape.sum('identity_refreshes_total', { surface: 'portal', outcome: 'success' })).toBe(1);
    expect(scrape.sum('identity_rate_limit_refusals_total', { limit: 'login' })).toBe(1);
    expect(scrape.find('identity_argon2_hashes_in_flight')).toHaveLength(1);
    expect(scrape.find('identity_argon2_hashes_queued')).toHaveLength(1);
    expect(scrape.sum('identity_db_pool_max')).toBe(20);
    expect(scrape.sum('identity_db_pool_connections')).toBeGreaterThanOrEqual(1);
    expect(
      scrape
        .find('identity_db_pool_connections')
        .map((s) => s.labels.state)
        .sort(),
    ).toEqual(['busy', 'idle']);
    expect(scrape.find('process_cpu_user_seconds_total')).toHaveLength(1);
    expect(scrape.find('nodejs_eventloop_lag_seconds')).toHaveLength(1);

    // Bounded labels: no path, email or id ever became a label value.
    for (const s of scrape.samples) {
      for (const value of Object.values(s.labels)) {
        expect(value).not.toMatch(UUID);
        expect(value).not.toContain('@');
        expect(value).not.toContain('?');
      }
    }
  });

  it('sends the spans of a sign-in to the OTLP endpoint: named by route template, with its queries, and no secret', async () => {
    await saidSo(`sending traces to ${receiver.url}`);
    const loginSpans = () =>
      receiver
        .spans()
        .filter((s) => s.name === 'POST /api/auth/login' && s.attributes['http.response.status_code'] === 200);
    // Spans leave in batches as they end: wait for the last requests of the test above too.
    const expected = ['POST /api/auth/login', 'GET /api/users/:id', 'GET /api/users'];
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const names = new Set(receiver.spans().map((s) => s.name));
      if (expected.every((n) => names.has(n)) && loginSpans().length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(receiver.contentTypes[0]).toBe('application/x-protobuf');
    const spans = receiver.spans();
    const [server] = loginSpans();
    expect(server).toBeDefined();
    expect(server.kind).toBe(2); // SERVER
    expect(server.attributes['http.route']).toBe('/api/auth/login');
    const trace = spans.filter((s) => s.traceId === server.traceId);
    const scopes = new Set(trace.map((s) => s.scope));
    expect(scopes).toContain('@opentelemetry/instrumentation-http');
    expect(scopes).toContain('@fastify/otel');
    expect(scopes).toContain('@opentelemetry/instrumentation-pg');
    const queries = trace.filter(
      (s) => s.scope === '@opentelemetry/instrumentation-pg' && s.attributes['db.query.text'],
    );
    // The statement with its placeholders ($1), never the values bound to them.
    expect(queries.some((q) => /FROM "users"[\s\S]*= \$1/.test(String(q.attributes['db.query.text'])))).toBe(true);
    // Every span of the request hangs under the server span's trace, the pg ones included.
    expect(trace.every((s) => s.spanId === server.spanId || s.parentSpanId !== '')).toBe(true);

    // Span names are templates: the request to /api/users/<id> is named by its route.
    expect(spans.some((s) => s.name === 'GET /api/users/:id')).toBe(true);
    const withQuery = spans.find((s) => s.name === 'GET /api/users');
    expect(withQuery?.attributes['url.path']).toBe('/api/users');
    expect(withQuery?.attributes['url.query']).toBeUndefined();
    // @fastify/otel's request span carries the raw URL as url.path: the exporter leaves the template.
    const fastifyRequest = spans.find(
      (s) => s.scope === '@fastify/otel' && s.attributes['http.route'] === '/api/users' && s.attributes['url.path'],
    );
    expect(fastifyRequest?.attributes['url.path']).toBe('/api/users');
    for (const s of spans) expect(s.name).not.toMatch(UUID);
    // Probes are not traced.
    expect(spans.some((s) => String(s.attributes['url.path'] ?? '').startsWith('/api/health'))).toBe(false);

    // Nothing secret in any attribute of any span, nor anywhere in the bytes that left the process.
    const secrets = [
      PASSWORD,
      ADMIN,
      encodeURIComponent(ADMIN),
      seen.access,
      seen.refresh,
      seen.rotated,
      'Wrong-Password-123',
    ];
    const everything = Buffer.concat(receiver.bodies).toString('latin1');
    for (const secret of secrets) expect(everything.includes(secret)).toBe(false);
    const values = (s: ReceivedSpan) => [
      ...Object.values(s.attributes),
      ...s.events.flatMap((e) => Object.values(e.attributes)),
    ];
    for (const s of spans) {
      for (const key of Object.keys(s.attributes))
        expect(key).not.toMatch(/password|token|secret|email|authorization|cookie/i);
      for (const v of values(s)) expect(String(v)).not.toMatch(/[^\s@]+@[^\s@]+\.[a-z]{2,}/i);
    }
  });

  it('answers readiness 503 first on SIGTERM, serves out SHUTDOWN_DRAIN, then exits 0', async () => {
    expect((await fetch(`${svc.url}/api/health/ready`)).status).toBe(200);
    svc.child.kill('SIGTERM');
    const started = Date.now();
    let ready: Response | undefined;
    while (Date.now() - started < 1500) {
      ready = await fetch(`${svc.url}/api/health/ready`);
      if (ready.status === 503) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    if (ready?.status !== 503) throw new Error(svc.output());
    expect(ready?.status).toBe(503);
    expect(await ready!.json()).toMatchObject({ status: 'stopping', down: ['service'] });
    // The API still answers meanwhile: a load balancer has time to take the instance out.
    expect((await fetch(`${svc.url}/api/health`)).status).toBe(200);
    expect(await svc.exited).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  }, 30_000);
});
