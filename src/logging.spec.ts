import Fastify from 'fastify';
import pino from 'pino';
import { Writable } from 'node:stream';
import type { AppConfig } from './config/config';
import { chooseLogFormat, createLoggers, logRequests, NestPinoLogger } from './logging';

class Lines extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  _write(chunk: Buffer, _enc: string, cb: () => void): void {
    for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) this.lines.push(JSON.parse(l));
    cb();
  }
}

class Text extends Writable {
  text = '';
  _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString('utf8');
    cb();
  }
}

/** pino-pretty hands lines on through a stream of its own: let it finish. */
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('chooseLogFormat', () => {
  it('is readable only for a person at a terminal in development', () => {
    expect(chooseLogFormat('development', {}, true)).toBe('pretty');
    expect(chooseLogFormat('development', { CI: '' }, true)).toBe('pretty');
    expect(chooseLogFormat('development', { CI: 'false' }, true)).toBe('pretty');
  });

  it('stays JSON in production and tests, under CI, and when stdout is a pipe or a file', () => {
    expect(chooseLogFormat('production', {}, true)).toBe('json');
    expect(chooseLogFormat('test', {}, true)).toBe('json');
    expect(chooseLogFormat('development', { CI: 'true' }, true)).toBe('json');
    expect(chooseLogFormat('development', { CI: '1' }, true)).toBe('json');
    expect(chooseLogFormat('development', {}, false)).toBe('json');
  });

  it('is JSON when the loggers are given a stream and no format', () => {
    const out = new Lines();
    const { app } = createLoggers({ logLevel: 'info', env: 'development' } as AppConfig, out);
    app.info('hello');
    expect(out.lines).toEqual([expect.objectContaining({ level: 30, msg: 'hello' })]);
  });
});

describe('the pretty format', () => {
  const start = () => {
    const out = new Text();
    const loggers = createLoggers({ logLevel: 'info' } as AppConfig, out, 'pretty');
    return { out, loggers };
  };

  it('writes one readable line per event, with the context, and censors secrets as JSON does', async () => {
    const { out, loggers } = start();
    const sut = new NestPinoLogger(loggers.app);
    sut.log('listening on http://127.0.0.1:3000', 'Bootstrap');
    sut.warn({ user: { email: 'a@b.c', password: 'hunter2-Secret' }, token: 'tk_plain' }, 'odd input', 'Auth');
    await settle();
    const lines = out.text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[Bootstrap\] listening on http:\/\/127\.0\.0\.1:3000$/);
    expect(lines[1]).toMatch(/WARN: \[Auth\] odd input/);
    expect(lines[1]).toContain('"password":"[REDACTED]"');
    expect(lines[1]).toContain('"token":"[REDACTED]"');
    expect(out.text).not.toContain('hunter2');
    expect(out.text).not.toContain('tk_plain');
    expect(out.text).not.toContain('{"level"');
  });

  it('writes the request line as method, masked URL, status and time', async () => {
    const { out, loggers } = start();
    const app = Fastify({ genReqId: () => 'req-1' });
    logRequests(app, loggers);
    app.get('/api/sessions/:id', async () => ({}));
    await app.ready();
    await app.inject({ url: '/api/sessions/sess_SECRET?token=abc' });
    await settle();
    expect(out.text).toMatch(
      /INFO: GET \/api\/sessions\/sess_\[REDACTED\]\?token=\[REDACTED\] 200 \d+ ms \(req-1\)\n$/,
    );
    expect(out.text).not.toContain('SECRET');
  });
});

describe('NestPinoLogger', () => {
  it("moves Nest's line per module and per route to debug", () => {
    const info = new Lines();
    const atInfo = new NestPinoLogger(pino({ level: 'info' }, info));
    atInfo.log('Mapped {/api/users, GET} route', 'RouterExplorer');
    atInfo.log('UsersController {/api/users}:', 'RoutesResolver');
    atInfo.log('UsersModule dependencies initialized', 'InstanceLoader');
    atInfo.log('Nest application successfully started', 'NestApplication');
    expect(info.lines).toEqual([expect.objectContaining({ level: 30, context: 'NestApplication' })]);
    const debug = new Lines();
    const atDebug = new NestPinoLogger(pino({ level: 'debug' }, debug));
    atDebug.log('Mapped {/api/users, GET} route', 'RouterExplorer');
    expect(debug.lines).toEqual([
      expect.objectContaining({ level: 20, context: 'RouterExplorer', msg: 'Mapped {/api/users, GET} route' }),
    ]);
  });

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
