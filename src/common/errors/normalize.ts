import { HttpException } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { DomainError, ErrorCode } from './domain-error';
import { NormalizedError } from './dialects';

const BY_STATUS: Record<number, [ErrorCode, string]> = {
  400: ['BAD_REQUEST', 'Bad request'],
  401: ['UNAUTHENTICATED', 'Authentication required'],
  403: ['FORBIDDEN', 'You are not allowed to do this'],
  404: ['NOT_FOUND', 'Not found'],
  405: ['METHOD_NOT_ALLOWED', 'Method not allowed'],
  409: ['CONFLICT', 'Conflict'],
  413: ['PAYLOAD_TOO_LARGE', 'Request body is too large'],
  415: ['UNSUPPORTED_MEDIA_TYPE', 'Unsupported content type'],
  429: ['RATE_LIMIT_EXCEEDED', 'Too many requests, try again later'],
  503: ['SERVICE_UNAVAILABLE', 'Service temporarily unavailable'],
};

/** Fastify's own parser errors carry these codes; their messages are rewritten, not passed through. */
const FASTIFY_CODES: Record<string, [number, ErrorCode, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'PAYLOAD_TOO_LARGE', 'Request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported content type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'BAD_REQUEST', 'Invalid Content-Length'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'BAD_REQUEST', 'Request body is empty but Content-Type is JSON'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'BAD_REQUEST', 'Malformed JSON in request body'],
  FST_ERR_BAD_URL: [400, 'BAD_REQUEST', 'Malformed URL'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'BAD_REQUEST', 'Request URI is too long'],
};

/** Errors that mean the database cannot be reached right now: the caller should retry, not report a bug. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; driverError?: { code?: unknown }; message?: unknown };
  const code = String(e?.driverError?.code ?? e?.code ?? '');
  if (UNAVAILABLE_CODES.has(code)) return true;
  const msg = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|Connection refused|ECONNREFUSED|not connected|pool is (draining|ended)/i.test(
    msg,
  );
}

export interface Normalized extends NormalizedError {
  /** Only set for failures that are our fault: the caller logs them, the client never sees them. */
  internal?: unknown;
  retryAfterSec?: number;
}

function fromFastify(fastifyCode: string): Normalized {
  const [status, code, message] = FASTIFY_CODES[fastifyCode];
  return { status, code, message, fields: [] };
}

export function normalizeError(err: unknown): Normalized {
  if (err instanceof DomainError) {
    return {
      status: err.status,
      code: err.code,
      message: err.message,
      fields: err.fields,
      details: err.details,
      ...(err.retryAfterSec !== undefined ? { retryAfterSec: err.retryAfterSec } : {}),
    };
  }
  if (err instanceof ThrottlerException) {
    return { status: 429, code: 'RATE_LIMIT_EXCEEDED', message: BY_STATUS[429][1], fields: [] };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    // Nest re-throws Fastify's body-parser errors as HttpExceptions carrying Fastify's message.
    if (status === 400 && /not valid JSON/i.test(err.message)) return fromFastify('FST_ERR_CTP_INVALID_JSON_BODY');
    if (status === 400 && /cannot be empty/i.test(err.message)) return fromFastify('FST_ERR_CTP_EMPTY_JSON_BODY');
    const known = BY_STATUS[status];
    if (known) return { status, code: known[0], message: known[1], fields: [] };
    if (status < 500) return { status, code: 'BAD_REQUEST', message: 'Bad request', fields: [] };
    return { status: 500, code: 'INTERNAL_ERROR', message: 'Internal server error', fields: [], internal: err };
  }
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e?.code === 'string' && FASTIFY_CODES[e.code]) return fromFastify(e.code);
  if (err instanceof SyntaxError && typeof e.statusCode === 'number' && e.statusCode === 400) {
    return { status: 400, code: 'BAD_REQUEST', message: 'Malformed JSON in request body', fields: [] };
  }
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const known = BY_STATUS[e.statusCode] ?? BY_STATUS[400];
    return { status: e.statusCode, code: known[0], message: known[1], fields: [] };
  }
  // SQLSTATE class 22 (data exception): a NUL byte, an unpaired surrogate in jsonb, a value out of
  // range. The input was bad; nothing was written.
  const sqlState = String((err as { driverError?: { code?: unknown } })?.driverError?.code ?? '');
  // A row this request refers to was deleted meanwhile (a space deleted while a token is created in it).
  if (sqlState === '23503') return { status: 404, code: 'NOT_FOUND', message: 'Not found', fields: [] };
  if (sqlState.startsWith('22')) {
    return {
      status: 400,
      code: 'BAD_REQUEST',
      message: 'The request contains characters or values that cannot be stored',
      fields: [],
    };
  }
  if (isUnavailable(err)) {
    return {
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      message: BY_STATUS[503][1],
      fields: [],
      internal: err,
      retryAfterSec: 5,
    };
  }
  return { status: 500, code: 'INTERNAL_ERROR', message: 'Internal server error', fields: [], internal: err };
}
