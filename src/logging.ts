import type { LoggerService } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { hostname } from 'node:os';
import pino, { DestinationStream, Level, Logger } from 'pino';
import pretty from 'pino-pretty';
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
 * `json`: one JSON object per line, for log collectors (production, tests, CI, and anything that is not
 * a terminal). `pretty`: one readable line per event (time, level, context, message), for a person
 * watching `npm run start:dev` in a terminal.
 */
export type LogFormat = 'json' | 'pretty';

/**
 * Readable lines only for a person at a terminal: `NODE_ENV=development`, stdout a TTY, and not under
 * CI (`CI` set to anything but empty, `0` or `false`, as CI services do). Everything else stays JSON,
 * since a pipe or a file is read by a program.
 */
export function chooseLogFormat(
  nodeEnv: string,
  env: NodeJS.ProcessEnv = process.env,
  isTTY: boolean = process.stdout.isTTY === true,
): LogFormat {
  const ci = env.CI !== undefined && !/^(|0|false)$/i.test(env.CI.trim());
  return nodeEnv === 'development' && isTTY && !ci ? 'pretty' : 'json';
}

/** Nest's start-up chatter (a line per module and per route, about 90 in all) is for debugging. */
const STARTUP_DETAIL = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

/**
 * pino-pretty in the main thread, written synchronously: the pretty format only runs at a developer's
 * terminal, where a line should show the moment it is logged and none be lost at exit. It reads the
 * lines that pino has already redacted, so it censors exactly what the JSON format censors.
 */
function prettyStream(destination: DestinationStream | number, colorize: boolean): DestinationStream {
  return pretty({
    destination,
    sync: true,
    colorize,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,context,req,res,responseTime',
    messageFormat: (log, messageKey) => {
      const req = log.req as { method?: string; url?: string; id?: string } | undefined;
      const res = log.res as { statusCode?: number } | undefined;
      if (req && res && log[messageKey] === 'request completed') {
        return `${req.method} ${req.url} ${res.statusCode} ${String(log.responseTime)} ms (${req.id})`;
      }
      const context = typeof log.context === 'string' ? `[${log.context}] ` : '';
      return `${context}${String(log[messageKey] ?? '')}`;
    },
  });
}

/**
 * Structured JSON logs, or readable lines at a developer's terminal (see `chooseLogFormat`).
 * Credentials never reach either: the request line carries no headers or bodies,
 * secret query parameters and path segments are masked, and the application logger censors the fields
 * that carry secrets. In JSON, stdout is written asynchronously and in batches, so logging never waits
 * for the terminal or the log collector.
 */
export function createLoggers(
  config: AppConfig,
  stream?: DestinationStream,
  format: LogFormat = stream ? 'json' : chooseLogFormat(config.env),
): AppLoggers {
  const destination =
    format === 'pretty'
      ? prettyStream(stream ?? 1, !stream && process.stdout.isTTY === true)
      : (stream ?? pino.destination({ dest: 1, sync: false, minLength: 8192, periodicFlush: LOG_FLUSH_MS }));
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
          // At the top of the line as well as one level down (`*.x` matches only the latter).
          'password',
          'token',
          'refresh_token',
          'access_token',
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

/**
 * Nest's logger interface on top of pino: `context` becomes a field, objects are merged into the line.
 * Nest's lines about each module and route it set up go to debug, so that an info start is short.
 */
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
    if (level === 'info' && context !== undefined && STARTUP_DETAIL.has(context as string)) {
      if (!this.logger.isLevelEnabled('debug')) return;
      level = 'debug';
    }
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
