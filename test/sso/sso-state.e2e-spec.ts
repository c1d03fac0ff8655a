import { SsoFlowsService } from '../../src/sso/flows.service';
import { ADMIN_EMAIL, startTestApp, TestApp } from '../support/harness';

/**
 * The single-use rules of API.md 7 in PostgreSQL, on the in-process app (this part needs no openid-client):
 * one-time codes and sign-in attempts won by exactly one of two racing requests, and a SAML assertion
 * accepted once across instances.
 */
describe('single sign-on state in PostgreSQL', () => {
  let a: TestApp;
  let b: TestApp;
  let userId: string;

  beforeAll(async () => {
    a = await startTestApp();
    b = await startTestApp({ KEEP_DATABASE: '1' });
    await a.db.query(
      `INSERT INTO sso_providers (id, type, name, domains, default_role, entry_point, idp_issuer, idp_certificate)
       VALUES ('p', 'saml', 'P', '{p.example}', 'viewer', 'https://idp.p.example/sso', 'idp', 'cert')`,
    );
    [{ id: userId }] = (await a.db.query(`SELECT id FROM users WHERE email = $1`, [ADMIN_EMAIL])) as { id: string }[];
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const flows = (t: TestApp) => t.app.get(SsoFlowsService);

  it('gives a one-time code to exactly one of two instances exchanging it at once', async () => {
    const code = await flows(a).issueCode(userId, 'p', 'browser-secret');
    const results = await Promise.all([
      flows(a).consumeCode(code, 'browser-secret'),
      flows(b).consumeCode(code, 'browser-secret'),
    ]);
    expect(results.filter(Boolean)).toEqual([{ userId, providerId: 'p' }]);
    expect(await flows(a).consumeCode(code, 'browser-secret')).toBeNull();
  });

  it('spends a code only for the browser that started its sign-in; another browser neither uses nor spends it', async () => {
    const code = await flows(a).issueCode(userId, 'p', 'browser-secret');
    expect(await flows(a).consumeCode(code, 'another-browser')).toBeNull();
    expect(await flows(b).consumeCode(code, undefined)).toBeNull();
    expect(await flows(b).consumeCode(code, 'browser-secret')).toEqual({ userId, providerId: 'p' });
  });

  it('refuses a code past its 60 seconds', async () => {
    const code = await flows(a).issueCode(userId, 'p', 'browser-secret');
    await a.db.query(`UPDATE sso_codes SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`);
    expect(await flows(a).consumeCode(code, 'browser-secret')).toBeNull();
  });

  it('uses a sign-in attempt once, only from its browser and for its provider', async () => {
    const state = await flows(a).start('p', 'browser-secret', 'https://portal.example/sso', { nonce: 'n' });
    expect(await flows(a).consume('p', state, 'another-browser')).toBeNull();
    expect(await flows(a).consume('other', state, 'browser-secret')).toBeNull();
    const results = await Promise.all([
      flows(a).consume('p', state, 'browser-secret'),
      flows(b).consume('p', state, 'browser-secret'),
    ]);
    expect(results.filter(Boolean)).toEqual([{ redirectUri: 'https://portal.example/sso', nonce: 'n' }]);
  });

  it('refuses an attempt older than 10 minutes', async () => {
    const state = await flows(a).start('p', 'browser-secret', 'https://portal.example/sso', {});
    await a.db.query(`UPDATE sso_flows SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`);
    expect(await flows(a).consume('p', state, 'browser-secret')).toBeNull();
  });

  it('keeps neither state, code, nonce nor PKCE verifier in plain text (the last two sealed, and read back)', async () => {
    const nonce = 'nonce-0123456789abcdefghijklmnopqrstuvwxyz';
    const codeVerifier = 'verifier-0123456789abcdefghijklmnopqrstuvwxyzABCDEF';
    const state = await flows(a).start('p', 'browser-secret', 'https://portal.example/sso', { nonce, codeVerifier });
    const code = await flows(a).issueCode(userId, 'p', 'browser-secret');
    const dump = JSON.stringify([
      await a.db.query(`SELECT * FROM sso_flows`),
      await a.db.query(`SELECT * FROM sso_codes`),
    ]);
    expect(dump).not.toContain(state);
    expect(dump).not.toContain(code);
    expect(dump).not.toContain('browser-secret');
    const [row] = (await a.db.query(
      `SELECT nonce_enc, code_verifier_enc FROM sso_flows WHERE code_verifier_enc IS NOT NULL`,
    )) as {
      nonce_enc: Buffer;
      code_verifier_enc: Buffer;
    }[];
    for (const sealed of [row.nonce_enc, row.code_verifier_enc]) {
      expect(sealed.toString('latin1')).not.toContain('nonce-0123');
      expect(sealed.toString('latin1')).not.toContain('verifier-0123');
      expect(sealed.toString('base64')).not.toContain(Buffer.from(nonce).toString('base64').slice(0, 12));
    }
    expect(await flows(b).consume('p', state, 'browser-secret')).toEqual({
      redirectUri: 'https://portal.example/sso',
      nonce,
      codeVerifier,
    });
  });

  it('accepts a SAML assertion once across instances (the replay cache is shared)', async () => {
    const until = new Date(Date.now() + 300_000);
    const results = await Promise.all([
      flows(a).firstUseOfAssertion('p', '_assertion-1', until),
      flows(b).firstUseOfAssertion('p', '_assertion-1', until),
    ]);
    expect(results.sort()).toEqual([false, true]);
    expect(await flows(b).firstUseOfAssertion('p', '_assertion-1', until)).toBe(false);
    expect(await flows(b).firstUseOfAssertion('p', '_assertion-2', until)).toBe(true);
  });
});
