import { createServer, type Server } from 'node:http';
import request from 'supertest';
import { api, decodeJwt, PASSWORD } from '../support/api';
import { ADMIN_EMAIL, ADMIN_PASSWORD, type TestApp } from '../support/harness';
import { freePort, registerClient } from '../support/oauth';
import { AuthenticatorApp } from './authenticator';
import { launchChromium, screenshot, startPageApp, type BrowserHandle } from './browser';
import { fillPasswordSignIn } from './page';

type OpenIdClient = typeof import('openid-client');

/**
 * The OAuth provider's pages in Chromium (API.md 15): a relying party (openid-client, in this process)
 * sends the browser to our authorization endpoint; a person signs in on our page (the account page's
 * own sign-in, second step included), consents, and comes back to the relying party with a code; then
 * takes the application's access back on the account page.
 */
describe('OAuth sign-in and consent in a real browser (API.md 15)', () => {
  let b: BrowserHandle;
  let t: TestApp;
  let origin: string;
  let oc: OpenIdClient;
  let h: ReturnType<typeof api>;
  let rp: Server;
  let rpPort: number;
  const arrivals: string[] = [];
  let n = 0;

  beforeAll(async () => {
    oc = await import('openid-client');
    ({ t, origin } = await startPageApp());
    h = api(t);
    b = await launchChromium();
    rpPort = await freePort();
    // The relying party's callback: it only records where the browser arrived.
    rp = createServer((req, res) => {
      if (req.url?.startsWith('/callback')) arrivals.push(`http://127.0.0.1:${rpPort}${req.url}`);
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end('<!doctype html><title>Back at the application</title><h1>Back at the application</h1>');
    });
    await new Promise<void>((r) => rp.listen(rpPort, '127.0.0.1', r));
  });
  afterAll(async () => {
    await b?.close();
    await new Promise((r) => rp?.close(r));
    await t?.close();
  });

  const relyingParty = async (body: Record<string, unknown> = {}) => {
    const redirect = `http://127.0.0.1:${rpPort}/callback`;
    const client = await registerClient(t, await h.adminToken(), {
      name: 'Lab notebook',
      redirect_uris: [redirect],
      ...body,
    });
    const config = await oc.discovery(
      new URL(origin),
      client.client_id,
      { client_secret: client.client_secret },
      oc.ClientSecretBasic(client.client_secret!),
      {
        execute: [oc.allowInsecureRequests],
      },
    );
    const start = async (params: Record<string, string> = {}) => {
      const verifier = oc.randomPKCECodeVerifier();
      const state = oc.randomState();
      const url = oc.buildAuthorizationUrl(config, {
        redirect_uri: redirect,
        scope: 'openid email api:read',
        code_challenge: await oc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        ...params,
      });
      return { url, verifier, state };
    };
    const finish = async (arrived: string, verifier: string, state: string) =>
      oc.authorizationCodeGrant(config, new URL(arrived), { pkceCodeVerifier: verifier, expectedState: state });
    return { client, config, start, finish };
  };

  const person = async () => {
    const email = `oauth-person${++n}@example.org`;
    const u = await h.createUser(email, 'researcher');
    return { ...u, email };
  };

  it('signs in on our page, asks for consent naming the client and scopes, returns a code, and revokes from the account page', async () => {
    const me = await person();
    const app = await relyingParty();
    const { url, verifier, state } = await app.start();
    const page = await b.newPage();
    await page.goto(url.href);
    await page.getByRole('heading', { name: 'Sign in to continue to Lab notebook' }).waitFor();
    await screenshot(page, 'oauth-sign-in');
    await fillPasswordSignIn(page, me.email, PASSWORD);
    await page.getByRole('heading', { name: 'Allow Lab notebook to act for you?' }).waitFor();
    await page.getByText('See your email address').waitFor();
    await page.getByText('Read your data in this service').waitFor();
    await screenshot(page, 'oauth-consent');
    await page.getByRole('button', { name: 'Allow Lab notebook' }).click();
    await page.getByRole('heading', { name: 'Back at the application' }).waitFor();
    const arrived = arrivals.at(-1)!;
    const tokens = await app.finish(arrived, verifier, state);
    expect(tokens.claims()).toMatchObject({ sub: me.id, iss: origin, acr: 'aal1' });
    await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);

    // The same browser is signed in to the account page, which lists the application.
    await page.goto(`${origin}/account`);
    const apps = page.getByRole('region', { name: 'Applications with access' });
    await apps.getByText('Lab notebook', { exact: true }).waitFor();
    await screenshot(apps, 'oauth-applications');
    await apps.getByRole('button', { name: 'Remove access of Lab notebook' }).click();
    await apps.getByText('Lab notebook no longer has access: its tokens stopped working.').waitFor();
    await new Promise((r) => setTimeout(r, 1100));
    await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(401);
    expect(b.problems()).toEqual([]);
    await page.context().close();
  });

  it('asks an MFA user for the second step on our page, and skips consent for a first-party client', async () => {
    const me = await person();
    const token = (await h.login(me.email, PASSWORD)).access_token;
    const enrol = (
      await request(t.url)
        .post('/api/auth/mfa/totp')
        .set('Authorization', `Bearer ${token}`)
        .send({ name: 'Phone' })
        .expect(201)
    ).body;
    const authenticator = new AuthenticatorApp(enrol.secret);
    await request(t.url)
      .post(`/api/auth/mfa/factors/${enrol.factor_id}/confirm`)
      .set('Authorization', `Bearer ${token}`)
      .send({ code: await authenticator.code() })
      .expect(200);
    const app = await relyingParty({ name: 'Portal', first_party: true });
    const { url, verifier, state } = await app.start({ acr_values: 'aal2' });
    const page = await b.newPage();
    await page.goto(url.href);
    await fillPasswordSignIn(page, me.email, PASSWORD);
    await page.getByRole('heading', { name: 'Second step', level: 1 }).waitFor();
    await page.getByLabel('Code from your authenticator app').fill(await authenticator.code());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Back at the application' }).waitFor();
    const tokens = await app.finish(arrivals.at(-1)!, verifier, state);
    expect(tokens.claims()).toMatchObject({ sub: me.id, acr: 'aal2' });
    expect(decodeJwt(tokens.id_token!).amr).toEqual(expect.arrayContaining(['pwd']));
    expect(b.problems()).toEqual([]);
    await page.context().close();
  });

  it('registers an OAuth client in the admin console, shows its secret once as text, and disables it', async () => {
    const page = await b.newPage();
    await page.goto(`${origin}/admin`);
    await fillPasswordSignIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    const panel = page.getByRole('region', { name: 'OAuth clients' });
    await panel.getByLabel('Application name').fill('Data warehouse');
    await panel.getByLabel('Redirect URIs').fill(`http://127.0.0.1:${rpPort}/warehouse`);
    await panel.getByLabel('Scope api:read').check();
    await panel.getByRole('button', { name: 'Register OAuth client' }).click();
    await panel
      .getByText('Data warehouse is registered.')
      .waitFor({ timeout: 5000 })
      .catch(async () => {
        throw new Error(await panel.innerText());
      });
    const secret = (
      await panel.getByLabel('The client secret of Data warehouse (shown only now: copy it)').innerText()
    ).trim();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [row] = await t.db.query(
      `SELECT client_id, secret_hash, scopes FROM oauth_clients WHERE name = 'Data warehouse'`,
    );
    expect(row.secret_hash).not.toContain(secret);
    expect(row.scopes).toEqual(['openid', 'profile', 'email', 'api:read']);
    await screenshot(panel, 'admin-oauth-clients');
    await panel.getByRole('button', { name: 'I have copied the secret' }).click();
    await panel.getByRole('button', { name: 'Disable Data warehouse' }).click();
    await panel.getByText('Data warehouse is disabled: its codes and tokens stopped working.').waitFor();
    const [after] = await t.db.query(`SELECT disabled_at FROM oauth_clients WHERE client_id = $1`, [row.client_id]);
    expect(after.disabled_at).not.toBeNull();
    expect(b.problems()).toEqual([]);
    await page.context().close();
  });

  it('says in words why a request cannot go on (an unregistered redirect URI)', async () => {
    const app = await relyingParty({ name: 'Tricky' });
    const { url } = await app.start();
    url.searchParams.set('redirect_uri', `http://127.0.0.1:${rpPort}/callback/..;/evil`);
    const page = await b.newPage();
    await page.goto(url.href);
    await page.getByRole('heading', { name: 'Sign-in cannot continue' }).waitFor();
    await page.getByText('The application asked to send you to an address that is not registered for it.').waitFor();
    expect(arrivals.some((a) => a.includes('evil'))).toBe(false);
    expect(b.problems()).toEqual([]);
    await page.context().close();
  });
});
