import type { Locator, Page, Request } from 'playwright-core';

/**
 * The routes of API.md that the pages may call, and the pages' own files. A request to anything else
 * fails the test: the pages are clients of the documented contract and nothing more.
 */
const DOCUMENTED: [string, RegExp][] = [
  ['GET', /^\/(account|admin)\/?$/],
  ['GET', /^\/assets\/[\w.-]+$/],
  ['POST', /^\/api\/auth\/(login|logout|logout-all|magic-link|refresh)$/],
  ['GET', /^\/api\/auth\/(me|sessions|mfa)$/],
  ['DELETE', /^\/api\/auth\/sessions\/[\w-]+$/],
  ['POST', /^\/api\/auth\/mfa\/(totp|email|sms|recovery-codes|challenge|verify)$/],
  ['POST', /^\/api\/auth\/mfa\/factors\/[\w-]+\/confirm$/],
  ['DELETE', /^\/api\/auth\/mfa\/factors\/[\w-]+$/],
  ['GET', /^\/api\/auth\/passkeys$/],
  ['POST', /^\/api\/auth\/passkeys\/(register|login)\/(options|verify)$/],
  ['DELETE', /^\/api\/auth\/passkeys\/[\w-]+$/],
  ['GET', /^\/api\/api-keys$/],
  ['POST', /^\/api\/api-keys$/],
  ['DELETE', /^\/api\/api-keys\/[\w-]+$/],
  ['GET', /^\/api\/sso\/discover$/],
  ['GET', /^\/api\/sso\/[\w-]+\/login$/],
  ['POST', /^\/api\/sso\/token$/],
  // Not called by the page: the institution sends the browser there, and it sends the browser back.
  ['GET', /^\/api\/sso\/[\w-]+\/callback$/],
  ['PATCH', /^\/users$/],
  // The admin console's (API.md 1.4, 3, 10 and the routes added for the console).
  ['GET', /^\/api\/users(\/[\w-]+(\/(sessions|sso-links))?)?$/],
  ['PATCH', /^\/api\/users\/[\w-]+(\/(role|subscription))?$/],
  ['DELETE', /^\/api\/users\/[\w-]+\/(mfa|sessions(\/[\w-]+)?)$/],
  ['GET', /^\/api\/audit$/],
  ['GET', /^\/api\/clients$/],
  ['POST', /^\/api\/clients$/],
  ['PATCH', /^\/api\/clients\/[\w.-]+$/],
  ['GET', /^\/api\/sso\/providers$/],
  ['POST', /^\/api\/sso\/providers$/],
  ['DELETE', /^\/api\/sso\/providers\/[\w-]+$/],
  ['GET', /^\/api\/admin\/signing-keys$/],
  ['POST', /^\/api\/admin\/signing-keys\/rotate$/],
  ['POST', /^\/v1\/auth\/password\/change\/?$/],
  // The OAuth provider (API.md 15): its clients (admin console), consents (account page), and the
  // routes of an authorization request's page.
  ['GET', /^\/api\/oauth\/(clients|grants)$/],
  ['POST', /^\/api\/oauth\/clients(\/[\w-]+\/secret)?$/],
  ['DELETE', /^\/api\/oauth\/(clients|grants)\/[\w-]+$/],
  ['GET', /^\/interaction\/[\w-]+(\/details)?$/],
  ['POST', /^\/interaction\/[\w-]+\/(login|consent|abort)$/],
];

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface SeenRequest {
  method: string;
  path: string;
  csrfHeader?: string;
  csrfCookie?: string;
}

/**
 * Records every request a page makes to its own origin, with the CSRF header it carried and the
 * `csrf_token` cookie the browser sent along, so that a test can prove the page's manners.
 */
export function recordRequests(page: Page, origin: string): { seen: SeenRequest[]; settle(): Promise<void> } {
  const seen: SeenRequest[] = [];
  const pending: Promise<void>[] = [];
  page.on('request', (req: Request) => {
    const url = new URL(req.url());
    if (url.origin !== origin) return;
    pending.push(
      req.allHeaders().then((headers) => {
        const cookie = /(?:^|;\s*)csrf_token=([^;]+)/.exec(headers['cookie'] ?? '')?.[1];
        seen.push({
          method: req.method(),
          path: url.pathname,
          csrfHeader: headers['x-csrf-token'],
          csrfCookie: cookie ? decodeURIComponent(cookie) : undefined,
        });
      }),
    );
  });
  return { seen, settle: async () => void (await Promise.all(pending)) };
}

/** What a recorded list of requests did wrong: an undocumented route, or an unsafe request without its CSRF header. */
export function misbehaviour(seen: SeenRequest[]): string[] {
  const wrong: string[] = [];
  for (const r of seen) {
    if (!DOCUMENTED.some(([m, p]) => m === r.method && p.test(r.path)))
      wrong.push(`undocumented ${r.method} ${r.path}`);
    if (UNSAFE.has(r.method) && r.csrfCookie && r.csrfHeader !== r.csrfCookie) {
      wrong.push(`${r.method} ${r.path} without the CSRF header`);
    }
  }
  return wrong;
}

/** Signs in on the page's form with a password, as a person does. */
export async function fillPasswordSignIn(page: Page, identifier: string, password: string): Promise<void> {
  await page.getByLabel('Email or username').fill(identifier);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

export async function expectSignedIn(page: Page): Promise<void> {
  await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor();
}

/** The text of the alert the page shows (errors are announced with role=alert). */
export async function alertText(within: Page | Locator): Promise<string> {
  const alert = within.getByRole('alert').first();
  await alert.waitFor();
  return (await alert.innerText()).trim();
}

/**
 * Makes every test of the enclosing `describe` also prove the page's manners: no console error, no page
 * error, no CSP violation, only documented routes, and the CSRF header on every unsafe request made with
 * the cookie. Returns `record`, which records a page's requests to an origin for that check.
 */
export function provePageManners(browser: () => { problems(): string[] }): {
  record(page: Page, origin: string): { seen: SeenRequest[]; settle(): Promise<void> };
} {
  let recorders: { seen: SeenRequest[]; settle(): Promise<void> }[] = [];
  beforeEach(() => {
    recorders = [];
  });
  afterEach(async () => {
    for (const r of recorders) await r.settle();
    expect(browser().problems()).toEqual([]);
    expect(recorders.flatMap((r) => misbehaviour(r.seen))).toEqual([]);
  });
  return {
    record(page, origin) {
      const recorder = recordRequests(page, origin);
      recorders.push(recorder);
      return recorder;
    },
  };
}
