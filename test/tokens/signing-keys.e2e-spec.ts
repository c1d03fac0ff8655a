import {
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign as signWith,
  type KeyObject,
} from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { Secret, TOTP } from 'otpauth';
import request from 'supertest';
import { api, decodeJwt, PASSWORD } from '../support/api';
import { startTestApp, TestApp } from '../support/harness';
import { SigningKeysService } from '../../src/keys/signing-keys.service';

const APP_URL = 'https://id.test.example.org';
const AHEAD_MS = 1000;

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const headerOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as JWTHeaderParameters;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An ES256 JWS over exactly this header and payload, signed by `key` (JOSE's r||s signature form). */
function es256(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signWith('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/**
 * A resource server that is not this service: it knows the service's JWKS address, issuer and audience,
 * and nothing else (no secret, no database), as a service written against the documentation would.
 * Each call to `resourceServer` is a fresh process's worth of cache.
 */
function resourceServer(jwksUri: string, issuer: string, audience: string) {
  // jose keeps the key set and fetches it again for a kid it does not know (no cool-down here, so that a
  // rotation within the test's second is seen as a real server would see it after its cool-down).
  const keys = createRemoteJWKSet(new URL(jwksUri), { cooldownDuration: 0 });
  return async (token: string) => (await jwtVerify(token, keys, { algorithms: ['ES256'], issuer, audience })).payload;
}

/** The keys of section 10 in a JWKS: those that are not the OAuth provider's (kids `oauth-…`). */
const sectionTen = <K extends { kid?: string }>(keys: K[]): K[] => keys.filter((k) => !k.kid?.startsWith('oauth-'));

describe('ES256 access tokens that other services verify (API.md 10)', () => {
  let t: TestApp;
  let h: ReturnType<typeof api>;
  let admin: string;
  let verifier: (token: string) => Promise<JWTPayload>;
  const jwksUri = () => `${t.url}/.well-known/jwks.json`;
  const me = (token: string) => request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${token}`);
  // Section 10's keys; the OAuth provider's own (API.md 15, kids `oauth-…`) are published beside them.
  const jwks = async () => {
    const body = (await request(t.url).get('/.well-known/jwks.json').expect(200)).body as {
      keys: JWTHeaderParameters[];
    };
    return { keys: sectionTen(body.keys) };
  };
  const rotate = async () =>
    (await request(t.url).post('/api/admin/signing-keys/rotate').set(h.bearer(admin)).expect(201)).body as {
      key: { kid: string; state: string; activate_at: string };
    };

  beforeAll(async () => {
    t = await startTestApp({ JWT_ALGORITHM: 'ES256', JWT_KEY_PUBLISH_AHEAD: `${AHEAD_MS}ms`, APP_URL });
    h = api(t);
    admin = await h.adminToken();
    await h.createUser('rs@test.example.org', 'researcher');
    verifier = resourceServer(jwksUri(), t.config.jwt.issuer, t.config.jwt.audience);
  });
  afterAll(() => t.close());

  it('signs every access token with ES256 and the kid of a published key, and names the key in the JWKS', async () => {
    const { access_token } = await h.login('rs@test.example.org', PASSWORD);
    const header = headerOf(access_token);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(header.kid).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const res = await request(t.url).get('/.well-known/jwks.json').expect(200);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(
      res.body.keys.filter((k: { kid: string }) => k.kid.startsWith('oauth-')).map((k: { alg: string }) => k.alg),
    ).toEqual(['ES256', 'RS256']);
    expect(sectionTen(res.body.keys)).toEqual([
      {
        kty: 'EC',
        crv: 'P-256',
        x: expect.any(String),
        y: expect.any(String),
        kid: header.kid,
        alg: 'ES256',
        use: 'sig',
      },
    ]);
    await me(access_token).expect(200);
  });

  it("names the JWKS address in the discovery document (now the OAuth provider's, API.md 15), cacheable", async () => {
    const res = await request(t.url).get('/.well-known/openid-configuration').expect(200);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.body).toMatchObject({
      issuer: APP_URL,
      jwks_uri: `${APP_URL}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ['ES256', 'RS256'],
    });
    // Every other JSON response stays uncacheable.
    expect((await request(t.url).get('/api/health').expect(200)).headers['cache-control']).toBe('no-store');
  });

  it("lets a resource server verify the service's tokens from the JWKS alone, before and after a rotation", async () => {
    const before = (await h.login('rs@test.example.org', PASSWORD)).access_token;
    const oldKid = headerOf(before).kid!;
    await expect(verifier(before)).resolves.toMatchObject({ sub: expect.any(String), iss: t.config.jwt.issuer });

    const { key } = await rotate();
    expect(key.kid).not.toBe(oldKid);
    expect(key.state).toBe('pending');
    // Published at once, before it signs anything: caches of the JWKS see it first.
    expect((await jwks()).keys.map((k) => k.kid)).toEqual([key.kid, oldKid]);
    expect(headerOf((await h.login('rs@test.example.org', PASSWORD)).access_token).kid).toBe(oldKid);

    await sleep(Date.parse(key.activate_at) - Date.now() + 50);
    const after = (await h.login('rs@test.example.org', PASSWORD)).access_token;
    expect(headerOf(after).kid).toBe(key.kid);
    // The same verifier (its cache holds the old key only) fetches the JWKS again for the new kid.
    await expect(verifier(after)).resolves.toMatchObject({ sub: expect.any(String) });
    // Tokens of the retired key stay valid while their key is published, here and at the resource server.
    await expect(verifier(before)).resolves.toMatchObject({ sub: expect.any(String) });
    await me(before).expect(200);
    await me(after).expect(200);

    const listed = (await request(t.url).get('/api/admin/signing-keys').set(h.bearer(admin)).expect(200)).body;
    expect(listed.algorithm).toBe('ES256');
    expect(listed.keys.map((k: { kid: string; state: string }) => [k.kid, k.state])).toEqual([
      [key.kid, 'active'],
      [oldKid, 'retired'],
    ]);
    const old = listed.keys[1];
    // The retired key leaves the JWKS once its last token may have expired (the longest lifetime, 30d).
    const lifetime = Date.parse(old.expire_at) - Date.parse(old.retire_at);
    expect(lifetime).toBeGreaterThanOrEqual(t.config.jwt.rememberExpiresInSec * 1000);
    for (const k of listed.keys) {
      expect(Object.keys(k).sort()).toEqual(
        ['activate_at', 'alg', 'created_at', 'expire_at', 'kid', 'publish_at', 'retire_at', 'state'].sort(),
      );
    }

    // Fixture: the old key's tokens are past their lifetime (its expiry moved to now, in the database only).
    await t.db.query(`UPDATE signing_keys SET expire_at = now() WHERE kid = $1`, [oldKid]);
    await t.app.get(SigningKeysService).reload();
    expect((await jwks()).keys.map((k) => k.kid)).toEqual([key.kid]);
    // A resource server whose cache has expired no longer finds the key; nor does the service accept it.
    const fresh = resourceServer(jwksUri(), t.config.jwt.issuer, t.config.jwt.audience);
    await expect(fresh(before)).rejects.toThrow(/no applicable key found/i);
    await expect(fresh(after)).resolves.toMatchObject({ sub: expect.any(String) });
    const refused = await me(before).expect(401);
    expect(refused.body.error.code).toBe('INVALID_TOKEN');
    await me(after).expect(200);
    // The admin's token was the old key's too.
    await me(admin).expect(401);
    admin = await h.adminToken();
    const states = (await request(t.url).get('/api/admin/signing-keys').set(h.bearer(admin)).expect(200)).body.keys;
    expect(states.map((k: { state: string }) => k.state)).toEqual(['active', 'expired']);
  });

  it('lets only an admin see and rotate the keys', async () => {
    const viewer = (await h.login('rs@test.example.org', PASSWORD)).access_token;
    await request(t.url).get('/api/admin/signing-keys').set(h.bearer(viewer)).expect(403);
    await request(t.url).post('/api/admin/signing-keys/rotate').set(h.bearer(viewer)).expect(403);
    await request(t.url).post('/api/admin/signing-keys/rotate').expect(401);
    const audit = await t.db.query(`SELECT count(*)::int AS n FROM audit_events WHERE event = 'signing_key_rotated'`);
    expect(audit[0].n).toBeGreaterThanOrEqual(1);
  });

  it('needs an admin with MFA on to rotate at aal2 (a sign-in with the second factor)', async () => {
    await h.createUser('second-admin@test.example.org', 'admin', PASSWORD, admin);
    const aal1 = (await h.login('second-admin@test.example.org', PASSWORD)).access_token;
    const enrolment = await request(t.url).post('/api/auth/mfa/totp').set(h.bearer(aal1)).send({}).expect(201);
    const totp = new TOTP({ secret: Secret.fromBase32(enrolment.body.secret as string) });
    await request(t.url)
      .post(`/api/auth/mfa/factors/${enrolment.body.factor_id}/confirm`)
      .set(h.bearer(aal1))
      .send({ code: totp.generate() })
      .expect(200);
    const stepUp = await request(t.url).post('/api/admin/signing-keys/rotate').set(h.bearer(aal1)).expect(403);
    expect(stepUp.body.error.code).toBe('MFA_STEP_UP_REQUIRED');
    const first = await request(t.url)
      .post('/api/auth/login')
      .send({ username: 'second-admin@test.example.org', password: PASSWORD })
      .expect(401);
    const second = await request(t.url)
      .post('/api/auth/mfa/verify')
      .send({ mfa_token: first.body.error.details.mfa_token, code: totp.generate({ timestamp: Date.now() + 30_000 }) })
      .expect(200);
    await request(t.url).get('/api/admin/signing-keys').set(h.bearer(aal1)).expect(200);
    await request(t.url).post('/api/admin/signing-keys/rotate').set(h.bearer(second.body.access_token)).expect(201);
  });

  describe('attacks on GET /api/auth/me: every one is 401 INVALID_TOKEN, none a 500', () => {
    let real: string;
    let claims: Record<string, unknown>;
    let kid: string;
    const refuses = async (token: string) => {
      const res = await me(token);
      expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: 401, code: 'INVALID_TOKEN' });
    };

    beforeAll(async () => {
      real = (await h.login('rs@test.example.org', PASSWORD)).access_token;
      claims = decodeJwt(real);
      kid = headerOf(real).kid!;
      await me(real).expect(200);
    });

    it('refuses a token signed by a key that is not in the JWKS, under an unknown kid or a known one', async () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const unknown = randomBytes(16).toString('base64url');
      await refuses(es256({ alg: 'ES256', typ: 'at+jwt', kid: unknown }, claims, privateKey));
      await refuses(es256({ alg: 'ES256', typ: 'at+jwt', kid }, claims, privateKey));
      await refuses(es256({ alg: 'ES256', typ: 'at+jwt' }, claims, privateKey));
    });

    it('refuses alg HS256 with the public key (PEM or JWK) as the HMAC secret: no key confusion', async () => {
      const jwk = (await jwks()).keys.find((k) => k.kid === kid)!;
      const publicKey = createPublicKey({ key: jwk as never, format: 'jwk' });
      const secrets = [
        publicKey.export({ format: 'pem', type: 'spki' }).toString(),
        JSON.stringify(jwk),
        publicKey.export({ format: 'der', type: 'spki' }),
      ];
      for (const secret of secrets) {
        for (const header of [
          { alg: 'HS256', typ: 'at+jwt', kid },
          { alg: 'HS256', typ: 'at+jwt' },
        ]) {
          const input = `${b64(header)}.${b64(claims)}`;
          await refuses(`${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`);
        }
      }
    });

    it('refuses alg none, with or without a kid', async () => {
      for (const header of [{ alg: 'none', typ: 'at+jwt', kid }, { alg: 'none' }, { alg: 'NONE', kid }]) {
        await refuses(`${b64(header)}.${b64(claims)}.`);
        await refuses(`${b64(header)}.${b64(claims)}`);
      }
    });

    it('refuses a real signature under a kid that points to another published key', async () => {
      const { key } = await rotate();
      const [, , signature] = real.split('.');
      const header = { ...headerOf(real), kid: key.kid };
      await refuses(`${b64(header)}.${b64(claims)}.${signature}`);
      // The genuine token still passes: only the header changed.
      await me(real).expect(200);
    });

    it('treats a kid with path or SQL characters as unknown, whatever signs it', async () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const [, , signature] = real.split('.');
      for (const bad of [
        '../../../../etc/passwd',
        `../${kid}`,
        "' OR 1=1 --",
        `${kid}' OR '1'='1`,
        '__proto__',
        'constructor',
        kid.toLowerCase() === kid ? kid.toUpperCase() : kid.toLowerCase(),
        `${kid}\u0000`,
        'a'.repeat(5000),
        '',
      ]) {
        await refuses(es256({ alg: 'ES256', typ: 'at+jwt', kid: bad }, claims, privateKey));
        await refuses(`${b64({ ...headerOf(real), kid: bad })}.${b64(claims)}.${signature}`);
      }
      for (const odd of [123, null, ['x'], { $ne: null }]) {
        await refuses(`${b64({ alg: 'ES256', typ: 'at+jwt', kid: odd })}.${b64(claims)}.${signature}`);
      }
      await refuses(`${b64(['ES256'])}.${b64(claims)}.${signature}`);
      await refuses(`not-json.${b64(claims)}.${signature}`);
      await me(real).expect(200);
    });
  });
});

