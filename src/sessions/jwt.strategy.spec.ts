import { sign } from 'jsonwebtoken';
import type { FastifyRequest } from 'fastify';
import { createHmac } from 'node:crypto';
import { DiscoveryService } from '@nestjs/core';
import { loadConfig } from '../config/config';
import { StrategyRunner } from '../access/passport';
import { SessionRevocationService } from './session-revocation.service';
import { JwtStrategy } from './jwt.strategy';

const SECRET = 'unit-test-secret-of-sufficient-length-0123456789abcdef';
const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: SECRET });
const { issuer, audience } = config.jwt;
const nowSec = () => Math.floor(Date.now() / 1000);

/** An access token as the service signs it, or changed by `payload` and `options`. */
const tokenFor = (payload: Record<string, unknown> = {}, options: Record<string, unknown> = {}) =>
  sign(
    { sub: 'u1', sid: 's1', role: 'viewer', jti: 'j1', iss: issuer, aud: audience, exp: nowSec() + 60, ...payload },
    SECRET,
    {
      algorithm: 'HS256',
      header: { alg: 'HS256', typ: 'at+jwt' },
      ...options,
    } as never,
  );
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
/** A token with any header, HMAC-signed with `secret` over exactly what is sent. */
const forge = (header: unknown, payload: unknown, secret = SECRET) => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};
const claims = (extra: Record<string, unknown> = {}) => ({
  sub: 'u1',
  sid: 's1',
  role: 'viewer',
  iss: issuer,
  aud: audience,
  exp: nowSec() + 60,
  ...extra,
});

