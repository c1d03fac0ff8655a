import Fastify from 'fastify';
import pino from 'pino';
import { Writable } from 'node:stream';
import type { AppConfig } from './config/config';
import { createLoggers, logRequests, NestPinoLogger } from './logging';

class Lines extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  _write(chunk: Buffer, _enc: string, cb: () => void): void {
    for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) this.lines.push(JSON.parse(l));
    cb();
  }
}

describe('NestPinoLogger', () => {
  it("puts Nest's context in a field, merges objects and keeps an error's stack", () => {
    const out = new Lines();
    const sut = new NestPinoLogger(pino({ level: 'info' }, out));
    sut.log('listening', 'Bootstrap');
    sut.error({ reqId: 'r1' }, 'unhandled error', 'Errors');
    sut.error('mail failed', 'Error: boom\n    at send (mail.ts:1:1)', 'Mail');
    sut.debug('not shown', 'X');
    expect(out.lines).toEqual([
      expect.objectContaining({ level: 30, context: 'Bootstrap', msg: 'listening' }),
      expect.objectContaining({ level: 50, context: 'Errors', reqId: 'r1', msg: 'unhandled error' }),
      expect.objectContaining({
        level: 50,
        context: 'Mail',
        msg: 'mail failed',
        stack: expect.stringContaining('at send'),
      }),
    ]);
  });
});

describe('logRequests', () => {
  const start = async (logLevel: string) => {
    const out = new Lines();
    const app = Fastify({ genReqId: () => 'req-1' });
    logRequests(app, createLoggers({ logLevel } as AppConfig, out));
    app.get('/api/health', async () => ({ status: 'ok' }));
    app.get('/api/sessions/:id', async () => ({}));
    app.get('/boom', async () => {
      throw new Error('x');
    });
    await app.ready();
    return { app, out };
  };

  it("writes one JSON line per request in pino's shape, with secrets masked in the URL", async () => {
    const { app, out } = await start('info');
    await app.inject({ url: '/api/sessions/sess_SECRET?token=abc&page=2' });
    expect(out.lines).toEqual([
      {
        level: 30,
        time: expect.any(Number),
        pid: process.pid,
        hostname: expect.any(String),
        req: {
          id: 'req-1',
          method: 'GET',
          url: '/api/sessions/sess_[REDACTED]?token=[REDACTED]&page=2',
          remoteAddress: '127.0.0.1',
        },
        res: { statusCode: 200 },
        responseTime: expect.any(Number),
        msg: 'request completed',
      },
    ]);
  });

  it('skips successful liveness probes, logs errors at their level, and honours LOG_LEVEL', async () => {
    const info = await start('info');
    await info.app.inject({ url: '/api/health' });
    await info.app.inject({ url: '/nowhere' });
    await info.app.inject({ url: '/boom' });
    expect(info.out.lines.map((l) => [l.level, (l.res as { statusCode: number }).statusCode])).toEqual([
      [40, 404],
      [50, 500],
    ]);
    const warn = await start('warn');
    await warn.app.inject({ url: '/api/sessions/x' });
    await warn.app.inject({ url: '/nowhere' });
    expect(warn.out.lines).toHaveLength(1);
  });
});
