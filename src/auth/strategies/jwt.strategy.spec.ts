import { sign } from 'jsonwebtoken';
import type { FastifyRequest } from 'fastify';
import { loadConfig } from '../../config/config';
import { SessionRevocationService } from '../session-revocation.service';
import { JwtStrategy } from './jwt.strategy';

const SECRET = 'unit-test-secret-of-sufficient-length-0123456789abcdef';
const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: SECRET });

describe('JwtStrategy', () => {
  const revoked = new Set<string>();
  const sut = new JwtStrategy(config, { isRevoked: (sid: string) => revoked.has(sid) } as SessionRevocationService);
  const tokenFor = (sid: string, ttlSec = 60) =>
    sign({ sub: 'u1', sid, role: 'viewer', jti: `j-${sid}` }, SECRET, {
      algorithm: 'HS256',
      expiresIn: ttlSec,
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      header: { alg: 'HS256', typ: 'at+jwt' },
    });
  const req = (token: string) => ({ headers: { authorization: `Bearer ${token}` } }) as unknown as FastifyRequest;

  afterEach(() => jest.useRealTimers());

  it('turns a valid access token into its user, the same on a cached second use', () => {
    const token = tokenFor('s1');
    const expected = { id: 'u1', role: 'viewer', scheme: 'jwt', sessionId: 's1', tokenId: 'j-s1', viaCookie: false };
    expect(sut.verify(req(token))).toEqual(expected);
    expect(sut.verify(req(token))).toEqual(expected);
  });

  it('refuses a token already verified once its session is revoked', () => {
    const token = tokenFor('s2');
    sut.verify(req(token));
    revoked.add('s2');
    expect(() => sut.verify(req(token))).toThrow(expect.objectContaining({ code: 'INVALID_TOKEN' }) as never);
  });

  it('calls a token already verified expired once its time is up', () => {
    jest.useFakeTimers({ now: Date.now() });
    const token = tokenFor('s3', 10);
    sut.verify(req(token));
    jest.setSystemTime(Date.now() + 16_000); // 10 s of life and 5 s of tolerance are over
    expect(() => sut.verify(req(token))).toThrow(expect.objectContaining({ code: 'TOKEN_EXPIRED' }) as never);
  });

  it('refuses a token that is not an access token (another typ)', () => {
    const token = sign({ sub: 'u1', sid: 's4', role: 'viewer' }, SECRET, {
      algorithm: 'HS256',
      expiresIn: 60,
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
    });
    expect(() => sut.verify(req(token))).toThrow(expect.objectContaining({ code: 'INVALID_TOKEN' }) as never);
  });
});
