import { RedisService } from '../../redis/redis.service';
import { CounterStorage, MemoryCounters } from './counter-storage';

describe('MemoryCounters', () => {
  afterEach(() => jest.useRealTimers());

  it('counts hits in a fixed window and starts over when it ends', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const sut = new MemoryCounters();
    expect(sut.increment('k', 60_000)).toEqual({ hits: 1, ttlMs: 60_000 });
    jest.setSystemTime(1_030_000);
    expect(sut.increment('k', 60_000)).toEqual({ hits: 2, ttlMs: 30_000 });
    jest.setSystemTime(1_060_001);
    expect(sut.increment('k', 60_000)).toEqual({ hits: 1, ttlMs: 60_000 });
    sut.close();
  });

  it('keeps keys apart and forgets expired windows when swept', () => {
    jest.useFakeTimers({ now: 0 });
    const sut = new MemoryCounters();
    sut.increment('a', 1000);
    sut.increment('b', 5000);
    expect(sut.increment('a', 1000).hits).toBe(2);
    jest.setSystemTime(2000);
    sut.sweep();
    expect(sut.increment('b', 5000).hits).toBe(2);
    expect(sut.increment('a', 1000).hits).toBe(1);
    sut.close();
  });
});

describe('CounterStorage without Redis', () => {
  it('blocks past the limit and says for how long', async () => {
    const sut = new CounterStorage({ client: null } as RedisService);
    for (let i = 1; i <= 5; i++) {
      expect(await sut.increment('login:1.2.3.4|a@b.c', 900_000, 5)).toMatchObject({ totalHits: i, isBlocked: false });
    }
    const sixth = await sut.increment('login:1.2.3.4|a@b.c', 900_000, 5);
    expect(sixth).toMatchObject({ totalHits: 6, isBlocked: true });
    expect(sixth.timeToBlockExpire).toBeGreaterThan(890);
    expect(sixth.timeToBlockExpire).toBeLessThanOrEqual(900);
    sut.onModuleDestroy();
  });
});
