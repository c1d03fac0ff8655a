import { sign } from 'jsonwebtoken';
import { createHmac, createSecretKey } from 'node:crypto';
import { verifyHs256 } from './jwt-verify';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256-0123456789';
const key = createSecretKey(Buffer.from(SECRET));
const expect_ = { issuer: 'iss-1', audience: 'aud-1', clockToleranceSec: 5 };
const NOW = 1_800_000_000;

const token = (payload: Record<string, unknown> = {}, options: Record<string, unknown> = {}) =>
  sign({ sub: 'u1', iss: 'iss-1', aud: 'aud-1', exp: NOW + 60, iat: NOW, ...payload }, SECRET, {
    algorithm: 'HS256',
    header: { alg: 'HS256', typ: 'at+jwt' },
    ...options,
  } as never);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
/** A token with any header, signed with the right key over exactly what is sent. */
const forge = (header: unknown, payload: unknown, secret = SECRET) => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};

describe('verifyHs256', () => {
  it('accepts a token signed by jsonwebtoken and returns its header and claims', () => {
    const r = verifyHs256(token(), key, expect_, NOW);
    expect(r).toMatchObject({ ok: true, header: { typ: 'at+jwt' }, payload: { sub: 'u1' } });
  });

  it('accepts an audience array that names the audience', () => {
    expect(verifyHs256(token({ aud: ['other', 'aud-1'] }), key, expect_, NOW).ok).toBe(true);
  });

  it('refuses a changed payload, a changed signature and another key', () => {
    const [h, p, s] = token().split('.');
    const other = b64({ sub: 'admin', iss: 'iss-1', aud: 'aud-1', exp: NOW + 60 });
    expect(verifyHs256(`${h}.${other}.${s}`, key, expect_, NOW)).toEqual({ ok: false, expired: false });
    const flipped = s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.at(-1);
    expect(verifyHs256(`${h}.${p}.${flipped}`, key, expect_, NOW).ok).toBe(false);
    expect(
      verifyHs256(forge({ alg: 'HS256' }, { iss: 'iss-1', aud: 'aud-1', exp: NOW + 9 }, 'x'), key, expect_, NOW).ok,
    ).toBe(false);
  });

  it('refuses alg none, other HMAC algorithms and asymmetric algorithms, even over a valid HMAC', () => {
    const claims = { iss: 'iss-1', aud: 'aud-1', exp: NOW + 60 };
    expect(verifyHs256(`${b64({ alg: 'none' })}.${b64(claims)}.`, key, expect_, NOW).ok).toBe(false);
    for (const alg of ['none', 'HS384', 'HS512', 'RS256', 'ES256']) {
      expect(verifyHs256(forge({ alg }, claims), key, expect_, NOW).ok).toBe(false);
    }
    expect(verifyHs256(token({}, { algorithm: 'HS512', header: { alg: 'HS512' } }), key, expect_, NOW).ok).toBe(false);
  });

  it('tells an expired token apart, allowing the clock tolerance', () => {
    expect(verifyHs256(token({ exp: NOW - 4 }), key, expect_, NOW).ok).toBe(true);
    expect(verifyHs256(token({ exp: NOW - 5 }), key, expect_, NOW)).toEqual({ ok: false, expired: true });
  });

  it('refuses a token that is not yet valid, or has no numeric exp', () => {
    expect(verifyHs256(token({ nbf: NOW + 60 }), key, expect_, NOW)).toEqual({ ok: false, expired: false });
    expect(verifyHs256(token({ nbf: NOW + 3 }), key, expect_, NOW).ok).toBe(true);
    expect(verifyHs256(forge({ alg: 'HS256' }, { iss: 'iss-1', aud: 'aud-1' }), key, expect_, NOW).ok).toBe(false);
    expect(
      verifyHs256(forge({ alg: 'HS256' }, { iss: 'iss-1', aud: 'aud-1', exp: 'never' }), key, expect_, NOW).ok,
    ).toBe(false);
  });

  it('refuses the wrong issuer or audience', () => {
    expect(verifyHs256(token({ iss: 'iss-2' }), key, expect_, NOW).ok).toBe(false);
    expect(verifyHs256(token({ aud: 'aud-2' }), key, expect_, NOW).ok).toBe(false);
    expect(verifyHs256(token({ aud: ['aud-2'] }), key, expect_, NOW).ok).toBe(false);
  });

  it('refuses malformed tokens without throwing', () => {
    const good = token();
    for (const bad of [
      '',
      '.',
      '..',
      'a.b',
      'a.b.c.d',
      `${good}.x`,
      `${good}=`,
      good.replace('.', '.+'),
      '\u0000.a.b',
    ]) {
      expect(verifyHs256(bad, key, expect_, NOW)).toEqual({ ok: false, expired: false });
    }
    expect(verifyHs256(forge('a string', { exp: NOW + 9 }), key, expect_, NOW).ok).toBe(false);
    expect(verifyHs256(forge({ alg: 'HS256' }, [1, 2]), key, expect_, NOW).ok).toBe(false);
  });
});
