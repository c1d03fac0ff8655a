import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Locator, type Page } from 'playwright-core';
import { buildWebPages } from './build';
import { freePort } from '../support/process';
import { startTestApp, type TestApp } from '../support/harness';

/** Debian's Chromium, installed by apt-get (`.ci/run` does it when missing); never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** The switches the suite runs Chromium with, and nothing else but the three that make it headless and driven. */
export const CHROMIUM_SWITCHES = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Where the suite's pictures go: an ignored folder, so that `npm test` never rewrites tracked files.
 * `npm run screenshots` (UPDATE_SCREENSHOTS=1) writes the committed ones in docs/screenshots instead.
 */
export const SCREENSHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? join(__dirname, '..', '..', 'docs', 'screenshots')
    : join(__dirname, '..', '..', 'test-output', 'screenshots');
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 375, height: 812 };

/**
 * One Chromium for a suite file, each test in a context of its own (its own cookies). Everything the
 * pages say on the console as an error, every uncaught exception and every Content-Security-Policy
 * violation is collected; `problems()` hands them over for the test to assert there are none.
 */
export interface BrowserHandle {
  browser: Browser;
  newContext(): Promise<BrowserContext>;
  newPage(context?: BrowserContext): Promise<Page>;
  /** Console errors, page errors and CSP violations seen since the last call; the list is emptied. */
  problems(): string[];
  close(): Promise<void>;
}

/**
 * Chrome reports every failed fetch on the console ("Failed to load resource: ... 401"); the pages
 * expect such answers (a sign-in form on 401, a wrong code) and say them in words, so those lines alone
 * are not problems. Everything else on the error console is.
 */
const EXPECTED_HTTP_ERROR =
  /^Failed to load resource: the server responded with a status of (400|401|403|404|409|429)\b/;

export async function launchChromium(): Promise<BrowserHandle> {
  // A missing browser fails the suite (it is not skipped): CI installs it, so a missing one is a broken setup.
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does it)`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'identity-chromium-'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // Playwright's own long list of switches is left out: these are all of them.
    ignoreDefaultArgs: true,
    args: [
      ...CHROMIUM_SWITCHES,
      '--headless',
      `--user-data-dir=${profile}`,
      '--remote-debugging-pipe',
      '--no-startup-window',
    ],
    timeout: 30_000,
  });
  const seen: string[] = [];
  const contexts: BrowserContext[] = [];
  const watch = (page: Page) => {
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !EXPECTED_HTTP_ERROR.test(msg.text())) seen.push(`console: ${msg.text()}`);
    });
    page.on('pageerror', (e) => seen.push(`page error: ${e.message}`));
  };
  const newContext = async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    // Runs before the page's own scripts; a violation of the page's policy is reported here too, in
    // case Chrome's own console line about it changes its words.
    await context.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (e) => {
        console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline code'));
      });`,
    });
    context.on('page', watch);
    contexts.push(context);
    return context;
  };
  return {
    browser,
    newContext,
    async newPage(context?: BrowserContext) {
      return (context ?? (await newContext())).newPage();
    },
    problems() {
      return seen.splice(0);
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * The service for a browser suite: the pages freshly built into dist/web, and the service on a port
 * chosen first, so that its configuration can name the origin the browser uses
 * (`http://localhost:<port>`: a WebAuthn relying party id must be a host name, never an IP address).
 */
export async function startPageApp(env: Record<string, string> = {}): Promise<{ t: TestApp; origin: string }> {
  await buildWebPages();
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const t = await startTestApp({
    PORT: String(port),
    PORTAL_URL: origin,
    APP_URL: origin,
    WEBAUTHN_RP_ID: 'localhost',
    WEBAUTHN_ORIGINS: origin,
    SSO_REDIRECT_ORIGINS: origin,
    ...env,
  });
  return { t, origin };
}

/** A virtual authenticator of the kind a phone or a laptop has (resident keys, user verification), or a plain security key. */
export async function addVirtualAuthenticator(
  page: Page,
  { userVerification = true } = {},
): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: userVerification
      ? {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
        }
      : // A plain security key (no PIN, no fingerprint, no room for resident keys): it cannot verify the person.
        { protocol: 'ctap2', transport: 'usb', hasResidentKey: false, hasUserVerification: false },
  });
  return { cdp, authenticatorId };
}

/** A picture for the README (docs/screenshots/<name>.png with `npm run screenshots`): a whole page, or one part of it. */
export async function screenshot(what: Page | Locator, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  if ('goto' in what) await what.screenshot({ path, fullPage: true, animations: 'disabled' });
  else await what.screenshot({ path, animations: 'disabled' });
}