describe('HS256 (the default): nothing to publish', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('publishes no key of its own, never names HS256, signs without a kid, and has no keys to rotate', async () => {
    const h = api(t);
    const admin = await h.adminToken();
    expect(headerOf(admin)).toEqual({ alg: 'HS256', typ: 'at+jwt' });
    const res = await request(t.url).get('/.well-known/jwks.json').expect(200);
    // Only the OAuth provider's ES256 and RS256 keys (API.md 15): the shared secret is never published.
    expect(sectionTen(res.body.keys)).toEqual([]);
    expect(res.body.keys.map((k: { alg: string }) => k.alg)).toEqual(['ES256', 'RS256']);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    const discovery = (await request(t.url).get('/.well-known/openid-configuration').expect(200)).body;
    expect(discovery.id_token_signing_alg_values_supported).toEqual(['ES256', 'RS256']);
    expect((await request(t.url).get('/api/admin/signing-keys').set(h.bearer(admin)).expect(200)).body).toEqual({
      algorithm: 'HS256',
      keys: [],
    });
    const rotate = await request(t.url).post('/api/admin/signing-keys/rotate').set(h.bearer(admin)).expect(409);
    expect(rotate.body.error.code).toBe('CONFLICT');
    expect((await t.db.query(`SELECT count(*)::int AS n FROM signing_keys`))[0].n).toBe(0);
  });
});
