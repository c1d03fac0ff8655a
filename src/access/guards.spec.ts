import { ExecutionContext } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import type { AuthedRequest } from './auth-user';
import { AuthSchemes } from './decorators';
import { Strategy as CustomStrategy } from 'passport-custom';
import { AuthenticationGuard, presentedScheme } from './authentication.guard';
import { StrategyRunner } from './passport';
import { loadConfig } from '../config/config';
import { RolesGuard } from './roles.guard';

const contextFor = (req: Partial<AuthedRequest>): ExecutionContext =>
  ({
    getHandler: () => () => undefined,
    getClass: () => class {},
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => ({}) }),
  }) as unknown as ExecutionContext;

const reflectorReturning = (values: Record<string, unknown>) =>
  ({
    getAllAndOverride: (key: unknown) => values[typeof key === 'string' ? key : (key as { KEY: string }).KEY],
  }) as unknown as Reflector;

describe('presentedScheme', () => {
  const req = (headers: Record<string, string>, cookies: Record<string, string> = {}) =>
    ({ headers, cookies }) as unknown as AuthedRequest;

  it('tells the schemes apart by their header', () => {
    expect(presentedScheme(req({ authorization: 'Bearer abc' }))).toBe('jwt');
    expect(presentedScheme(req({ authorization: 'bearer abc' }))).toBe('jwt');
    expect(presentedScheme(req({ authorization: 'Basic YTpi' }))).toBe('basic');
    expect(presentedScheme(req({ authorization: 'Token k' }))).toBe('token');
    expect(presentedScheme(req({ 'x-api-key': 'k' }))).toBe('api-key');
    expect(presentedScheme(req({}, { auth_token: 'jwt' }))).toBe('jwt');
  });

  it('recognises nothing in an unknown scheme or no credential', () => {
    expect(presentedScheme(req({ authorization: 'Digest x' }))).toBeUndefined();
    expect(presentedScheme(req({}))).toBeUndefined();
  });
});

describe('AuthenticationGuard', () => {
  const noDiscovery = { getProviders: () => [] } as unknown as DiscoveryService;
  const tried: string[] = [];
  const guardWith = (metadata: Record<string, unknown>) => {
    const runner = new StrategyRunner(noDiscovery);
    runner.register(
      'jwt',
      new CustomStrategy((_req, done) => {
        tried.push('jwt');
        done(null, { id: 'u1', role: 'viewer', scheme: 'jwt' });
      }),
    );
    runner.register(
      'token',
      new CustomStrategy((_req, done) => {
        tried.push('token');
        done(null, false);
      }),
    );
    return new AuthenticationGuard(
      reflectorReturning(metadata),
      runner,
      {} as never,
      loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32) }),
    );
  };
  beforeEach(() => (tried.length = 0));

  it('lets a public route through without credentials', async () => {
    await expect(guardWith({ 'identity:isPublic': true }).canActivate(contextFor({ headers: {} }))).resolves.toBe(true);
  });

  it('closes every other route to a caller without credentials', async () => {
    await expect(guardWith({}).canActivate(contextFor({ headers: {} }))).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it("runs the one strategy of the credential's scheme and makes its user the request's user", async () => {
    const req = { headers: { authorization: 'Bearer abc' }, method: 'GET' } as Partial<AuthedRequest>;
    await expect(guardWith({}).canActivate(contextFor(req))).resolves.toBe(true);
    expect(req.user).toEqual({ id: 'u1', role: 'viewer', scheme: 'jwt' });
    expect(tried).toEqual(['jwt']);
  });

  it('answers a strategy that fails with INVALID_TOKEN, without trying another strategy', async () => {
    const req = { headers: { authorization: 'Token k' }, method: 'GET' } as Partial<AuthedRequest>;
    await expect(guardWith({}).canActivate(contextFor(req))).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(tried).toEqual(['token']);
  });

  it('refuses a scheme that has no strategy, or that the route does not take', async () => {
    const basic = contextFor({ headers: { authorization: 'Basic YTpi' } });
    await expect(guardWith({}).canActivate(basic)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const bearer = contextFor({ headers: { authorization: 'Bearer abc' } });
    await expect(guardWith({ [AuthSchemes.KEY]: ['basic'] }).canActivate(bearer)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });
});

describe('RolesGuard', () => {
  const guard = (roles: string[] | undefined) =>
    new RolesGuard({ getAllAndOverride: () => roles } as unknown as Reflector);
  const ctx = (role: string) => contextFor({ user: { id: 'u', role, scheme: 'jwt' } as AuthedRequest['user'] });

  it('allows any authenticated caller on a route without @Roles', () => {
    expect(guard(undefined).canActivate(ctx('viewer'))).toBe(true);
  });

  it('lets admin through every role check', () => {
    expect(guard(['researcher']).canActivate(ctx('admin'))).toBe(true);
  });

  it('allows a listed role and refuses any other with 403 FORBIDDEN', () => {
    expect(guard(['researcher', 'viewer']).canActivate(ctx('viewer'))).toBe(true);
    expect(() => guard(['researcher']).canActivate(ctx('coordinator'))).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN', status: 403 }) as unknown as Error,
    );
  });
});
