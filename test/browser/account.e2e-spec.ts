import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import request from 'supertest';
import { PAGE_CSP } from '../../src/pages/pages';
import { api, PASSWORD } from '../support/api';
import type { TestApp } from '../support/harness';
import { launchChromium, PHONE, screenshot, startPageApp, type BrowserHandle } from './browser';
import { AuthenticatorApp } from './authenticator';
import { alertText, expectSignedIn, fillPasswordSignIn, provePageManners } from './page';

describe('the account page in a real browser (API.md 9)', () => {
  let b: BrowserHandle;
  let t: TestApp;
  let origin: string;
  let a: ReturnType<typeof api>;
  let n = 0;
  const manners = provePageManners(() => b);

  beforeAll(async () => {
    ({ t, origin } = await startPageApp());
    a = api(t);
    b = await launchChromium();
  });
  afterAll(async () => {
    await b?.close();
    await t?.close();
  });

  const user = async (role = 'researcher') => {
    const email = `person${++n}@example.org`;
    await a.createUser(email, role);
    return email;
  };

  const open = async (path = '/account'): Promise<Page> => {
    const page = await b.newPage();
    manners.record(page, origin);
    await page.goto(`${origin}${path}`);
    return page;
  };

  it('serves /account and its assets under a strict Content-Security-Policy, with no inline script or style', async () => {
    const html = await request(t.url).get('/account').expect(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.headers['content-security-policy']).toBe(PAGE_CSP);
    expect(PAGE_CSP).toContain("script-src 'self'");
    expect(PAGE_CSP).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(html.headers['x-frame-options']).toBe('DENY');
    expect(html.headers['cache-control']).toBe('no-store');
    expect(html.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html.text).not.toMatch(/\sstyle=|<style/i);
    expect(html.text).not.toMatch(/https?:\/\//);
    const js = await request(t.url).get('/assets/account.js').expect(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['content-security-policy']).toBe(PAGE_CSP);
    const css = await request(t.url).get('/assets/style.css').expect(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    // Only the built files are served: anything else under /assets/ is the API's ordinary 404.
    const missing = await request(t.url).get('/assets/../package.json');
    expect(missing.status).toBe(404);
    await request(t.url).get('/assets/nothing.js').expect(404);
    // The API keeps its own policy.
    const me = await request(t.url).get('/api/auth/me');
    expect(me.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('catches a Content-Security-Policy violation in the page (so that the suite would see one of ours)', async () => {
    const page = await open();
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    // In the page's own world, as an injected script would try it.
    const blocked = await page.evaluate(`(() => {
      const style = document.createElement('style');
      style.textContent = 'body { color: red }';
      document.head.append(style);
      return getComputedStyle(document.body).color;
    })()`);
    expect(blocked).not.toBe('rgb(255, 0, 0)');
    await page.waitForTimeout(100);
    expect(b.problems().some((p) => /CSP violation: style-src/.test(p))).toBe(true);
  });

  it('signs in with a password and shows the profile and the session in use, at desktop and phone width', async () => {
    const email = await user();
    const page = await open();
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    await screenshot(page, 'sign-in-desktop');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'sign-in-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
    await fillPasswordSignIn(page, email, PASSWORD);
    await expectSignedIn(page);
    await page.getByText(`Signed in as ${email}`).waitFor();
    const sessions = page.getByRole('region', { name: 'Where you are signed in' });
    await sessions.getByText('This browser (the session in use)').waitFor();
    await page.getByRole('region', { name: 'API keys' }).getByText('You have no API keys.').waitFor();
    await screenshot(page, 'account-desktop');
    await page.setViewportSize(PHONE);
    // Readable at 375 px: nothing is wider than the screen.
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBe(0);
    await screenshot(page, 'account-phone');
    // The cookie session is the API's: the page's auth_token cookie is HttpOnly, out of the page's reach.
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'auth_token')?.httpOnly).toBe(true);
    expect(await page.evaluate('document.cookie')).not.toContain('auth_token');
  });

  it('a signed-out visit shows the sign-in form with the product name, asks the API nothing, and leaves nothing on the console', async () => {
    const page = await b.newPage();
    const recorder = manners.record(page, origin);
    // Every console line of the page, even the refused requests that the suite otherwise lets pass.
    const said: string[] = [];
    page.on('console', (msg) => said.push(`${msg.type()}: ${msg.text()}`));
    await page.goto(`${origin}/account`);
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    await page.getByRole('banner').getByText('Identity service', { exact: true }).waitFor();
    expect(await page.title()).toBe('Sign in · Identity service');
    await page.waitForTimeout(300);
    expect(said).toEqual([]);
    expect(recorder.seen.filter((r) => r.path.startsWith('/api/'))).toEqual([]);
  });

  it('has a navigation to every section, which reaches a section in one step on a phone and on a desktop', async () => {
    const email = await user();
    const page = await signIn(email);
    await expectSignedIn(page);
    expect(await page.title()).toBe('Your account · Identity service');
    await page.getByRole('banner').getByText('Identity service', { exact: true }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Sections of your account' });
    const sections = [
      'Profile',
      'Password',
      'Where you are signed in',
      'Two-factor authentication',
      'Passkeys',
      'API keys',
      'Applications with access',
    ];
    expect((await nav.getByRole('link').allInnerTexts()).map((l) => l.trim())).toEqual(sections);
    for (const size of [PHONE, { width: 1280, height: 900 }]) {
      await page.setViewportSize(size);
      for (const name of ['API keys', 'Password', 'Two-factor authentication']) {
        // One tap: the link is on screen (the bar stays in view), and the section comes into view.
        await nav.getByRole('link', { name, exact: true }).click();
        const box = await page.getByRole('region', { name }).boundingBox();
        expect(box && box.y >= 0 && box.y < size.height).toBe(true);
        expect(await nav.isVisible()).toBe(true);
      }
    }
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBe(0);
  });

  it('says a wrong password in words, never as JSON, and signs in with the keyboard alone', async () => {
    const email = await user();
    const page = await open();
    await fillPasswordSignIn(page, email, 'Wrong-Password-1');
    const said = await alertText(page);
    expect(said).toBe('That email address or password is not right.');
    expect(said).not.toMatch(/[{}]|INVALID_CREDENTIALS/);
    // Keyboard only: the field with focus, Tab to the next, Enter to send.
    await page.getByLabel('Email or username').focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type(email);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Control+A');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await expectSignedIn(page);
  });

  const signIn = async (email: string, password = PASSWORD): Promise<Page> => {
    const page = await open();
    await fillPasswordSignIn(page, email, password);
    return page;
  };

  /** Sets up TOTP on the page as a person does: the secret read off the page, the first code confirmed. */
  const enrolTotp = async (page: Page, name = 'Phone') => {
    const mfa = page.getByRole('region', { name: 'Two-factor authentication' });
    await mfa.getByLabel('Name for the authenticator app').fill(name);
    await mfa.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const qr = mfa.getByRole('img', { name: 'QR code for your authenticator app' });
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/(svg\+xml|png)/);
    const secret = (await mfa.getByLabel('Or type this secret key into the app').innerText()).trim();
    expect(secret).toMatch(/^[A-Z2-7]{16,}=*$/);
    const app = new AuthenticatorApp(secret);
    await mfa.getByLabel('Code from your authenticator app').fill(await app.code());
    await mfa.getByRole('button', { name: 'Confirm' }).click();
    const codes = page.getByRole('region', { name: 'Your recovery codes' }).getByRole('listitem');
    await codes.first().waitFor();
    const recoveryCodes = (await codes.allInnerTexts()).map((c) => c.trim());
    return { app, recoveryCodes };
  };

  const signOut = async (page: Page) => {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
  };

  it('sets up an authenticator app from the secret the page shows, and shows the ten recovery codes once', async () => {
    const email = await user();
    const page = await signIn(email);
    await expectSignedIn(page);
    const mfa = page.getByRole('region', { name: 'Two-factor authentication' });
    await mfa.getByText('Two-factor authentication is off.').waitFor();
    await mfa.getByLabel('Name for the authenticator app').fill('Phone');
    await mfa.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await mfa.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
    await screenshot(mfa, 'two-factor-setup');
    // A wrong first code is said in words, and nothing is turned on.
    await mfa.getByLabel('Code from your authenticator app').fill('000000');
    await mfa.getByRole('button', { name: 'Confirm' }).click();
    expect(await alertText(mfa)).toBe('That code is not right. Check it and try again.');
    const secret = (await mfa.getByLabel('Or type this secret key into the app').innerText()).trim();
    const app = new AuthenticatorApp(secret);
    await mfa.getByLabel('Code from your authenticator app').fill(await app.code());
    await mfa.getByRole('button', { name: 'Confirm' }).click();
    const region = page.getByRole('region', { name: 'Your recovery codes' });
    await region.getByRole('listitem').first().waitFor();
    const codes = (await region.getByRole('listitem').allInnerTexts()).map((c) => c.trim());
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    // Once on the page, not twice (a list, and a button that copies them all without showing them again).
    for (const code of codes) expect(await page.getByText(code, { exact: true }).count()).toBe(1);
    expect(await page.getByText(codes[0]).count()).toBe(1);
    await region.getByRole('button', { name: 'Copy all the codes' }).waitFor();
    await mfa.getByText('Two-factor authentication is on: signing in needs', { exact: false }).waitFor();
    await mfa.getByText('Authenticator app: Phone').waitFor();
    await screenshot(region, 'recovery-codes');
    // Shown once: after "saved", and on a fresh load, they are gone from the page.
    await region.getByRole('button', { name: 'I have saved my recovery codes' }).click();
    await region.waitFor({ state: 'detached' });
    await page.reload();
    await page.getByText('You have 10 unused recovery codes.').waitFor();
    expect(await page.getByText(codes[0]).count()).toBe(0);
  });

  it('asks for the second factor at sign-in: a wrong code is said in words, the right one signs in at aal2', async () => {
    const email = await user();
    const page = await signIn(email);
    await expectSignedIn(page);
    const { app } = await enrolTotp(page);
    // MFA came on during an aal1 session: changing factors now needs a step-up, explained in words.
    await page.getByRole('button', { name: 'Make new recovery codes' }).click();
    const mfa = page.getByRole('region', { name: 'Two-factor authentication' });
    expect(await alertText(mfa)).toContain(
      'This needs a sign-in with your second factor, and this session was started without it.',
    );
    await mfa.getByRole('button', { name: 'Sign out and sign in again' }).click();
    await page.getByText('Sign in with your password and your second factor.').waitFor();
    await fillPasswordSignIn(page, email, PASSWORD);
    await page.getByRole('heading', { name: 'Second step', level: 1 }).waitFor();
    expect(await page.getByLabel('Authenticator app: Phone').isChecked()).toBe(true);
    await screenshot(page, 'second-step');
    await page.getByLabel('Code from your authenticator app').fill(app.wrongCode());
    await page.getByRole('button', { name: 'Verify' }).click();
    const said = await alertText(page);
    expect(said).toBe('That code is not right. Check it and try again.');
    expect(said).not.toMatch(/[{}]|INVALID_MFA_CODE/);
    await page.getByLabel('Code from your authenticator app').fill(await app.code());
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectSignedIn(page);
    // Signed in with both factors: the same change now goes through.
    await page.getByRole('button', { name: 'Make new recovery codes' }).click();
    await page.getByRole('region', { name: 'Your recovery codes' }).waitFor();
    await page.getByText('New recovery codes are made; the old ones no longer work.').waitFor();
  });

  it('signs in with a recovery code, which then works no more', async () => {
    const email = await user();
    const page = await signIn(email);
    await expectSignedIn(page);
    const { recoveryCodes } = await enrolTotp(page);
    for (const attempt of ['first', 'second'] as const) {
      await signOut(page);
      await fillPasswordSignIn(page, email, PASSWORD);
      await page.getByRole('heading', { name: 'Second step', level: 1 }).waitFor();
      await page.getByLabel('A recovery code').check();
      await page.getByLabel('Recovery code', { exact: true }).fill(recoveryCodes[3]);
      await page.getByRole('button', { name: 'Verify' }).click();
      if (attempt === 'first') {
        await expectSignedIn(page);
        await page.getByText('You have 9 unused recovery codes.').waitFor();
      } else {
        expect(await alertText(page)).toBe('That code is not right. Check it and try again.');
      }
    }
  });

  it('names an authenticator app left unnamed "Authenticator app", on the page and at the second step', async () => {
    const email = await user();
    const page = await signIn(email);
    await expectSignedIn(page);
    const { app } = await enrolTotp(page, '');
    const mfa = page.getByRole('region', { name: 'Two-factor authentication' });
    await mfa.getByRole('button', { name: 'I have saved my recovery codes' }).click();
    await mfa.getByText('Authenticator app', { exact: true }).waitFor();
    expect(await page.getByText('Authenticator app: Authenticator app').count()).toBe(0);
    await signOut(page);
    await fillPasswordSignIn(page, email, PASSWORD);
    await page.getByRole('heading', { name: 'Second step', level: 1 }).waitFor();
    expect(await page.getByText('Authenticator app: Authenticator app').count()).toBe(0);
    await page.getByLabel('Code from your authenticator app').fill(await app.code());
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectSignedIn(page);
  });

  it('removes the authenticator app after a sign-in with it, which turns two-factor authentication off', async () => {
    const email = await user();
    const page = await signIn(email);
    await expectSignedIn(page);
    const { app } = await enrolTotp(page);
    await signOut(page);
    await fillPasswordSignIn(page, email, PASSWORD);
    await page.getByLabel('Code from your authenticator app').fill(await app.code());
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectSignedIn(page);
    await page.getByRole('button', { name: 'Remove Phone' }).click();
    await page.getByText('That factor is removed.').waitFor();
    await page.getByText('Two-factor authentication is off.').waitFor();
    await signOut(page);
    await fillPasswordSignIn(page, email, PASSWORD);
    await expectSignedIn(page);
  });

  it('sets up codes by email from the page, and signs in with a code it sends when asked', async () => {
    const email = await user();
    const page = await signIn(email);
    await expectSignedIn(page);
    const mfa = page.getByRole('region', { name: 'Two-factor authentication' });
    await mfa.getByRole('button', { name: 'Use codes sent to my email' }).click();
    const codeOf = async (already: number) => {
      const mail = await t.smtp.waitFor(email, (m) => t.smtp.to(email).indexOf(m) >= already);
      return /\b(\d{6})\b/.exec(mail.text)![1];
    };
    await mfa.getByLabel('Code from the email').fill(await codeOf(0));
    await mfa.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('region', { name: 'Your recovery codes' }).waitFor();
    await mfa.getByText('Codes by email', { exact: true }).first().waitFor();
    await signOut(page);
    await fillPasswordSignIn(page, email, PASSWORD);
    await page.getByRole('heading', { name: 'Second step', level: 1 }).waitFor();
    const sent = t.smtp.to(email).length;
    await page.getByRole('button', { name: 'Send me a code by email' }).click();
    await page.getByText('A code is on its way by email.').waitFor();
    await page.getByLabel('Code from the email').fill(await codeOf(sent));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectSignedIn(page);
  });

  it('sets up codes by text message from the page, and signs in with a code sent to the phone', async () => {
    const email = await user();
    const phone = `+4477009${String(100000 + n).slice(-5)}`;
    const page = await signIn(email);
    await expectSignedIn(page);
    // Without SMS_WEBHOOK_URL each text message is a file in DATA_DIR/sms (the phone, for this test).
    const inbox = join(t.dataDir, 'sms');
    const texts = () =>
      existsSync(inbox)
        ? readdirSync(inbox)
            .filter((f) => f.endsWith('.txt'))
            .sort()
        : [];
    // The service creates the file, then writes it: a reader may find it empty for a moment.
    const codeAfter = async (already: number) => {
      for (let i = 0; i < 200; i++) {
        const name = texts()[already];
        const text = name ? readFileSync(join(inbox, name), 'utf8') : '';
        const code = /\n\n[^]*?\b(\d{6})\b/.exec(text)?.[1];
        if (code) {
          expect(text).toContain(`To: ${phone}`);
          return code;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('no text message arrived');
    };
    const mfa = page.getByRole('region', { name: 'Two-factor authentication' });
    await mfa.getByLabel('Mobile number').fill('07700 900123');
    await mfa.getByRole('button', { name: 'Send a code to this number' }).click();
    expect(await alertText(mfa)).toBe('Enter the number in international form, starting with + and the country code.');
    const before = texts().length;
    await mfa.getByLabel('Mobile number').fill(phone);
    await mfa.getByRole('button', { name: 'Send a code to this number' }).click();
    await mfa.getByLabel('Code from the text message').fill(await codeAfter(before));
    await mfa.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('region', { name: 'Your recovery codes' }).waitFor();
    await signOut(page);
    await fillPasswordSignIn(page, email, PASSWORD);
    await page.getByRole('heading', { name: 'Second step', level: 1 }).waitFor();
    const sent = texts().length;
    await page.getByRole('button', { name: 'Send me a code by text message' }).click();
    await page.getByText('A code is on its way by text message.').waitFor();
    await page.getByLabel('Code from the text message').fill(await codeAfter(sent));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectSignedIn(page);
  });

  it('renews an expired sign-in with the refresh cookie, and not once every session has ended', async () => {
    const email = await user();
    const page = await signIn(email);
    await expectSignedIn(page);
    // The access cookie lives as long as its token: gone, as after 24 hours.
    await page.context().clearCookies({ name: 'auth_token' });
    await page.reload();
    await expectSignedIn(page);
    expect((await page.context().cookies()).some((c) => c.name === 'auth_token')).toBe(true);
    await request(t.url)
      .post('/api/auth/logout-all')
      .set(a.bearer((await a.login(email, PASSWORD)).access_token));
    await page.context().clearCookies({ name: 'auth_token' });
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
  });

  it('ends another session (opened by an API login) from the list, and the API then refuses its token', async () => {
    const email = await user();
    const other = await a.login(email, PASSWORD);
    await request(t.url).get('/api/auth/me').set(a.bearer(other.access_token)).expect(200);
    const page = await signIn(email);
    await expectSignedIn(page);
    const sessions = page.getByRole('region', { name: 'Where you are signed in' });
    const another = sessions.getByRole('listitem').filter({ hasText: 'Another session' });
    await another.waitFor();
    await another.getByRole('button', { name: 'End session' }).click();
    await sessions.getByText('That session has ended: it can no longer be used.').waitFor();
    expect(await another.count()).toBe(0);
    await expectRefused(() => request(t.url).get('/api/auth/me').set(a.bearer(other.access_token)));
    // The page's own session goes on.
    await page.reload();
    await expectSignedIn(page);
  });

  it('ends every session with "End all sessions", this one too', async () => {
    const email = await user();
    const other = await a.login(email, PASSWORD);
    const page = await signIn(email);
    await expectSignedIn(page);
    await page.getByRole('button', { name: 'End all sessions' }).click();
    await page.getByText('Every session has ended, this one too.').waitFor();
    await expectRefused(() => request(t.url).get('/api/auth/me').set(a.bearer(other.access_token)));
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
  });

  it('creates an API key shown once as text, which works over the API until it is deleted on the page', async () => {
    const email = await user();
    const page = await signIn(email);
    await expectSignedIn(page);
    const keys = page.getByRole('region', { name: 'API keys' });
    await keys.getByLabel('Name of the new key').fill('Analysis script');
    await keys.getByLabel('Expires after (days)').fill('30');
    await keys.getByRole('button', { name: 'Create key' }).click();
    const shown = keys.getByLabel('Your new key “Analysis script” (shown only now: copy it)');
    const key = (await shown.innerText()).trim();
    expect(key.length).toBeGreaterThan(20);
    const me = await request(t.url).get('/api/auth/me').set('X-API-Key', key).expect(200);
    expect(me.body.email).toBe(email);
    await keys.getByRole('listitem').filter({ hasText: 'Analysis script' }).waitFor();
    await screenshot(keys, 'api-key-created');
    await keys.getByRole('button', { name: 'I have copied the key' }).click();
    expect(await keys.getByText(key).count()).toBe(0);
    await keys.getByRole('button', { name: 'Delete key Analysis script' }).click();
    await keys.getByText('The key “Analysis script” is deleted: it no longer works.').waitFor();
    await keys.getByText('You have no API keys.').waitFor();
    await expectRefused(() => request(t.url).get('/api/auth/me').set('X-API-Key', key));
  });

  it('says in words what is wrong with a new API key, and with a new password', async () => {
    const email = await user();
    const page = await signIn(email);
    await expectSignedIn(page);
    const keys = page.getByRole('region', { name: 'API keys' });
    await keys.getByRole('button', { name: 'Create key' }).click();
    const said = await alertText(keys);
    expect(said).toMatch(/^Please check: Name: /);
    const pw = page.getByRole('region', { name: 'Password' });
    await pw.getByLabel('Current password').fill('Not-My-Password-1');
    await pw.getByLabel('New password', { exact: true }).fill('Brand-New-Pass-42');
    await pw.getByLabel('New password again').fill('Brand-New-Pass-42');
    await pw.getByRole('button', { name: 'Change password' }).click();
    expect(await alertText(pw)).toMatch(/Current password: /);
    await pw.getByLabel('New password', { exact: true }).fill('short');
    await pw.getByLabel('New password again').fill('short');
    await pw.getByLabel('Current password').fill(PASSWORD);
    await pw.getByRole('button', { name: 'Change password' }).click();
    expect(await alertText(pw)).toMatch(/^Please check: New password: /);
  });

  it('changes the password with the current one; the new one signs in and the old one no longer does', async () => {
    const email = await user();
    const page = await signIn(email);
    await expectSignedIn(page);
    const pw = page.getByRole('region', { name: 'Password' });
    await pw.getByLabel('Current password').fill(PASSWORD);
    await pw.getByLabel('New password', { exact: true }).fill('Brand-New-Pass-42');
    await pw.getByLabel('New password again').fill('Brand-New-Pass-42');
    await pw.getByRole('button', { name: 'Change password' }).click();
    await pw.getByText('Your password is changed.').waitFor();
    await request(t.url).post('/api/auth/login').send({ username: email, password: PASSWORD }).expect(401);
    await request(t.url).post('/api/auth/login').send({ username: email, password: 'Brand-New-Pass-42' }).expect(200);
  });

  it('changes the email address on the profile, and says so in words when the address is taken', async () => {
    const email = await user();
    const taken = await user();
    const page = await signIn(email);
    await expectSignedIn(page);
    const profile = page.getByRole('region', { name: 'Profile' });
    await profile.getByLabel('New email address').fill(taken);
    await profile.getByRole('button', { name: 'Change email address' }).click();
    expect(await alertText(profile)).toBe('That email address belongs to another account.');
    const fresh = `renamed${n}@example.org`;
    await profile.getByLabel('New email address').fill(fresh);
    await profile.getByRole('button', { name: 'Change email address' }).click();
    // API.md 12: the address changes when the link mailed to it is opened.
    await profile.getByText(`We sent a link to ${fresh}: your email address changes when you open it.`).waitFor();
    const mail = await t.smtp.waitFor(fresh, (m) => m.subject === 'Confirm your new email address');
    const token = /token=([A-Za-z0-9_-]{43})/.exec(mail.text)![1];
    await request(t.url).get(`/api/auth/email/confirm?token=${token}`).expect(200);
    await request(t.url).post('/api/auth/login').send({ username: fresh, password: PASSWORD }).expect(200);
  });

  it('asks for a sign-in link for a patient, says it is on its way, and the mail goes out', async () => {
    const patient = `patient${++n}@example.org`;
    await a.createUser(patient, 'patient', null);
    const page = await open();
    await page.getByLabel('Email address for a sign-in link').fill(patient);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page
      .getByText(`If ${patient} belongs to a patient or caregiver account, a sign-in link is on its way.`, {
        exact: false,
      })
      .waitFor();
    const mail = await t.smtp.waitFor(patient);
    expect(mail.text).toContain(`${t.config.portalUrl}/auth?token=`);
    await page.getByLabel('Email address for a sign-in link').fill('not an address');
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    expect(await alertText(page)).toBe('Enter a whole email address, such as name@example.org.');
  });

  it('says in words that no institution sign-in is set up for an address', async () => {
    const page = await open();
    await page.getByLabel('Email address at your institution').fill('someone@no-institution.example.org');
    await page.getByRole('button', { name: 'Continue to my institution' }).click();
    expect(await alertText(page)).toBe('No institution sign-in is set up for that address.');
  });
});

/** A credential refused by the API (revocation reaches every instance within a second: API.md 0). */
async function expectRefused(send: () => request.Test): Promise<void> {
  const until = Date.now() + 2000;
  for (;;) {
    const res = await send();
    if (res.status === 401) return;
    if (Date.now() > until) throw new Error(`still accepted: ${res.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