describe('JwtStrategy (passport-jwt, against tokens signed by jsonwebtoken)', () => {
  const revoked = new Set<string>();
  let sut: JwtStrategy;
  let runner: StrategyRunner;
  beforeEach(() => {
    // A fresh strategy each time, so that no test is answered from another's cache.
    sut = new JwtStrategy(config, { isRevoked: (sid: string) => revoked.has(sid) } as SessionRevocationService);
    runner = new StrategyRunner({ getProviders: () => [] } as unknown as DiscoveryService);
    runner.register('jwt', sut);
  });
  afterEach(() => jest.useRealTimers());

  const req = (token: string, cookie = false) =>
    (cookie
      ? { headers: {}, cookies: { auth_token: token } }
      : { headers: { authorization: `Bearer ${token}` } }) as unknown as FastifyRequest;
  const authenticate = (token: string, cookie = false) => runner.run('jwt', req(token, cookie), {});
  const refused = (token: string, code = 'INVALID_TOKEN') =>
    expect(authenticate(token)).rejects.toMatchObject({ code });

  it('turns a valid access token into its user, the same on a cached second use', async () => {
    const authTime = nowSec() - 120;
    const token = tokenFor({ auth_time: authTime });
    const expected = {
      id: 'u1',
      role: 'viewer',
      scheme: 'jwt',
      kind: 'sign-in',
      authTime,
      sessionId: 's1',
      tokenId: 'j1',
      aal: 'aal1',
      viaCookie: false,
    };
    await expect(authenticate(token)).resolves.toEqual(expected);
    await expect(authenticate(token)).resolves.toEqual(expected);
    await expect(authenticate(token, true)).resolves.toEqual({ ...expected, viaCookie: true });
  });

  it('takes a token without auth_time (signed before it existed) as signed in at its iat', async () => {
    const iat = nowSec() - 30;
    await expect(authenticate(tokenFor({ iat }))).resolves.toMatchObject({ kind: 'sign-in', authTime: iat });
  });

  it("takes the assurance level from the token's aal claim, and only aal2 counts as aal2", async () => {
    await expect(authenticate(tokenFor({ aal: 'aal2', amr: ['pwd', 'otp', 'mfa'] }))).resolves.toMatchObject({
      aal: 'aal2',
    });
    await expect(authenticate(tokenFor({ aal: 'AAL2' }))).resolves.toMatchObject({ aal: 'aal1' });
  });

  it('accepts an audience array that names the audience', async () => {
    await expect(authenticate(tokenFor({ aud: ['other', audience] }))).resolves.toMatchObject({ id: 'u1' });
  });

  it('refuses a token already verified once its session is revoked', async () => {
    const token = tokenFor({ sid: 's2' });
    await authenticate(token);
    revoked.add('s2');
    await refused(token);
  });

  it('calls a token already verified expired once its time is up', async () => {
    jest.useFakeTimers({ now: Date.now(), doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const token = tokenFor({ exp: nowSec() + 10 });
    await authenticate(token);
    jest.setSystemTime(Date.now() + 16_000); // 10 s of life and 5 s of tolerance are over
    await refused(token, 'TOKEN_EXPIRED');
  });

  it('tells an expired token apart, allowing 5 s of clock tolerance', async () => {
    await expect(authenticate(tokenFor({ exp: nowSec() - 3 }))).resolves.toMatchObject({ id: 'u1' });
    await refused(tokenFor({ exp: nowSec() - 6 }), 'TOKEN_EXPIRED');
  });

  it('refuses a token that is not yet valid, or has no numeric exp', async () => {
    await refused(tokenFor({ nbf: nowSec() + 60 }));
    await expect(authenticate(tokenFor({ nbf: nowSec() + 3 }))).resolves.toMatchObject({ id: 'u1' });
    const noExp = claims();
    delete (noExp as { exp?: number }).exp;
    await refused(forge({ alg: 'HS256', typ: 'at+jwt' }, noExp));
    await refused(forge({ alg: 'HS256', typ: 'at+jwt' }, claims({ exp: 'never' })));
  });

  it('refuses a changed payload, a changed signature and another key', async () => {
    const [h, p, s] = tokenFor().split('.');
    await refused(`${h}.${b64(claims({ role: 'admin' }))}.${s}`);
    const flipped = s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.at(-1);
    await refused(`${h}.${p}.${flipped}`);
    await refused(forge({ alg: 'HS256', typ: 'at+jwt' }, claims(), 'another-secret-of-sufficient-length-0123456789'));
  });

  it('refuses alg none, other HMAC algorithms and asymmetric algorithms, even over a valid HMAC', async () => {
    await refused(`${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims())}.`);
    for (const alg of ['none', 'HS384', 'HS512', 'RS256', 'ES256']) {
      await refused(forge({ alg, typ: 'at+jwt' }, claims()));
    }
    await refused(tokenFor({}, { algorithm: 'HS512', header: { alg: 'HS512', typ: 'at+jwt' } }));
  });

  it('refuses the wrong issuer or audience', async () => {
    await refused(tokenFor({ iss: 'someone-else' }));
    await refused(tokenFor({ aud: 'another-audience' }));
    await refused(tokenFor({ aud: ['another-audience'] }));
  });

  it('refuses a token that is not an access token (another typ), or lacks a claim it needs', async () => {
    await refused(tokenFor({}, { header: { alg: 'HS256' } }));
    await refused(tokenFor({}, { header: { alg: 'HS256', typ: 'JWT' } }));
    await refused(tokenFor({ role: 'superuser' }));
    await refused(tokenFor({ sid: 42 }));
  });

  it('refuses malformed tokens with INVALID_TOKEN', async () => {
    const good = tokenFor();
    for (const bad of ['.', '..', 'a.b', 'a.b.c.d', `${good}.x`, good.replace('.', '.+'), '\u0000.a.b']) {
      await refused(bad);
    }
    await refused(forge('a string', claims()));
    await refused(forge({ alg: 'HS256', typ: 'at+jwt' }, [1, 2]));
  });

  it('names the caller of a valid token for the rate limit, and nobody for an invalid one', () => {
    expect(sut.callerOf(req(tokenFor()))).toBe('u1');
    expect(sut.callerOf(req(tokenFor({ iss: 'someone-else' })))).toBeUndefined();
    expect(sut.callerOf({ headers: {} } as FastifyRequest)).toBeUndefined();
  });
});
