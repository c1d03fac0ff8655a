import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { Secret, TOTP } from 'otpauth';
import selfsigned from 'selfsigned';
import type { Locator, Page } from 'playwright-core';
import request from 'supertest';
import { PAGE_CSP } from '../../src/pages/pages';
import { api, decodeJwt, PASSWORD } from '../support/api';
import { ADMIN_EMAIL, ADMIN_PASSWORD, type TestApp } from '../support/harness';
import { DESKTOP, launchChromium, PHONE, SCREENSHOTS, startPageApp, type BrowserHandle } from './browser';
import { alertText, fillPasswordSignIn, provePageManners, type SeenRequest } from './page';

/** A screenshot of one panel of the console, for the README. */
async function shoot(panel: Locator, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await panel.screenshot({ path: join(SCREENSHOTS, `${name}.png`), animations: 'disabled' });
}

describe('the admin console in a real browser (API.md 9)', () => {
  let b: BrowserHandle;
  let t: TestApp;
  let origin: string;
  let a: ReturnType<typeof api>;
  let n = 0;
  const manners = provePageManners(() => b);

  beforeAll(async () => {
    // ES256, so that the signing-keys panel has keys to list and rotate.
    ({ t, origin } = await startPageApp({ JWT_ALGORITHM: 'ES256' }));
    a = api(t);
    b = await launchChromium();
  });
  afterAll(async () => {
    await b?.close();
    await t?.close();
  });

  const user = async (role = 'viewer') => {
    const email = `person${++n}@console.example.org`;
    return a.createUser(email, role);
  };

  const open = async (): Promise<{ page: Page; seen: SeenRequest[] }> => {
    const page = await b.newPage();
    const recorder = manners.record(page, origin);
    await page.goto(`${origin}/admin`);
    return { page, seen: recorder.seen };
  };

  const signedInAdmin = async (email = ADMIN_EMAIL, password = ADMIN_PASSWORD) => {
    const { page, seen } = await open();
    await fillPasswordSignIn(page, email, password);
    await page.getByRole('heading', { name: 'Admin console', level: 1 }).waitFor();
    return { page, seen };
  };

  const panel = (page: Page, name: string | RegExp) => page.getByRole('region', { name });

  /** Finds a user by email on the Users panel and opens their details. */
  const openUser = async (page: Page, email: string): Promise<Locator> => {
    const users = panel(page, 'Users');
    await users.getByLabel('Email address contains').fill(email);
    await users.getByRole('button', { name: 'Search' }).click();
    await users.getByRole('button', { name: `Open ${email}` }).click();
    const details = panel(page, `User ${email}`);
    await details.waitFor();
    return details;
  };

  const status = (where: Locator) => where.getByRole('status').first();

  it('serves /admin under the same strict Content-Security-Policy as the account page', async () => {
    const html = await request(t.url).get('/admin').expect(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.headers['content-security-policy']).toBe(PAGE_CSP);
    expect(html.headers['cache-control']).toBe('no-store');
    expect(html.text).toContain('/assets/admin.js');
    expect(html.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|<style/i);
    const js = await request(t.url).get('/assets/admin.js').expect(200);
    expect(js.headers['content-security-policy']).toBe(PAGE_CSP);
  });

  it('a non-admin who signs in is told the console is not for them, and the page asks the API for no data', async () => {
    const u = await user('researcher');
    const { page, seen } = await open();
    await fillPasswordSignIn(page, u.email, PASSWORD);
    expect(await alertText(page)).toBe(
      'This console is for administrators, and your role is researcher. Nothing here is shown to you.',
    );
    await page.getByRole('link', { name: 'Go to your account page' }).waitFor();
    await shoot(page.locator('main'), 'admin-not-for-you');
    await page.waitForTimeout(200);
    const asked = seen.map((r) => `${r.method} ${r.path}`).filter((r) => r.includes('/api/'));
    // Nothing before the form (no session cookie: nobody is there to ask about), the sign-in, who signed in;
    // nothing else.
    expect(asked).toEqual(['POST /api/auth/login', 'GET /api/auth/me']);
    expect(await page.getByRole('region').count()).toBe(0);
  });

  it('refuses to demote the last admin and says why, and the admin stays an admin', async () => {
    const { page } = await signedInAdmin();
    const me = await openUser(page, ADMIN_EMAIL);
    await me.getByLabel('New role').selectOption('viewer');
    await me.getByRole('button', { name: 'Change role' }).click();
    await me.getByRole('button', { name: 'Yes, change the role' }).click();
    expect(await alertText(page)).toBe(
      'The last active admin cannot be demoted or disabled: nobody would be left to manage the service. ' +
        'Make another user an admin first.',
    );
    await shoot(me, 'admin-last-admin');
    await me.getByRole('button', { name: 'Disable account' }).click();
    await me.getByRole('button', { name: 'Yes, disable the account' }).click();
    await me
      .getByRole('alert')
      .getByText(/last active admin/)
      .waitFor();
    const [row] = await t.db.query(`SELECT role, is_active FROM users WHERE email = $1`, [ADMIN_EMAIL]);
    expect(row).toEqual({ role: 'admin', is_active: true });
  });

  it('finds a user by email and promotes them to researcher: the old token is refused at once, a new sign-in carries the role, and the audit trail filters down to that change', async () => {
    const u = await user('viewer');
    const old = (await a.login(u.email, PASSWORD)).access_token;
    await request(t.url).get('/api/auth/me').set(a.bearer(old)).expect(200);
    const { page } = await signedInAdmin();
    const users = panel(page, 'Users');
    await users.getByLabel('Role').selectOption('viewer');
    await users.getByLabel('Email address contains').fill(u.email.toUpperCase());
    await users.getByRole('button', { name: 'Search' }).click();
    await users.getByRole('cell', { name: u.email, exact: true }).waitFor();
    expect(await users.getByRole('row').count()).toBe(2);
    await shoot(users, 'admin-users');
    await users.getByRole('button', { name: `Open ${u.email}` }).click();
    const details = panel(page, `User ${u.email}`);
    await details.getByLabel('New role').selectOption('researcher');
    await details.getByRole('button', { name: 'Change role' }).click();
    // Asked first, since it ends their sessions: Cancel changes nothing, Yes does it.
    await details
      .getByRole('group', { name: `Change the role of ${u.email}? Every session of theirs ends.` })
      .waitFor();
    await details.getByRole('button', { name: 'Cancel' }).click();
    await request(t.url).get('/api/auth/me').set(a.bearer(old)).expect(200);
    await details.getByRole('button', { name: 'Change role' }).click();
    await details.getByRole('button', { name: 'Yes, change the role' }).click();
    await details
      .getByText(`The role is now researcher. Every session of ${u.email} has ended: they sign in again to get it.`)
      .waitFor();
    await details.getByText('researcher', { exact: true }).first().waitFor();

    const refused = await request(t.url).get('/api/auth/me').set(a.bearer(old)).expect(401);
    expect(refused.body.error.code).toBe('INVALID_TOKEN');
    const fresh = await a.login(u.email, PASSWORD);
    expect(fresh.user.role).toBe('researcher');
    expect(decodeJwt(fresh.access_token).role).toBe('researcher');
    await shoot(details, 'admin-user');

    await details.getByRole('button', { name: 'Show their audit trail' }).click();
    const trail = panel(page, 'Audit trail');
    // The trail is filtered by the user's email address, which a person can read and type.
    expect(await trail.getByLabel('User (email address or id)').inputValue()).toBe(u.email);
    await trail.getByLabel('Event', { exact: true }).selectOption('role_changed');
    await trail.getByRole('button', { name: 'Filter' }).click();
    const events = trail.getByRole('list', { name: 'Events, newest first' });
    await events.getByText('Role changed from viewer to researcher').waitFor();
    expect(await events.getByRole('listitem').count()).toBe(1);
    await events.getByText(new RegExp(`user ${u.email.replace(/\./g, '\\.')}; by ${ADMIN_EMAIL}`)).waitFor();
    await shoot(trail, 'admin-audit');
  });

  it('filters the users as soon as a role is chosen, and the audit trail by an email address typed in', async () => {
    const u = await user('coordinator');
    const { page } = await signedInAdmin();
    expect(await page.title()).toBe('Admin console · Identity service');
    await page.getByRole('banner').getByText('Identity service', { exact: true }).waitFor();
    const users = panel(page, 'Users');
    await users.getByRole('cell', { name: ADMIN_EMAIL, exact: true }).waitFor();
    // No Search press: the list follows the role.
    await users.getByLabel('Role').selectOption('coordinator');
    await users.getByRole('cell', { name: u.email, exact: true }).waitFor();
    await users.getByRole('cell', { name: ADMIN_EMAIL, exact: true }).waitFor({ state: 'detached' });
    const roles = (await users.locator('tbody tr td:nth-child(2)').allInnerTexts()).map((r) => r.trim());
    expect(roles.length).toBeGreaterThan(0);
    expect(new Set(roles)).toEqual(new Set(['coordinator']));

    // Their sign-in is in the trail; the trail filtered by their address shows their events and no others.
    await a.login(u.email, PASSWORD);
    const eventsOf = async (): Promise<number> =>
      (
        await t.db.query(`SELECT count(*)::int AS count FROM audit_events WHERE user_id = $1 OR actor_id = $1`, [u.id])
      )[0].count;
    for (const until = Date.now() + 5_000; Date.now() < until && (await eventsOf()) < 2;) {
      await page.waitForTimeout(100);
    }
    const count = await eventsOf();
    expect(count).toBeGreaterThanOrEqual(2);
    const trail = panel(page, 'Audit trail');
    await trail.getByLabel('User (email address or id)').fill(u.email.toUpperCase());
    await trail.getByRole('button', { name: 'Filter' }).click();
    const events = trail.getByRole('list', { name: 'Events, newest first' });
    let lines: string[] = [];
    for (const until = Date.now() + 10_000; Date.now() < until; await page.waitForTimeout(100)) {
      lines = await events.getByRole('listitem').allInnerTexts();
      if (lines.length === Math.min(count, 10) && lines.every((l) => l.includes(u.email))) break;
    }
    expect(lines).toHaveLength(Math.min(count, 10));
    for (const line of lines) expect(line).toContain(u.email);
    expect(lines.some((l) => l.includes('Signed in'))).toBe(true);
    await trail.getByLabel('User (email address or id)').fill('nobody@nowhere.example');
    await trail.getByRole('button', { name: 'Filter' }).click();
    await trail.getByText('No user has the email address nobody@nowhere.example.').waitFor();
  });

  it("marks the admin's own session in the console, and has a navigation to every panel on a phone and a desktop", async () => {
    const { page } = await signedInAdmin();
    const nav = page.getByRole('navigation', { name: 'Panels' });
    const names = ['Users', 'Audit trail', 'Client applications', 'OAuth clients', 'SSO providers', 'Signing keys'];
    expect((await nav.getByRole('link').allInnerTexts()).map((l) => l.trim())).toEqual(names);
    // The console as a person first sees it, for docs/pages.md: its top at desktop and at phone width.
    await panel(page, 'Users').getByRole('cell', { name: ADMIN_EMAIL, exact: true }).waitFor();
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.setViewportSize(DESKTOP);
    await page.screenshot({ path: join(SCREENSHOTS, 'admin-desktop.png'), animations: 'disabled' });
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: join(SCREENSHOTS, 'admin-phone.png'), animations: 'disabled' });
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBe(0);
    for (const size of [PHONE, DESKTOP]) {
      await page.setViewportSize(size);
      for (const name of ['Signing keys', 'Audit trail', 'SSO providers']) {
        await nav.getByRole('link', { name, exact: true }).click();
        const box = await panel(page, name).boundingBox();
        expect(box && box.y >= 0 && box.y < size.height).toBe(true);
        expect(await nav.isVisible()).toBe(true);
      }
    }
    const me = await openUser(page, ADMIN_EMAIL);
    const mine = me.getByRole('listitem').filter({ hasText: 'This browser (your session in this console)' });
    await mine.waitFor();
    expect(await mine.getAttribute('class')).toContain('current');
    expect(await me.getByText('This browser (your session in this console)').count()).toBe(1);
    await mine.getByRole('button', { name: 'End session' }).click();
    await me.getByRole('group', { name: 'End your own session in this console? You will be signed out.' }).waitFor();
    await me.getByRole('button', { name: 'Cancel' }).click();
    await mine.getByRole('button', { name: 'End session' }).waitFor();
  });

  it('disables a user (they can no longer sign in) and enables them again', async () => {
    const u = await user('researcher');
    const { page } = await signedInAdmin();
    const details = await openUser(page, u.email);
    await details.getByRole('button', { name: 'Disable account' }).click();
    await details.getByRole('button', { name: 'Yes, disable the account' }).click();
    await status(details).getByText(`${u.email} is disabled: every session and credential has ended.`).waitFor();
    const login = await request(t.url).post('/api/auth/login').send({ username: u.email, password: PASSWORD });
    expect(login.status).toBe(403);
    await details.getByRole('button', { name: 'Enable account' }).click();
    await status(details).getByText(`${u.email} is enabled and can sign in again.`).waitFor();
    await a.login(u.email, PASSWORD);
  });

  /** A user with an authenticator app confirmed, and the app (each code of it used once). */
  const withTotp = async (email: string) => {
    const token = (await a.login(email, PASSWORD)).access_token;
    const enrol = await request(t.url).post('/api/auth/mfa/totp').set(a.bearer(token)).send({ name: 'Phone' });
    const totp = new TOTP({ secret: Secret.fromBase32(enrol.body.secret), digits: 6, period: 30 });
    await request(t.url)
      .post(`/api/auth/mfa/factors/${enrol.body.factor_id}/confirm`)
      .set(a.bearer(token))
      .send({ code: totp.generate() })
      .expect(200);
    return totp;
  };

  /** Puts an admin made by a test out of the way (SQL: acting on an admin with MFA on needs aal2 itself). */
  const retireAdmin = (email: string) => t.db.query(`UPDATE users SET is_active = false WHERE email = $1`, [email]);

  it("resets a user's two-factor authentication: the user then signs in with the password alone", async () => {
    const u = await user('researcher');
    await withTotp(u.email);
    const before = await request(t.url).post('/api/auth/login').send({ username: u.email, password: PASSWORD });
    expect(before.body.error.code).toBe('MFA_REQUIRED');

    // Acting on an account with MFA on needs aal2 (API.md 12): an admin with a second factor, signed in with it.
    const admin = `mfa-admin${++n}@console.example.org`;
    await a.createUser(admin, 'admin');
    const adminTotp = await withTotp(admin);
    const { page } = await open();
    await fillPasswordSignIn(page, admin, PASSWORD);
    await page.getByRole('heading', { name: 'Second step', level: 1 }).waitFor();
    // The next step's code: the current one was used up by the confirmation.
    await page
      .getByLabel('Code from your authenticator app')
      .fill(adminTotp.generate({ timestamp: Date.now() + 30_000 }));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Admin console', level: 1 }).waitFor();
    const details = await openUser(page, u.email);
    await details.getByText('on (totp; 10 recovery codes left)').waitFor();
    await details.getByRole('button', { name: 'Reset two-factor authentication' }).click();
    await details.getByRole('button', { name: 'Yes, reset it' }).click();
    await status(details)
      .getByText(/Two-factor authentication of .* is reset/)
      .waitFor();
    await details.getByText('off', { exact: true }).waitFor();
    const after = await a.login(u.email, PASSWORD);
    expect(after.user.role).toBe('researcher');
    await retireAdmin(admin);
  });

  it("lists a user's live sessions and ends one; its token is refused at once", async () => {
    const u = await user('researcher');
    const token = (await a.login(u.email, PASSWORD)).access_token;
    const { page } = await signedInAdmin();
    const details = await openUser(page, u.email);
    await details.getByText(/^Signed in .* with password/).waitFor();
    await details.getByText('No institution signs this user in.').waitFor();
    await details.getByRole('button', { name: 'End session' }).click();
    await details.getByRole('group', { name: `End this session of ${u.email}?` }).waitFor();
    await details.getByRole('button', { name: 'Yes, end the session' }).click();
    await status(details).getByText('That session has ended: it can no longer be used.').waitFor();
    await details.getByText('No live sessions.').waitFor();
    await request(t.url).get('/api/auth/me').set(a.bearer(token)).expect(401);
  });

  it('sets a subscription', async () => {
    const u = await user('doctor');
    const { page } = await signedInAdmin();
    const details = await openUser(page, u.email);
    await details.getByLabel('Subscription status').selectOption('active');
    await details.getByLabel('Ends on (empty: open-ended)').fill('2031-06-30');
    await details.getByRole('button', { name: 'Set subscription' }).click();
    await status(details).getByText('The subscription is now active.').waitFor();
    const [row] = await t.db.query(`SELECT subscription_status, subscription_ends_at FROM users WHERE id = $1`, [u.id]);
    expect(row.subscription_status).toBe('active');
    expect(new Date(row.subscription_ends_at).toISOString()).toBe('2031-06-30T23:59:59.000Z');
  });

  it('adds a client application with its token lifetime, which then signs people in on the key:token surface, and deactivates it', async () => {
    const u = await user('researcher');
    const { page } = await signedInAdmin();
    const clients = panel(page, 'Client applications');
    await clients.getByLabel('Client id').fill('field-tablet');
    await clients.getByLabel('Name', { exact: true }).fill('Field tablet');
    await clients.getByLabel('Token lifetime in minutes').fill('90');
    await clients.getByRole('button', { name: 'Add client application' }).click();
    await status(clients).getByText('Field tablet (field-tablet) is added').waitFor();
    await clients.getByText('Active; its pairs live 90 minutes').waitFor();
    await shoot(clients, 'admin-clients');

    const signIn = await request(t.url)
      .post('/users/token')
      .send({ client: 'field-tablet', email: u.email, password: PASSWORD })
      .expect(200);
    const lifetime = new Date(signIn.body.expires).getTime() - Date.now();
    expect(lifetime).toBeGreaterThan(89 * 60_000);
    expect(lifetime).toBeLessThan(91 * 60_000);
    const basic = Buffer.from(`${signIn.body.key}:${signIn.body.token}`).toString('base64');
    const whoami = await request(t.url).get('/users').set('Authorization', `Basic ${basic}`).expect(200);
    expect(JSON.stringify(whoami.body)).toContain(u.email);

    // The same id again is refused in words.
    await clients.getByLabel('Client id').fill('field-tablet');
    await clients.getByLabel('Name', { exact: true }).fill('Again');
    await clients.getByRole('button', { name: 'Add client application' }).click();
    expect(await alertText(page)).toBe('A client application with that id exists already.');

    await clients.getByRole('button', { name: 'Deactivate field-tablet' }).click();
    await status(clients).getByText('field-tablet is deactivated').waitFor();
    const refused = await request(t.url)
      .post('/users/token')
      .send({ client: 'field-tablet', email: u.email, password: PASSWORD })
      .expect(400);
    expect(refused.body.errors).toEqual(['Invalid client ID']);
  });

  it('adds a SAML identity provider, which then serves its email domain, and removes it', async () => {
    const { cert } = await Promise.resolve(
      selfsigned.generate([{ name: 'commonName', value: 'console-idp' }], { keySize: 2048 }),
    );
    const { page } = await signedInAdmin();
    const sso = panel(page, 'SSO providers');
    await sso.getByText('No identity providers yet.').waitFor();
    // The form opens with a protocol chosen, and that protocol's fields shown.
    expect(await sso.getByLabel('Protocol').inputValue()).toBe('oidc');
    expect(await sso.getByLabel('Issuer').isVisible()).toBe(true);
    expect(await sso.getByLabel('Sign-in URL of the identity provider').isVisible()).toBe(false);
    await sso.getByLabel('Protocol').selectOption('saml');
    await sso.getByLabel('Provider id').fill('example-college');
    await sso.getByLabel('Name', { exact: true }).fill('Example College');
    await sso.getByLabel('Email domains').fill('college.example, staff.college.example');
    await sso.getByLabel('Role of new users').selectOption('researcher');
    await sso.getByLabel('Sign-in URL of the identity provider').fill('http://127.0.0.1:9/sso');
    await sso.getByLabel('Entity id of the identity provider').fill('http://127.0.0.1:9/metadata');
    await sso.getByLabel('Signing certificate of the identity provider').fill(cert);
    await sso.getByRole('button', { name: 'Add identity provider' }).click();
    await status(sso).getByText('Example College (example-college) is added').waitFor();
    await sso.getByText(`ACS URL ${origin}/api/sso/example-college/acs`, { exact: false }).waitFor();
    await shoot(sso, 'admin-sso');
    const found = await request(t.url).get('/api/sso/discover?email=ada@staff.college.example').expect(200);
    expect(found.body).toMatchObject({ provider: 'example-college', name: 'Example College', type: 'saml' });

    // A certificate that is not one is refused in words, naming the field.
    await sso.getByLabel('Protocol').selectOption('saml');
    await sso.getByLabel('Provider id').fill('broken');
    await sso.getByLabel('Name', { exact: true }).fill('Broken');
    await sso.getByLabel('Email domains').fill('broken.example');
    await sso.getByLabel('Sign-in URL of the identity provider').fill('http://127.0.0.1:9/sso');
    await sso.getByLabel('Entity id of the identity provider').fill('http://127.0.0.1:9/metadata');
    await sso.getByLabel('Signing certificate of the identity provider').fill('not a certificate');
    await sso.getByRole('button', { name: 'Add identity provider' }).click();
    expect(await alertText(page)).toMatch(/^Please check: Signing certificate of the identity provider: /);

    await sso.getByRole('button', { name: 'Remove example-college' }).click();
    await status(sso).getByText('Example College is removed').waitFor();
    await request(t.url).get('/api/sso/discover?email=ada@staff.college.example').expect(404);
  });

  it('lists the signing keys and rotates them: the new key is published before it signs', async () => {
    const { page } = await signedInAdmin();
    const keys = panel(page, 'Signing keys');
    await keys.getByText('Access tokens are signed with ES256.').waitFor();
    await keys.getByText(/^active: signs now, since/).waitFor();
    await keys.getByRole('button', { name: 'Rotate the signing key now' }).click();
    await status(keys)
      .getByText(/is published and signs from/)
      .waitFor();
    await keys.getByText(/^pending: published, signs from/).waitFor();
    await shoot(keys, 'admin-signing-keys');
  });

  it('with MFA on, an admin signed in without it is told to step up, signs in again with the second factor, and then may reset MFA', async () => {
    // A second admin turns MFA on from the console's own session: the one session that outlives the change
    // (API.md 12), and an aal1 session of a user with MFA on.
    const second = `second-admin${++n}@console.example.org`;
    await a.createUser(second, 'admin');
    const { page } = await signedInAdmin(second, PASSWORD);
    const pageToken = (await page.context().cookies()).find((c) => c.name === 'auth_token')!.value;
    const enrol = await request(t.url).post('/api/auth/mfa/totp').set(a.bearer(pageToken)).send({ name: 'Phone' });
    const totp = new TOTP({ secret: Secret.fromBase32(enrol.body.secret), digits: 6, period: 30 });
    await request(t.url)
      .post(`/api/auth/mfa/factors/${enrol.body.factor_id}/confirm`)
      .set(a.bearer(pageToken))
      .send({ code: totp.generate() })
      .expect(200);
    const target = await user('researcher');
    await withTotp(target.email);

    let details = await openUser(page, target.email);
    await details.getByRole('button', { name: 'Reset two-factor authentication' }).click();
    await details.getByRole('button', { name: 'Yes, reset it' }).click();
    const said = await alertText(page);
    expect(said).toContain('This needs a sign-in with your second factor, and this session was started without it.');
    expect(said).not.toMatch(/MFA_STEP_UP_REQUIRED|[{}]/);
    await details.getByRole('button', { name: 'Sign out and sign in again' }).click();
    await page.getByText('Sign in with your password and your second factor.').waitFor();
    await fillPasswordSignIn(page, second, PASSWORD);
    await page.getByRole('heading', { name: 'Second step', level: 1 }).waitFor();
    // The next step's code: the current one was used up by the confirmation.
    await page.getByLabel('Code from your authenticator app').fill(totp.generate({ timestamp: Date.now() + 30_000 }));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Admin console', level: 1 }).waitFor();
    details = await openUser(page, target.email);
    await details.getByRole('button', { name: 'Reset two-factor authentication' }).click();
    await details.getByRole('button', { name: 'Yes, reset it' }).click();
    await status(details)
      .getByText(/Two-factor authentication of .* is reset/)
      .waitFor();
    // The second admin goes again, so that the service is back to one admin.
    await retireAdmin(second);
  });
});
