import { DynamicModule, ExecutionContext, Module, type ModuleMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerModule, ThrottlerOptions } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig, RateLimitName } from '../../config/config';
import { CALLER_OF, CallerOf, LOGIN_ACCOUNT_OF } from './caller';
import { CounterStorage } from './counter-storage';
import { LoginField, RateLimited, SkipDefaultRateLimit } from './rate-limit.decorators';
import { ipAndAccount, ipAndEmail, ipOf, LoginAccountResolver } from './trackers';

// Order matters: the per-IP login limit counts first, so attempts refused per account still use up the IP's budget.
const TRACKERS: Record<
  Exclude<RateLimitName, 'default'>,
  (
    req: FastifyRequest,
    field: 'username' | 'email' | undefined,
    resolve: LoginAccountResolver,
  ) => string | Promise<string>
> = {
  loginIp: ipOf,
  login: ipAndAccount,
  register: ipOf,
  resend: ipOf,
  magicLink: ipAndEmail,
  // Counted by the OAuth provider's own mount (src/oauth), which no Nest route reaches.
  oauth: ipOf,
};

/** The shared counters alone (guess limits, send limits), for features that count without the throttler. */
@Module({ providers: [CounterStorage], exports: [CounterStorage] })
export class CounterStorageModule {}

export function buildThrottlers(
  config: AppConfig,
  reflector: Reflector,
  callerOf: CallerOf,
  resolveAccount: LoginAccountResolver,
): ThrottlerOptions[] {
  const targets = (ctx: ExecutionContext) => [ctx.getHandler(), ctx.getClass()];
  const throttlers: ThrottlerOptions[] = [];
  for (const name of Object.keys(TRACKERS) as (keyof typeof TRACKERS)[]) {
    const limit = config.rateLimits[name];
    if (!limit) continue;
    throttlers.push({
      name,
      limit: limit.limit,
      ttl: limit.ttlMs,
      getTracker: (req, ctx) =>
        TRACKERS[name](
          req as FastifyRequest,
          reflector.getAllAndOverride(LoginField, targets(ctx)) ?? undefined,
          resolveAccount,
        ),
      skipIf: (ctx) => !(reflector.getAllAndOverride(RateLimited, targets(ctx)) ?? []).includes(name),
    });
  }
  const fallback = config.rateLimits.default;
  if (fallback) {
    throttlers.push({
      name: 'default',
      limit: fallback.limit,
      ttl: fallback.ttlMs,
      // Per caller: the user of a valid access token, else the client IP. The throttler runs before
      // authentication, so the token is checked here (in memory, and once per token: the JWT strategy's cache).
      getTracker: (req) => {
        const user = callerOf(req as FastifyRequest);
        return user === undefined ? `ip:${ipOf(req as FastifyRequest)}` : `user:${user}`;
      },
      skipIf: (ctx) => reflector.getAllAndOverride(SkipDefaultRateLimit, targets(ctx)) === true,
    });
  }
  return throttlers;
}

type ModuleImport = NonNullable<ModuleMetadata['imports']>[number];

/**
 * The throttler of every route. It counts per caller and per account, which only the modules above it can
 * tell: AppModule passes the modules that provide CALLER_OF (sessions/: whose access token it is) and
 * LOGIN_ACCOUNT_OF (users/: which account an identifier names).
 */
@Module({})
export class ThrottleModule {
  static forRoot(callers: ModuleImport[]): DynamicModule {
    return {
      module: ThrottleModule,
      imports: [
        ThrottlerModule.forRootAsync({
          imports: [CounterStorageModule, ...callers],
          inject: [APP_CONFIG, Reflector, CALLER_OF, LOGIN_ACCOUNT_OF, CounterStorage],
          useFactory: (
            config: AppConfig,
            reflector: Reflector,
            callerOf: CallerOf,
            resolveAccount: LoginAccountResolver,
            storage: CounterStorage,
          ) => ({
            throttlers: buildThrottlers(config, reflector, callerOf, resolveAccount),
            storage,
          }),
        }),
        CounterStorageModule,
      ],
      exports: [ThrottlerModule, CounterStorageModule],
    };
  }
}
