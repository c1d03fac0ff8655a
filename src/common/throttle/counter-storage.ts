import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import type Redis from 'ioredis';
import { RedisService } from '../../redis/redis.service';
import { DomainError } from '../errors/domain-error';

/**
 * Fixed-window counters: one number and one deadline per key, so a hit costs O(1) (the built-in storage
 * keeps a timestamp per hit and filters them all on every request). Expired windows are swept once a
 * minute.
 */
export class MemoryCounters {
  private readonly windows = new Map<string, { hits: number; resetAt: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  increment(key: string, ttlMs: number): { hits: number; ttlMs: number } {
    const now = Date.now();
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { hits: 0, resetAt: now + ttlMs };
      this.windows.set(key, w);
    }
    w.hits += 1;
    return { hits: w.hits, ttlMs: w.resetAt - now };
  }

  /** Takes back one hit of a live window (a guess that turned out right). */
  decrement(key: string): void {
    const w = this.windows.get(key);
    if (w && w.resetAt > Date.now() && w.hits > 0) w.hits -= 1;
  }

  /** The hits of a live window without adding one. */
  peek(key: string): number {
    const w = this.windows.get(key);
    return w && w.resetAt > Date.now() ? w.hits : 0;
  }

  sweep(): void {
    const now = Date.now();
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
  }

  clear(): void {
    this.windows.clear();
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}

/** INCR and PEXPIRE in one round trip, atomically, so that every instance shares one window per key. */
const REDIS_INCREMENT = `
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {hits, ttl}`;

/** DECR only a live window above zero, so that a late release never makes a window of its own. */
const REDIS_DECREMENT = `
local hits = tonumber(redis.call('GET', KEYS[1]) or '0')
if hits > 0 then redis.call('DECR', KEYS[1]) end
return 0`;

@Injectable()
export class CounterStorage implements ThrottlerStorage, OnModuleDestroy {
  private readonly logger = new Logger('RateLimit');
  readonly memory = new MemoryCounters();
  private readonly redis: Redis | null;

  constructor(redis: RedisService) {
    this.redis = redis.client;
  }

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const { hits, ttlMs } = await this.count(key, ttl);
    const timeToExpire = Math.max(1, Math.ceil(ttlMs / 1000));
    const isBlocked = hits > limit;
    return { totalHits: hits, timeToExpire, isBlocked, timeToBlockExpire: isBlocked ? timeToExpire : 0 };
  }

  /**
   * Counts one attempt against `key` before the attempt is made (API.md 12: guesses and sends are counted
   * first, atomically, so that parallel requests cannot get past the limit), and refuses it beyond `limit`:
   * 429 RATE_LIMIT_EXCEEDED with Retry-After. No limit (`off`): nothing is counted.
   */
  async take(key: string, limit: { limit: number; ttlMs: number } | null, message: string): Promise<void> {
    if (!limit) return;
    const record = await this.increment(key, limit.ttlMs, limit.limit);
    if (record.isBlocked) throw new DomainError('RATE_LIMIT_EXCEEDED', message, [], undefined, record.timeToExpire);
  }

  /** Takes back one hit of the key's live window, if it has one (shared through Redis when set). */
  async decrement(key: string): Promise<void> {
    if (this.redis && this.redis.status === 'ready') {
      try {
        await this.redis.eval(REDIS_DECREMENT, 1, `rl:${key}`);
        return;
      } catch (e) {
        this.logger.warn(`redis counter failed, counting locally: ${(e as Error).message}`);
      }
    }
    this.memory.decrement(key);
  }

  /** How many hits the key's current window holds, without adding one (shared through Redis when set). */
  async peek(key: string): Promise<number> {
    if (this.redis && this.redis.status === 'ready') {
      try {
        return Number((await this.redis.get(`rl:${key}`)) ?? 0);
      } catch (e) {
        this.logger.warn(`redis counter failed, counting locally: ${(e as Error).message}`);
      }
    }
    return this.memory.peek(key);
  }

  private async count(key: string, ttlMs: number): Promise<{ hits: number; ttlMs: number }> {
    if (this.redis && this.redis.status === 'ready') {
      try {
        const [hits, ttl] = (await this.redis.eval(REDIS_INCREMENT, 1, `rl:${key}`, ttlMs)) as [number, number];
        return { hits, ttlMs: ttl };
      } catch (e) {
        this.logger.warn(`redis counter failed, counting locally: ${(e as Error).message}`);
      }
    }
    return this.memory.increment(key, ttlMs);
  }

  onModuleDestroy(): void {
    this.memory.close();
  }
}
