import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DialectRegistry } from '../errors/dialect-registry';
import { renderError } from '../errors/dialects';
import { normalizeError } from '../errors/normalize';
import { redactUrl } from '../redact';

const REALM = 'identity';

/**
 * The one place where failures become responses. The body takes the dialect of the route's surface;
 * anything unexpected is logged with the request id and reaches the client as a bare 500.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(private readonly dialects: DialectRegistry) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const error = normalizeError(exception);
    const dialect = this.dialects.resolve(req.routeOptions?.url, req.url);

    if (error.internal !== undefined) {
      const e = error.internal as Error;
      this.logger.error(
        {
          reqId: req.id,
          method: req.method,
          url: redactUrl(req.url),
          err: { type: e?.name, message: e?.message, stack: e?.stack },
        },
        error.status === 503 ? 'dependency unavailable' : 'unhandled error',
      );
    }
    if (reply.sent) return;

    if (error.status === 401 && !reply.hasHeader('www-authenticate')) {
      const tokenError = error.code === 'TOKEN_EXPIRED' || error.code === 'INVALID_TOKEN';
      reply.header(
        'WWW-Authenticate',
        dialect === 'key-token'
          ? `Basic realm="${REALM}", charset="UTF-8"`
          : tokenError
            ? `Bearer realm="${REALM}", error="invalid_token", error_description="${error.message.replace(/"/g, "'")}"`
            : `Bearer realm="${REALM}"`,
      );
    }
    if (error.retryAfterSec !== undefined && !reply.hasHeader('retry-after')) {
      reply.header('Retry-After', String(error.retryAfterSec));
    }
    reply
      .status(error.status)
      .header('Content-Type', 'application/json; charset=utf-8')
      .send(renderError(dialect, error));
  }
}
