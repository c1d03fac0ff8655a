import { ExecutionContext, Module } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { ThrottlerModule, ThrottlerOptions } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig, RateLimitName } from '../../config/config';
import { extractAccessToken } from '../../auth/strategies/jwt.strategy';
import { UsersModule } from '../../users/users.module';
import { UsersService } from '../../users/users.service';
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
};

@Module({ providers: [CounterStorage], exports: [CounterStorage] })
class CounterStorageModule {}

export function buildThrottlers(
  config: AppConfig,
  reflector: Reflector,
  jwt: JwtService,
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
      // authentication, so the token is checked here (in memory: a signature and expiry check).
      getTracker: (req) => {
        const token = extractAccessToken(req as FastifyRequest);
        if (token) {
          try {
            return `user:${jwt.verify<{ sub: string }>(token).sub}`;
          } catch {
            /* an invalid token is counted against the IP */
          }
        }
        return `ip:${ipOf(req as FastifyRequest)}`;
      },
      skipIf: (ctx) => reflector.getAllAndOverride(SkipDefaultRateLimit, targets(ctx)) === true,
    });
  }
  return throttlers;
}

@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [CounterStorageModule, UsersModule],
      inject: [APP_CONFIG, Reflector, JwtService, CounterStorage, UsersService],
      useFactory: (
        config: AppConfig,
        reflector: Reflector,
        jwt: JwtService,
        storage: CounterStorage,
        users: UsersService,
      ) => ({
        throttlers: buildThrottlers(config, reflector, jwt, (identifier) => users.resolveLoginId(identifier)),
        storage,
      }),
    }),
  ],
  exports: [ThrottlerModule],
})
export class ThrottleModule {}
