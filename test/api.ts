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
