import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestApp, TestApp } from './harness';
import { freePort } from './process';

/**
 * The SSO suites run the real AppModule in-process (startTestApp), like every other suite: openid-client
 * is ESM-only, and Jest loads it by require(esm) on Node 24.9+. The identity providers are real too:
 * test/support/idp/*.mjs, child processes on loopback, each a provider of its own as an institution's would be.
 */

export const CLIENT_ID = 'identity-service';
export const CLIENT_SECRET = 'idp-client-secret-for-tests-0123456789';
export const TENANT_A = '11111111-1111-4111-8111-111111111111';
export const TENANT_B = '22222222-2222-4222-8222-222222222222';
export const OIDC_PROVIDER_IDS = ['generic', 'google', 'entra', 'entra-single', 'hostile', 'generic-two'];

export interface Child {
  child: ChildProcess;
  url: string;
  output: () => string;
}

export function startChild(script: string, args: unknown): Promise<Child> {
  let out = '';
  const child = spawn(process.execPath, [join(__dirname, 'idp', script), JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${out}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], output: () => out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}:\n${out}`)));
  });
}

export interface SsoStack {
  /** The service, in-process on a loopback port. */
  svc: TestApp;
  idp: Child;
  /** The SAML IdP (test/support/idp/saml-idp.mjs), for the provider registered as `saml`. */
  samlIdp: Child;
  /** Where the portal would be (nothing listens: the browser stops when it is sent there). */
  portal: string;
  /** An origin of SSO_REDIRECT_ORIGINS. */
  otherPortal: string;
  adminToken: string;
  /** The service's DATA_DIR: without SMTP_URL its mail is written to `mail/*.txt` there. */
  dataDir: string;
  close(): Promise<void>;
}

/**
 * One request to the service as an API client would make it (no cookies, redirects not followed): the body
 * parsed as JSON where it is JSON, else the text.
 */
export async function callApi(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
  cookie?: string,
) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(cookie ? { cookie } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    redirect: 'manual',
  });
  const text = await res.text();
  let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, body: json, headers: res.headers, text };
}

/**
 * `servesPage`: the service's own account page (/account, API.md 9) is where the browser comes back, so
 * the service's origin is one of SSO_REDIRECT_ORIGINS too (the browser suite).
 */
