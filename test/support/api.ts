import request from 'supertest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, TestApp } from './harness';

export const PASSWORD = 'Quartz-Meadow-2931';

/** Small helpers that talk to the service exactly as a client does: over HTTP, with documented bodies. */
export function api(t: TestApp) {
  const login = async (username: string, password: string, extra: Record<string, unknown> = {}) => {
    const res = await request(t.url)
      .post('/api/auth/login')
      .send({ username, password, ...extra });
    if (res.status !== 200) throw new Error(`login of ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as {
      access_token: string;
      refresh_token: string;
      expires_in: number;
      user: { id: string; role: string };
    };
  };
  const adminToken = async () => (await login(ADMIN_EMAIL, ADMIN_PASSWORD)).access_token;
  const createUser = async (email: string, role: string, password: string | null = PASSWORD, token?: string) => {
    const res = await request(t.url)
      .post('/api/auth/register')
      .set('Authorization', `Bearer ${token ?? (await adminToken())}`)
      .send({ email, role, ...(password ? { password } : {}) });
    if (res.status !== 201) throw new Error(`register ${email} failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { id: string; email: string; role: string };
  };
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  return { login, adminToken, createUser, bearer };
}

export function decodeJwt(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export interface SameTimeOptions {
  /** Interleaved pairs of samples in a batch. */
  pairs?: number;
  /** Batches measured at most; the first whose medians agree is enough. */
  attempts?: number;
  /** The ratio of the medians (second / first) that counts as the same time. */
  low?: number;
  high?: number;
  /** Medians this close (ms) agree whatever their ratio: scheduling noise dwarfs sub-millisecond answers. */
  floorMs?: number;
  /** Run after each sample, so that work done after an answer (a mail) is not counted against the next. */
  settle?: () => Promise<unknown>;
}

/**
 * Times two ways of being answered, interleaved, and tells whether their medians agree. The machine is
 * shared with the other suites (a browser on the other core), so one batch can be skewed: up to
 * `attempts` batches are measured and one that agrees is enough. A real leak (an argon2 verification
 * skipped: a millisecond against twenty) fails every batch. Each sample gets an index of its own, so that
 * a caller can name a fresh unknown account each time.
 */
export async function sameTime(
  first: (i: number) => Promise<unknown>,
  second: (i: number) => Promise<unknown>,
  { pairs = 15, attempts = 3, low = 0.8, high = 1.25, floorMs = 0, settle }: SameTimeOptions = {},
): Promise<string> {
  const seen: string[] = [];
  let n = 0;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const a: number[] = [];
    const b: number[] = [];
    for (let k = 0; k < pairs; k++, n++) {
      let t0 = performance.now();
      await first(n);
      a.push(performance.now() - t0);
      await settle?.();
      t0 = performance.now();
      await second(n);
      b.push(performance.now() - t0);
      await settle?.();
    }
    const [ma, mb] = [median(a), median(b)];
    if (Math.abs(ma - mb) <= floorMs || (mb / ma > low && mb / ma < high)) return 'the same time';
    seen.push(`${mb.toFixed(1)} ms against ${ma.toFixed(1)} ms`);
  }
  return `different times: ${seen.join('; ')}`;
}
