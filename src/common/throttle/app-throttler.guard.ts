import { ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { Metrics, NO_METRICS } from '../../metrics/metrics';
import { ThrottlerException, ThrottlerGuard } from '@nestjs/throttler';
import type { ThrottlerRequest } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';

type Limited = FastifyRequest & { rateLimitShown?: number };

/**
 * The throttler of API.md section 0. Limits set to `off` are never registered, so with all of them off
 * a request pays for one length check. The standard `X-RateLimit-*` headers show the tightest limit
 * that applies to the request; a refusal carries `Retry-After`.
 */
@Injectable()
export class AppThrottlerGuard extends ThrottlerGuard {
  // A property, not a constructor parameter: the constructor is ThrottlerGuard's.
  @Optional() @Inject(Metrics) private readonly metrics: Metrics = NO_METRICS;

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.throttlers.length === 0) return true;
    return super.canActivate(context);
  }

  protected async handleRequest({
    context,
    limit,
    ttl,
    throttler,
    blockDuration,
    getTracker,
    generateKey,
  }: ThrottlerRequest): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Limited>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const tracker = await getTracker(req, context);
    const key = generateKey(context, tracker, throttler.name ?? 'default');
    const record = await this.storageService.increment(key, ttl, limit, blockDuration, throttler.name ?? 'default');
    const remaining = Math.max(0, limit - record.totalHits);
    if (record.isBlocked) {
      const name = throttler.name ?? 'default';
      this.metrics.rateLimited(name);
      // The per-account login limit is an account locked for the window; the per-IP one, a client slowed.
      if (name === 'login') this.metrics.signIn('password', 'locked');
      else if (name === 'loginIp') this.metrics.signIn('password', 'rate_limited');
      reply.header('Retry-After', String(record.timeToBlockExpire));
      this.showLimit(reply, limit, 0, record.timeToBlockExpire);
      throw new ThrottlerException();
    }
    if (req.rateLimitShown === undefined || remaining < req.rateLimitShown) {
      req.rateLimitShown = remaining;
      this.showLimit(reply, limit, remaining, record.timeToExpire);
    }
    return true;
  }

  protected generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return `${name}:${tracker}`;
  }

  private showLimit(reply: FastifyReply, limit: number, remaining: number, resetSec: number): void {
    reply.header('X-RateLimit-Limit', String(limit));
    reply.header('X-RateLimit-Remaining', String(remaining));
    reply.header('X-RateLimit-Reset', String(resetSec));
  }
}