export async function startSsoStack(
  env: Record<string, string> = {},
  { servesPage = false }: { servesPage?: boolean } = {},
): Promise<SsoStack> {
  const [svcPort, idpPort, portalPort, otherPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const svcUrl = `http://127.0.0.1:${svcPort}`;
  const idp = await startChild('oidc-idp.mjs', {
    port: idpPort,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: OIDC_PROVIDER_IDS.map((id) => `${svcUrl}/api/sso/${id}/callback`),
    tenants: [TENANT_A, TENANT_B],
  });
  const samlIdp = await startChild('saml-idp.mjs', {
    port: await freePort(),
    spEntityId: `${svcUrl}/api/sso/saml/metadata`,
    acsUrl: `${svcUrl}/api/sso/saml/acs`,
  });
  const portal = `http://127.0.0.1:${portalPort}/app`;
  const otherPortal = `http://127.0.0.1:${otherPort}`;
  let svc: TestApp;
  try {
    svc = await startTestApp({
      PORT: String(svcPort),
      APP_URL: svcUrl,
      PORTAL_URL: portal,
      SSO_REDIRECT_ORIGINS: servesPage ? `${otherPortal},${svcUrl}` : otherPortal,
      LOG_LEVEL: 'warn',
      // No SMTP server: the service writes its mail to DATA_DIR/mail/*.txt, which the suites read.
      SMTP_URL: '',
      ...env,
    });
  } catch (e) {
    idp.child.kill('SIGKILL');
    samlIdp.child.kill('SIGKILL');
    throw e;
  }
  const login = await fetch(`${svc.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
  });
  const adminToken = ((await login.json()) as { access_token: string }).access_token;
  return {
    svc,
    idp,
    samlIdp,
    portal,
    otherPortal,
    adminToken,
    dataDir: svc.dataDir,
    close: async () => {
      idp.child.kill('SIGTERM');
      samlIdp.child.kill('SIGTERM');
      await svc.close();
    },
  };
}

export async function control(idp: Child, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${idp.url}/control`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`control: ${res.status}`);
}

export async function jwksFetches(idp: Child): Promise<Record<string, number>> {
  return ((await (await fetch(`${idp.url}/stats`)).json()) as { jwks: Record<string, number> }).jwks;
}

interface Cookie {
  name: string;
  value: string;
  host: string;
  path: string;
  httpOnly: boolean;
  sameSite?: string;
}

/**
 * A browser as far as a sign-in needs one: a cookie jar per host and path, redirects followed one by one,
 * and the HTML forms that the providers show (the login form, the SAML auto-post form) filled and posted.
 */
export class Browser {
  readonly cookies: Cookie[] = [];
  /** Every URL visited, in order. */
  readonly visited: string[] = [];

  cookieHeader(url: URL): string {
    return this.cookies
      .filter((c) => c.host === url.host && url.pathname.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  cookie(name: string): Cookie | undefined {
    return this.cookies.find((c) => c.name === name);
  }

  store(url: URL, res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const attr = (n: string) => attrs.find((a) => a.toLowerCase().startsWith(n));
      const path = attr('path=')?.slice(5) ?? '/';
      const i = this.cookies.findIndex((c) => c.name === name && c.host === url.host && c.path === path);
      if (i >= 0) this.cookies.splice(i, 1);
      const expired = /max-age=0\b/i.test(line) || /expires=thu, 01 jan 1970/i.test(line);
      if (!expired) {
        this.cookies.push({
          name,
          value,
          host: url.host,
          path,
          httpOnly: attrs.some((a) => a.toLowerCase() === 'httponly'),
          sameSite: attr('samesite=')?.slice(9),
        });
      }
    }
  }

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const u = new URL(url);
    this.visited.push(u.href);
    const headers: Record<string, string> = {};
    const cookie = this.cookieHeader(u);
    if (cookie) headers.cookie = cookie;
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(u, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      headers,
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
      redirect: 'manual',
    });
    this.store(u, res);
    return res;
  }

  /**
   * Goes to `url` and on, as a person signing in would, until the browser is sent to `stopAt` (the
   * portal). `login` is what the person types into a provider's login form. Returns where it ended.
   */
  async signIn(url: string, stopAt: string[], login?: string): Promise<URL> {
    let next: { url: string; form?: Record<string, string> } = { url };
    for (let hop = 0; hop < 30; hop++) {
      if (stopAt.some((s) => next.url.startsWith(s))) return new URL(next.url);
      const res = await this.request(next.url, { form: next.form });
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        next = { url: new URL(location, next.url).href };
        continue;
      }
      const html = await res.text();
      const form = parseForm(html);
      if (res.status !== 200 || !form) {
        throw new Error(`stuck at ${next.url}: ${res.status} ${html.slice(0, 500)}`);
      }
      if ('login' in form.fields) form.fields.login = login ?? '';
      if ('password' in form.fields) form.fields.password = 'any password';
      next = { url: new URL(form.action, next.url).href, form: form.fields };
    }
    throw new Error('too many hops');
  }
}

const unescape = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

export function parseForm(html: string): { action: string; fields: Record<string, string> } | null {
  const form = /<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return null;
  const fields: Record<string, string> = {};
  for (const m of form[2].matchAll(/<input\b([^>]*)>/gi)) {
    const name = /\bname="([^"]*)"/i.exec(m[1])?.[1];
    if (!name) continue;
    fields[name] = unescape(/\bvalue="([^"]*)"/i.exec(m[1])?.[1] ?? '');
  }
  return { action: unescape(form[1]), fields };
}

export function decodeJwt(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}
