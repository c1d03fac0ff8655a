import { DiscoveryService } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { sign } from 'jsonwebtoken';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { SecretBox } from '../common/secret-box';
import { loadConfig } from '../config/config';
import { SigningKeysService } from '../keys/signing-keys.service';
import type { BroadcastService } from '../redis/broadcast.service';
import { StrategyRunner } from '../access/passport';
import { SessionRevocationService } from './session-revocation.service';
import { JwtStrategy } from './jwt.strategy';

const SECRET = 'unit-test-secret-of-sufficient-length-0123456789abcdef';
const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: SECRET, JWT_ALGORITHM: 'ES256' });
const { issuer, audience } = config.jwt;
const nowSec = () => Math.floor(Date.now() / 1000);
const HOUR = 3_600_000;

/** A row of signing_keys as the service reads it, with a fresh P-256 key sealed as the service seals it. */
function row(dates: { publishAt: number; activateAt?: number; retireAt?: number; expireAt?: number }) {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomBytes(16).toString('base64url');
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  return {
    privateKey,
    row: {
      kid,
      alg: 'ES256' as const,
      public_jwk: { kty, crv, x, y },
      private_key_enc: new SecretBox(Buffer.from(SECRET), 'signing key').seal(
        privateKey.export({ format: 'der', type: 'pkcs8' }),
        kid,
      ),
      created_at: new Date(dates.publishAt),
      publish_at: new Date(dates.publishAt),
      activate_at: new Date(dates.activateAt ?? dates.publishAt),
      retire_at: dates.retireAt === undefined ? null : new Date(dates.retireAt),
      expire_at: dates.expireAt === undefined ? null : new Date(dates.expireAt),
    },
  };
}

const tokenWith = (key: KeyObject, header: Record<string, unknown>, payload: Record<string, unknown> = {}) =>
  sign(
    { sub: 'u1', sid: 's1', role: 'viewer', jti: 'j1', iss: issuer, aud: audience, exp: nowSec() + 60, ...payload },
    key,
    { algorithm: 'ES256', header: { alg: 'ES256', typ: 'at+jwt', ...header } } as never,
  );

describe('JwtStrategy with JWT_ALGORITHM=ES256 (the key of the kid, through passport-jwt)', () => {
  let keys: SigningKeysService;
  let runner: StrategyRunner;
  let sut: JwtStrategy;
  let current: ReturnType<typeof row>;
  let retired: ReturnType<typeof row>;
  let waiting: ReturnType<typeof row>;
  const apply = (rows: ReturnType<typeof row>['row'][]) =>
    (keys as unknown as { apply(rows: unknown[], strict: boolean): void }).apply(rows, true);

  beforeEach(() => {
    keys = new SigningKeysService(config, {} as DataSource, {} as BroadcastService);
    const now = Date.now();
    retired = row({ publishAt: now - 48 * HOUR, retireAt: now - 24 * HOUR, expireAt: now + 24 * HOUR });
    current = row({ publishAt: now - 25 * HOUR, activateAt: now - 24 * HOUR });
    waiting = row({ publishAt: now, activateAt: now + HOUR });
    apply([retired.row, current.row, waiting.row]);
    sut = new JwtStrategy(config, { isRevoked: () => false } as unknown as SessionRevocationService, keys);
    runner = new StrategyRunner({ getProviders: () => [] } as unknown as DiscoveryService);
    runner.register('jwt', sut);
  });

  const req = (token: string) => ({ headers: { authorization: `Bearer ${token}` } }) as unknown as FastifyRequest;
  const authenticate = (token: string) => runner.run('jwt', req(token), {});
  const refused = (token: string) => expect(authenticate(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });

  it('signs with the key whose activation is the latest that has come, and its kid', () => {
    expect(keys.current()).toMatchObject({ kid: current.row.kid, alg: 'ES256' });
  });

  it('verifies with the key of the kid, then answers from the cache without looking a key up again', async () => {
    const lookups = jest.spyOn(keys, 'verificationKey');
    const token = tokenWith(current.privateKey, { kid: current.row.kid });
    await expect(authenticate(token)).resolves.toMatchObject({ id: 'u1', scheme: 'jwt' });
    await expect(authenticate(token)).resolves.toMatchObject({ id: 'u1' });
    expect(lookups).toHaveBeenCalledTimes(1);
    expect(sut.callerOf(req(token))).toBe('u1');
  });

  it('accepts the retired key while it is published, and the waiting key (published) too', async () => {
    await expect(authenticate(tokenWith(retired.privateKey, { kid: retired.row.kid }))).resolves.toMatchObject({
      id: 'u1',
    });
    await expect(authenticate(tokenWith(waiting.privateKey, { kid: waiting.row.kid }))).resolves.toMatchObject({
      id: 'u1',
    });
  });

  it('reads the keys again for an unknown kid of our shape before refusing it, and not for another shape', async () => {
    const reload = jest.spyOn(keys, 'reloadForUnknownKid').mockResolvedValue();
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    await refused(tokenWith(stranger, { kid: randomBytes(16).toString('base64url') }));
    expect(reload).toHaveBeenCalledTimes(1);
    await refused(tokenWith(stranger, { kid: "' OR 1=1 --" }));
    await refused(tokenWith(stranger, { kid: '../../etc/passwd' }));
    await refused(tokenWith(stranger, {}));
    expect(reload).toHaveBeenCalledTimes(1);
    expect(sut.callerOf(req(tokenWith(stranger, { kid: current.row.kid })))).toBeUndefined();
  });

  it('refuses a key not yet published, an alg that is not the key’s, and a kid of another key', async () => {
    const scheduled = row({ publishAt: Date.now() + HOUR, activateAt: Date.now() + 2 * HOUR });
    apply([retired.row, current.row, waiting.row, scheduled.row]);
    await refused(tokenWith(scheduled.privateKey, { kid: scheduled.row.kid }));
    await refused(tokenWith(current.privateKey, { kid: waiting.row.kid }));
    const [, payload, signature] = tokenWith(current.privateKey, { kid: current.row.kid }).split('.');
    const header = (h: unknown) => Buffer.from(JSON.stringify(h)).toString('base64url');
    await refused(`${header({ alg: 'ES384', typ: 'at+jwt', kid: current.row.kid })}.${payload}.${signature}`);
    await refused(`${header({ alg: 'none', typ: 'at+jwt', kid: current.row.kid })}.${payload}.`);
  });

  it('forgets verified tokens when a key leaves the set sooner than its tokens expire', async () => {
    const token = tokenWith(retired.privateKey, { kid: retired.row.kid });
    await authenticate(token);
    apply([current.row, waiting.row]);
    await refused(token);
  });
});
