import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import request from 'supertest';
import { api } from './api';
import { startTestApp, TestApp } from './harness';

/** A free loopback port, so that APP_URL (the issuer) can name the port the service will listen on. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The service with its issuer at its own loopback address (http is allowed there outside production). */
export async function startOAuthApp(env: Record<string, string> = {}): Promise<TestApp> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  return startTestApp({ PORT: String(port), APP_URL: `http://127.0.0.1:${port}`, ...env });
}

export interface RegisteredClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
}

export async function registerClient(
  t: TestApp,
  adminToken: string,
  body: Record<string, unknown>,
): Promise<RegisteredClient> {
  const res = await request(t.url)
    .post('/api/oauth/clients')
    .set('Authorization', `Bearer ${adminToken}`)
    .send({
      name: 'Test app',
      type: 'confidential',
      redirect_uris: ['http://127.0.0.1:9999/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      scopes: ['openid', 'profile', 'email', 'offline_access', 'api:read', 'api:write'],
      ...body,
    });
  if (res.status !== 201) throw new Error(`client registration failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as RegisteredClient;
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** A browser's cookies, as far as the provider's flows need them (names and values; paths ignored). */
export class CookieJar {
  private readonly cookies = new Map<string, string>();
  take(setCookie: string[] | string | undefined): void {
    for (const line of ([] as string[]).concat(setCookie ?? [])) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (!value || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  get(name: string): string | undefined {
    return this.cookies.get(name);
  }
}

export interface AuthorizeOptions {
  clientId: string;
  redirectUri: string;
  scope: string;
  /** A sign-in access JWT of the person (what the page's cookie would carry). */
  userToken: string;
  challenge?: string;
  extra?: Record<string, string>;
  /** Consent to what is asked when asked (default true). */
  consent?: boolean;
  jar?: CookieJar;
}

/**
 * Drives an authorization request as a browser and our interaction page do, over HTTP: follows the
 * provider's redirects, signs in at the interaction with the person's sign-in credential, consents, and
 * answers the URL that the provider finally sends the browser to (the client's redirect URI).
 */
export async function authorize(t: TestApp, o: AuthorizeOptions): Promise<URL> {
  const jar = o.jar ?? new CookieJar();
  const q = new URLSearchParams({
    client_id: o.clientId,
    redirect_uri: o.redirectUri,
    response_type: 'code',
    scope: o.scope,
    state: randomBytes(8).toString('hex'),
    ...(o.challenge ? { code_challenge: o.challenge, code_challenge_method: 'S256' } : {}),
    ...o.extra,
  });
  let next = `${t.url}/oauth/auth?${q}`;
  for (let hop = 0; hop < 12; hop++) {
    const url = new URL(next, t.url);
    if (url.origin !== new URL(t.url).origin) return url;
    const res = await request(t.url)
      .get(url.pathname + url.search)
      .set('Cookie', jar.header());
    jar.take(res.headers['set-cookie']);
    if (res.status >= 300 && res.status < 400) {
      next = res.headers.location;
      continue;
    }
    const m = /^\/interaction\/([^/]+)$/.exec(url.pathname);
    if (res.status !== 200 || !m)
      throw new Error(
        `unexpected ${res.status} at ${url.pathname}: ${res.text.replace(/[\s\S]*<body>/, '').slice(0, 600)}`,
      );
    const uid = m[1];
    const details = await request(t.url).get(`/interaction/${uid}/details`).set('Cookie', jar.header()).expect(200);
    const step = details.body.prompt === 'consent' ? (o.consent === false ? 'abort' : 'consent') : 'login';
    const done = await request(t.url)
      .post(`/interaction/${uid}/${step}`)
      .set('Cookie', jar.header())
      .set('Authorization', `Bearer ${o.userToken}`);
    if (done.status !== 200) throw new Error(`${step} refused: ${done.status} ${JSON.stringify(done.body)}`);
    next = done.body.redirect_to;
  }
  throw new Error('too many redirects');
}

export function admin(t: TestApp) {
  return api(t).adminToken();
}
