import type { Page } from 'playwright-core';
import { ADMIN_EMAIL } from '../support/harness';
import { callApi, CLIENT_ID, CLIENT_SECRET, control, startSsoStack, type SsoStack } from '../support/sso-harness';
import { AuthenticatorApp } from './authenticator';
import { launchChromium, type BrowserHandle } from './browser';
import { buildWebPages } from './build';
import { alertText, expectSignedIn, provePageManners } from './page';

/**
 * "Sign in with your institution" on the account page (API.md 7, 9), against a real OpenID provider on
 * loopback (oidc-provider, test/support/idp/oidc-idp.mjs) and the service in-process, as the SSO suites run it.
 */
describe('institution sign-in through the account page in a real browser (API.md 7, 9)', () => {
  let b: BrowserHandle;
  let s: SsoStack;
  const manners = provePageManners(() => b);

  beforeAll(async () => {
    await buildWebPages();
    s = await startSsoStack({}, { servesPage: true });
    const reg = await callApi(
      s.svc.url,
      'POST',
      '/api/sso/providers',
      {
        id: 'generic',
        type: 'oidc',
        name: 'University of Example',
        issuer: `${s.idp.url}/generic`,
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        domains: ['uni.example'],
        default_role: 'researcher',
      },
      s.adminToken,
    );
    if (reg.status !== 201) throw new Error(`provider registration: ${reg.status} ${JSON.stringify(reg.body)}`);
    await control(s.idp, {
      accounts: {
        'ada@uni.example': { email: 'ada@uni.example', email_verified: true, given_name: 'Ada', family_name: 'L' },
        'grace@uni.example': { email: 'grace@uni.example', email_verified: true, given_name: 'Grace' },
      },
    });
    b = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await s?.close();
  });

  const open = async (): Promise<Page> => {
    const context = await b.newContext();
    // The test provider's login page (oidc-provider's development one) asks for a web font; these
    // machines reach no such host, and the page is not ours: it gets an empty style sheet.
    await context.route('https://fonts.googleapis.com/**', (r) =>
      r.fulfill({ status: 200, contentType: 'text/css', body: '' }),
    );
    const page = await b.newPage(context);
    manners.record(page, s.svc.url);
    await page.goto(`${s.svc.url}/account`);
    return page;
  };

  /** From the page to the institution's own login form, and what the person types there. */
  const viaInstitution = async (page: Page, login: string, { signedInThere = false } = {}) => {
    await page.getByLabel('Email address at your institution').fill(login);
    await page.getByRole('button', { name: 'Continue to my institution' }).click();
    // Still signed in at the institution (its own session cookie), the person is sent straight back.
    if (signedInThere) return;
    await page.getByPlaceholder('Enter any login').fill(login);
    await page.getByPlaceholder('and password').fill('anything');
    await page.getByRole('button', { name: /sign-in/i }).click();
  };

  it('sends the person to the institution and back, and signs in with the one-time code (never left in the address bar)', async () => {
    const page = await open();
    await viaInstitution(page, 'ada@uni.example');
    await expectSignedIn(page);
    await page.getByText('Signed in as ada@uni.example').waitFor();
    expect(new URL(page.url()).search).toBe('');
    await page
      .getByRole('region', { name: 'Where you are signed in' })
      .getByText('This browser (the session in use)')
      .waitFor();
  });

  it('asks for the second factor after the institution when the account has one', async () => {
    const page = await open();
    await viaInstitution(page, 'grace@uni.example');
    await expectSignedIn(page);
    const mfa = page.getByRole('region', { name: 'Two-factor authentication' });
    await mfa.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const app = new AuthenticatorApp((await mfa.getByLabel('Or type this secret key into the app').innerText()).trim());
    await mfa.getByLabel('Code from your authenticator app').fill(await app.code());
    await mfa.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('region', { name: 'Your recovery codes' }).waitFor();
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    await viaInstitution(page, 'grace@uni.example', { signedInThere: true });
    await page.getByRole('heading', { name: 'Second step', level: 1 }).waitFor();
    await page.getByLabel('Code from your authenticator app').fill(await app.code());
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectSignedIn(page);
  });

  it('says in words when the institution did not sign the person in, or the code was already used', async () => {
    const page = await open();
    await page.goto(`${s.svc.url}/account?error=access_denied`);
    expect(await alertText(page)).toMatch(/^Your institution did not sign you in\./);
    expect(new URL(page.url()).search).toBe('');
    await page.goto(`${s.svc.url}/account?code=not-a-code-we-issued`);
    expect(await alertText(page)).toBe('That institution sign-in has expired or was already used. Sign in again.');
    // An address of no institution is said in words too; the admin's own domain has no provider.
    await page.getByLabel('Email address at your institution').fill(ADMIN_EMAIL);
    await page.getByRole('button', { name: 'Continue to my institution' }).click();
    expect(await alertText(page.getByRole('region', { name: 'With your institution' }))).toBe(
      'No institution sign-in is set up for that address.',
    );
  });
});
