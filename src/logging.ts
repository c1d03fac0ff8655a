import type { LoggerService } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { hostname } from 'node:os';
import pino, { DestinationStream, Level, Logger } from 'pino';
import type { AppConfig } from './config/config';
import { redactUrl } from './common/redact';

/** Routes polled by load balancers and probes: answering them is not worth a log line each. */
const UNLOGGED_ROUTES = new Set(['/api/health']);

export interface AppLoggers {
  /** Everything the application says: redacted, since an object logged by mistake may hold a secret. */
  app: Logger;
  /** Where the one line per request goes (the same stream as `app`). */
  requests: DestinationStream;
}

/**
 * How long a log line may wait in the buffer. Lines are written in batches (at 8 KiB, or after this
 * long) rather than one write per line, and whatever is buffered is written at exit; a SIGKILL loses at
 * most this much of the log.
 */
export const LOG_FLUSH_MS = 250;

/**
 * Structured JSON logs. Credentials never reach them: the request line carries no headers or bodies,
 * secret query parameters and path segments are masked, and the application logger censors the fields
 * that carry secrets. Stdout is written asynchronously and in batches, so logging never waits for the
 * terminal or the log collector.
 */
export function createLoggers(config: AppConfig, stream?: DestinationStream): AppLoggers {
  const destination =
    stream ?? pino.destination({ dest: 1, sync: false, minLength: 8192, periodicFlush: LOG_FLUSH_MS });
  const app = pino(
    {
      level: config.logLevel,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["x-api-key"]',
          'req.headers["x-session-id"]',
          'req.headers["x-csrf-token"]',
          'res.headers["set-cookie"]',
          '*.password',
          '*.token',
          '*.refresh_token',
          '*.access_token',
        ],
        censor: '[REDACTED]',
      },
    },
    destination,
  );
  return { app, requests: destination };
}

/**
 * Logs every request once, when its response has been sent, from Fastify's own hook: no middleware layer
 * and no async context per request. The line has pino's shape (level, time, pid, hostname, msg) but is
 * put together here: its fields are the request line's alone (no headers, no body, the URL with its
 * secrets masked), so it needs neither a serializer nor a redaction pass, which together measured about
 * a third of an authenticated request's CPU.
 */
export function logRequests(fastify: FastifyInstance, { app, requests }: AppLoggers): void {
  const fixed = `"pid":${process.pid},"hostname":${JSON.stringify(hostname())}`;
  fastify.addHook('onResponse', (req, reply, done) => {
    const url = req.url;
    const status = reply.statusCode;
    const level: Level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    if (app.isLevelEnabled(level) && (status >= 400 || !UNLOGGED_ROUTES.has(url))) {
      requests.write(
        `{"level":${pino.levels.values[level]},"time":${Date.now()},${fixed},"req":{"id":${JSON.stringify(String(req.id))},` +
          `"method":${JSON.stringify(req.method)},"url":${JSON.stringify(redactUrl(url))},` +
          `"remoteAddress":${JSON.stringify(req.ip ?? null)}},"res":{"statusCode":${status}},` +
          `"responseTime":${Math.round(reply.elapsedTime)},"msg":"request completed"}\n`,
      );
    }
    done();
  });
}

/** Nest's logger interface on top of pino: `context` becomes a field, objects are merged into the line. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const rest = [...params];
    // Nest appends the logger's context as the last argument.
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? rest.pop() : undefined;
    const fields: Record<string, unknown> = context ? { context } : {};
    let msg: string | undefined;
    if (message instanceof Error) fields.err = message;
    else if (message !== null && typeof message === 'object') Object.assign(fields, message);
    else msg = String(message);
    for (const p of rest) {
      if (typeof p === 'string' && /\n\s+at /.test(p)) fields.stack = p;
      else if (typeof p === 'string') msg = msg === undefined ? p : `${msg} ${p}`;
      else if (p !== undefined) Object.assign(fields, typeof p === 'object' ? p : { value: p });
    }
    this.logger[level](fields, msg);
  }
}
