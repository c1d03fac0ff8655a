import { createHmac, randomUUID } from 'node:crypto';
import { TEST_JWT_SECRET } from './harness';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/**
 * Hand-made JWTs for the attacks a client could try: another key, another algorithm, no signature,
 * wrong issuer or audience. Built without the service's signer on purpose.
 */
export function forgeJwt(
  claims: Record<string, unknown>,
  opts: { secret?: string; alg?: string; typ?: string; signature?: string } = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: opts.alg ?? 'HS256', typ: opts.typ ?? 'at+jwt' };
  const payload = {
    iat: now,
    exp: now + 3600,
    jti: randomUUID(),
    iss: 'identity-service',
    aud: 'identity-clients',
    ...claims,
  };
  const unsigned = `${b64(header)}.${b64(payload)}`;
  if (opts.signature !== undefined) return `${unsigned}.${opts.signature}`;
  const sig = createHmac('sha256', opts.secret ?? TEST_JWT_SECRET)
    .update(unsigned)
    .digest('base64url');
  return `${unsigned}.${sig}`;
}
