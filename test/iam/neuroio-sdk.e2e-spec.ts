import { createNeuroioRestApi } from '@neuroio/rest-api';
import request from 'supertest';
import { api, PASSWORD } from '../support/api';
import { startTestApp, TestApp } from '../support/harness';

type Sdk = NonNullable<ReturnType<typeof createNeuroioRestApi>>;
type SdkError = { response?: { status: number; data: Record<string, unknown> } };

/**
 * The IAM surface driven by its official client, the NeuroIO JS SDK (`@neuroio/rest-api`, axios 0.19
 * underneath), exactly as an application uses it: `setEndpoint`, `init(username, password)`, then its
 * methods. Every outcome is checked by what a user would see next, not by the status alone.
 */
describe('the NeuroIO SDK against the IAM surface', () => {
  let t: TestApp;
  const USERNAME = 'sdk-user';
  const EMAIL = 'sdk-user@test.example.org';
  const NEW_PASSWORD = 'Lantern-Orchid-5817';

  /**
   * A fresh SDK instance pointed at the service under test, signed in with `key` if given. The key goes
   * in through `setToken` (`Authorization: Token <key>`, as API.md section 4 says): the SDK's own
   * `createNeuroioRestApi({ token })` option sends it in a header named `token` instead, which no
   * documented scheme reads.
   */
  const sdk = (key?: string): Sdk => {
    const client = createNeuroioRestApi({ version: 1 })!;
    client.setEndpoint({ base: `${t.url}/v1/`, auth: `${t.url}/v1/` });
    if (key) client.setToken(key);
    return client;
  };
  /** The HTTP status and body that the SDK's promise was rejected with. */
  const failure = async (p: Promise<unknown>) => {
    const e = (await p.then(
      () => {
        throw new Error('the SDK call succeeded, but it should have failed');
      },
      (err: SdkError) => err,
    )) as SdkError;
    if (!e.response) throw e as Error;
    return { status: e.response.status, body: e.response.data };
  };

  beforeAll(async () => {
    t = await startTestApp();
    const h = api(t);
    await request(t.url)
      .post('/api/auth/register')
      .set(h.bearer(await h.adminToken()))
      .send({ email: EMAIL, username: USERNAME, password: PASSWORD, role: 'researcher' })
      .expect(201);
  });
  afterAll(() => t.close());

  it('logs in with init() and then knows who it is', async () => {
    const client = sdk();
    const login = await client.init(USERNAME, PASSWORD);
    expect(login.user.username).toBe(USERNAME);
    expect(login.token).toMatchObject({ id: expect.any(Number), key: expect.stringMatching(/^tk_/), is_active: true });
    const me = await client.auth.whoami();
    expect(me).toMatchObject({ username: USERNAME, space: null });
    const byEmail = await sdk().init(EMAIL, PASSWORD);
    expect(byEmail.user.username).toBe(USERNAME);
  });

  it('rejects init() with a wrong password as 401, code 602', async () => {
    expect(await failure(sdk().init(USERNAME, 'Wrong-Pass-123'))).toEqual({
      status: 401,
      body: { error_codes: [602], message: 'Username and password do not match.', fields: [] },
    });
  });

  it('creates, lists, deactivates with PUT, reactivates and deletes a token', async () => {
    const client = sdk();
    await client.init(USERNAME, PASSWORD);
    const created = await client.tokens.createToken({ permanent: true });
    expect(created.key).toMatch(/^tk_/);
    const holder = sdk(created.key);
    expect((await holder.auth.whoami()).username).toBe(USERNAME);

    const permanent = await client.tokens.getTokens({ permanent: true, limit: 10, offset: 0 });
    expect(permanent.map((x) => x.id)).toContain(created.id);
    expect((await client.tokens.getToken(created.id)).id).toBe(created.id);

    const off = await client.tokens.updateToken({ id: created.id, is_active: false });
    expect(off.is_active).toBe(false);
    expect((await failure(holder.auth.whoami())).status).toBe(401);
    const on = await client.tokens.updateToken({ id: created.id, is_active: true });
    expect(on.is_active).toBe(true);
    expect((await holder.auth.whoami()).username).toBe(USERNAME);

    // The SDK sends DELETE with Content-Type: application/json and no body.
    await client.tokens.deleteToken(created.id);
    expect((await failure(holder.auth.whoami())).status).toBe(401);
    expect((await client.tokens.getTokens({ permanent: true })).map((x) => x.id)).not.toContain(created.id);
    expect((await failure(client.tokens.getToken(created.id))).status).toBe(404);
  });

  it('deletes every permanent token but the one in use, and logs out', async () => {
    const client = sdk();
    const { token: session } = await client.init(USERNAME, PASSWORD);
    const a = await client.tokens.createToken({ permanent: true });
    const b = await client.tokens.createToken({ permanent: true });
    await client.tokens.deleteTokens({ permanent: true });
    expect((await failure(sdk(a.key).auth.whoami())).status).toBe(401);
    expect((await failure(sdk(b.key).auth.whoami())).status).toBe(401);
    expect(await client.tokens.getTokens({ permanent: true })).toEqual([]);
    // logout(tokenId) deletes the token that the client signed in with.
    await client.auth.logout(String(session.id));
    expect((await failure(client.auth.whoami())).status).toBe(401);
  });

  it('creates, renames with PUT, lists, scopes a token to, and deletes a space', async () => {
    const client = sdk();
    await client.init(USERNAME, PASSWORD);
    const space = await client.spaces.createSpace({ name: 'Front door' });
    expect(space).toMatchObject({ id: expect.any(Number), name: 'Front door' });

    const renamed = await client.spaces.updateSpace({ id: space.id, name: 'Back door' });
    expect(renamed.name).toBe('Back door');
    // The SDK's types say an array; the contract (API.md section 4) says {results, count}, and wins.
    const list = (await client.spaces.getSpaces({ q: 'door' })) as unknown as {
      results: { id: number; name: string }[];
      count: number;
    };
    expect(list.results).toEqual([expect.objectContaining({ id: space.id, name: 'Back door' })]);
    expect(list.count).toBe(1);
    expect((await client.spaces.getSpace(space.id)).name).toBe('Back door');

    const scoped = await client.spaces.createToken({ id: space.id, permanent: true });
    const inSpace = sdk(scoped.key);
    expect(await inSpace.auth.whoami()).toMatchObject({ space: { id: space.id, name: 'Back door' } });

    await client.spaces.deleteSpace(space.id);
    const after = (await client.spaces.getSpaces({})) as unknown as { results: { id: number }[]; count: number };
    expect(after.results.map((s) => s.id)).not.toContain(space.id);
    expect((await failure(client.spaces.getSpace(space.id))).status).toBe(404);
    expect((await failure(inSpace.auth.whoami())).status).toBe(401);
  });

  it('answers bad input with the validation shape that the SDK surfaces', async () => {
    const client = sdk();
    await client.init(USERNAME, PASSWORD);
    const { status, body } = await failure(client.spaces.createSpace({ name: '' }));
    expect(status).toBe(400);
    expect(body).toEqual({
      error_codes: [400],
      message: 'Validation error.',
      fields: [{ name: 'name', message: expect.any(String), error_code: 400 }],
    });
  });

  it('changes the password: the old one fails, the new one works, reset_tokens ends the other tokens', async () => {
    const client = sdk();
    await client.init(USERNAME, PASSWORD);
    const other = await sdk().init(USERNAME, PASSWORD);

    const wrong = await failure(
      client.auth.changePassword({ old_password: 'Not-The-One-1', password: NEW_PASSWORD, password2: NEW_PASSWORD }),
    );
    expect(wrong.status).toBe(400);
    expect(wrong.body.fields).toEqual([{ name: 'old_password', message: 'Incorrect password.', error_code: 400 }]);

    await client.auth.changePassword({
      old_password: PASSWORD,
      password: NEW_PASSWORD,
      password2: NEW_PASSWORD,
      reset_tokens: true,
    });
    expect((await failure(sdk().init(USERNAME, PASSWORD))).status).toBe(401);
    expect((await sdk().init(USERNAME, NEW_PASSWORD)).user.username).toBe(USERNAME);
    // The token that made the change keeps working; every other one ends.
    expect((await client.auth.whoami()).username).toBe(USERNAME);
    expect((await failure(sdk(other.token.key).auth.whoami())).status).toBe(401);
  });
});
