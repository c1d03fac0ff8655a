import type { Page } from 'playwright-core';
import { api, PASSWORD } from '../support/api';
import type { TestApp } from '../support/harness';
import { addVirtualAuthenticator, launchChromium, screenshot, startPageApp, type BrowserHandle } from './browser';
import { alertText, expectSignedIn, fillPasswordSignIn, provePageManners } from './page';
import { relay } from './proxy';

/**
 * Passkeys through the account page (API.md 8 and 9), with the browser's own WebAuthn code and a
 * virtual authenticator of the DevTools protocol (ctap2, built in, resident keys, user verification),
 * as a laptop's or a phone's is.
 */
describe('passkeys through the account page in a real browser (API.md 8, 9)', () => {
  let b: BrowserHandle;
  let t: TestApp;
  let origin: string;
  let a: ReturnType<typeof api>;
  let elsewhere: Awaited<ReturnType<typeof relay>>;
  let n = 0;
  const manners = provePageManners(() => b);

  beforeAll(async () => {
    ({ t, origin } = await startPageApp());
    a = api(t);
    elsewhere = await relay(Number(new URL(origin).port));
    b = await launchChromium();
  });
  afterAll(async () => {
    await b?.close();
    await elsewhere?.close();
    await t?.close();
  });

  /** A person with a password, on the page, signed in, with a device that can hold passkeys. */
  const signedIn = async ({ userVerification = true } = {}) => {
    const email = `keyholder${++n}@example.org`;
    await a.createUser(email, 'researcher');
    const page = await b.newPage();
    manners.record(page, origin);
    manners.record(page, `http://localhost:${elsewhere.port}`);
    const device = await addVirtualAuthenticator(page, { userVerification });
    await page.goto(`${origin}/account`);
    await fillPasswordSignIn(page, email, PASSWORD);
    await expectSignedIn(page);
    return { email, page, device };
  };

  const addPasskey = async (page: Page, name = 'Laptop') => {
    const passkeys = page.getByRole('region', { name: 'Passkeys' });
    await passkeys.getByLabel('Name for the new passkey').fill(name);
    await passkeys.getByRole('button', { name: 'Add a passkey' }).click();
    await passkeys.getByText(`The passkey “${name}” is added.`, { exact: false }).waitFor();
    return passkeys;
  };

  const signOut = async (page: Page) => {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
  };

  it("adds a passkey with the device's authenticator; as the first factor it brings the recovery codes, shown once", async () => {
    const { page, device } = await signedIn();
    const passkeys = await addPasskey(page);
    const codes = passkeys.getByRole('region', { name: 'Your recovery codes' }).getByRole('listitem');
    await codes.first().waitFor();
    expect(await codes.count()).toBe(10);
    await passkeys.getByRole('listitem').filter({ hasText: 'Laptop' }).first().waitFor();
    await page.getByRole('region', { name: 'Two-factor authentication' }).getByText('Passkey: Laptop').waitFor();
    await screenshot(passkeys, 'passkey-added');
    // The authenticator holds one resident credential for this relying party.
    const { credentials } = await device.cdp.send('WebAuthn.getCredentials', {
      authenticatorId: device.authenticatorId,
    });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]).toMatchObject({ isResidentCredential: true, rpId: 'localhost' });
  });

  it('signs out and signs in with the passkey alone: no email, a discoverable credential, both factors at once', async () => {
    const { page } = await signedIn();
    await addPasskey(page);
    await signOut(page);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expectSignedIn(page);
    // A verified passkey is both factors (aal2): a change that needs the step-up goes through.
    await page.getByRole('button', { name: 'Make new recovery codes' }).click();
    await page.getByText('New recovery codes are made; the old ones no longer work.').waitFor();
  });

  it('signs in with the passkey and an email', async () => {
    const { email, page } = await signedIn();
    await addPasskey(page);
    await signOut(page);
    await page.getByLabel('Email or username').fill(email);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expectSignedIn(page);
    await page.getByText(`Signed in as ${email}`).waitFor();
  });

  it('uses the passkey as the second step after a password when the authenticator does not verify the person', async () => {
    // A security key without a PIN: it proves possession, not the person, so it is one factor only.
    const { email, page } = await signedIn({ userVerification: false });
    await addPasskey(page);
    await signOut(page);
    // Alone (with the email, since the key keeps no resident credential) it is not enough: a second step...
    await page.getByLabel('Email or username').fill(email);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('heading', { name: 'Second step', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Start again' }).click();
    // ... and after a password, it is the second factor.
    await fillPasswordSignIn(page, email, PASSWORD);
    await page.getByRole('heading', { name: 'Second step', level: 1 }).waitFor();
    await page.getByLabel('Passkey: Laptop').check();
    await page.getByRole('button', { name: 'Use my passkey' }).click();
    await expectSignedIn(page);
  });

  it('refuses, in words, a passkey that was removed on the page', async () => {
    const { page } = await signedIn();
    const passkeys = await addPasskey(page);
    // Signed in again with the passkey (both factors), as removing a factor asks once MFA is on.
    await signOut(page);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expectSignedIn(page);
    await passkeys.getByRole('button', { name: 'Remove passkey Laptop' }).click();
    await passkeys.getByText('That passkey is removed: it can no longer sign you in.').waitFor();
    await passkeys.getByText('You have no passkeys yet.').waitFor();
    await signOut(page);
    // The device still holds the credential; the service no longer knows it.
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    const said = await alertText(page);
    expect(said).toBe('That passkey was not accepted. It may have been removed, or it belongs to another site.');
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
  });

  it('refuses, in words, a passkey presented to an origin that WEBAUTHN_ORIGINS does not list', async () => {
    const { page } = await signedIn();
    await addPasskey(page);
    await signOut(page);
    // The same service and relying party id, reached at another origin (http://localhost:<other port>).
    await page.goto(`http://localhost:${elsewhere.port}/account`);
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    expect(await alertText(page)).toBe(
      'That passkey was not accepted. It may have been removed, or it belongs to another site.',
    );
    // At the service's own origin the same passkey signs in: the origin alone was refused.
    await page.goto(`${origin}/account`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expectSignedIn(page);
  });
});
