import type { Page } from 'playwright-core';
import request from 'supertest';
import { PAGE_CSP } from '../../src/pages/pages';
import { api, PASSWORD } from '../api';
import type { TestApp } from '../harness';
import { launchChromium, PHONE, screenshot, startPageApp, type BrowserHandle } from './browser';
import { alertText, expectSignedIn, fillPasswordSignIn, misbehaviour, recordRequests, type SeenRequest } from './page';

describe('the account page in a real browser (API.md 9)', () => {
  let b: BrowserHandle;
  let t: TestApp;
  let origin: string;
  let a: ReturnType<typeof api>;
  let n = 0;
  /** The requests of the pages opened by the running test. */
  let recorders: { seen: SeenRequest[]; settle(): Promise<void> }[] = [];

  beforeAll(async () => {
    ({ t, origin } = await startPageApp());
    a = api(t);
    b = await launchChromium();
  });
  afterAll(async () => {
    await b?.close();
    await t?.close();
  });
  beforeEach(() => {
    recorders = [];
  });
  // Every test also proves the page's manners: no console error, no page error, no CSP violation, only
  // documented routes, and the CSRF header on every unsafe request made with the cookie.
  afterEach(async () => {
    for (const r of recorders) await r.settle();
    expect(b.problems()).toEqual([]);
    expect(recorders.flatMap((r) => misbehaviour(r.seen))).toEqual([]);
  });

  const user = async (role = 'researcher') => {
    const email = `person${++n}@example.org`;
    await a.createUser(email, role);
    return email;
  };

  const open = async (path = '/account'): Promise<Page> => {
    const page = await b.newPage();
    recorders.push(recordRequests(page, origin));
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
});
