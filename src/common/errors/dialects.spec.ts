import { BadRequestException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { DomainError } from './domain-error';
import { renderError } from './dialects';
import { normalizeError } from './normalize';

describe('error dialects', () => {
  const invalid = normalizeError(new DomainError('INVALID_CREDENTIALS', 'Invalid email or password'));
  const validation = normalizeError(
    new DomainError('VALIDATION_ERROR', 'Validation error.', [
      { name: 'old_password', message: 'Incorrect password.' },
    ]),
  );

  it('portal: {error: {code, message, details}}', () => {
    expect(renderError('portal', invalid)).toEqual({
      error: { code: 'INVALID_CREDENTIALS', message: 'Invalid email or password' },
    });
    expect(renderError('portal', validation)).toEqual({
      error: {
        code: 'VALIDATION_ERROR',
        message: 'Validation error.',
        details: { old_password: 'Incorrect password.' },
      },
    });
  });

  it('clinical: {success: false, error, code}', () => {
    expect(renderError('clinical', invalid)).toEqual({
      success: false,
      error: 'Invalid email or password',
      code: 'INVALID_CREDENTIALS',
    });
  });

  it('key-token: {errors: [...]}', () => {
    const wrongPair = normalizeError(new DomainError('INVALID_LOGIN', 'Email or password incorrect'));
    expect(renderError('key-token', wrongPair)).toEqual({ errors: ['Email or password incorrect'] });
    // A 401 leads with the documented sentence, then says why.
    expect(renderError('key-token', normalizeError(new DomainError('TOKEN_EXPIRED', 'Token has expired')))).toEqual({
      errors: ['You must be logged in to access this area', 'Token has expired'],
    });
    expect(renderError('key-token', validation)).toEqual({ errors: ['old_password: Incorrect password.'] });
  });

  it('iam: {error_codes, message, fields}, 602 for a wrong pair', () => {
    expect(renderError('iam', invalid)).toEqual({
      error_codes: [602],
      message: 'Invalid email or password',
      fields: [],
    });
    expect(renderError('iam', validation)).toEqual({
      error_codes: [400],
      message: 'Validation error.',
      fields: [{ name: 'old_password', message: 'Incorrect password.', error_code: 400 }],
    });
  });
});

describe('normalizeError', () => {
  it('maps domain codes to their status', () => {
    expect(normalizeError(new DomainError('EMAIL_EXISTS', 'x')).status).toBe(409);
    expect(normalizeError(new DomainError('SUBSCRIPTION_REQUIRED', 'x')).status).toBe(403);
    expect(normalizeError(new DomainError('TOKEN_EXPIRED', 'x')).status).toBe(401);
  });

  it('maps Nest and throttler exceptions without their internal messages', () => {
    expect(normalizeError(new NotFoundException('Cannot GET /secret/path'))).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
      message: 'Not found',
    });
    expect(normalizeError(new PayloadTooLargeException()).code).toBe('PAYLOAD_TOO_LARGE');
    expect(normalizeError(new BadRequestException('x')).code).toBe('BAD_REQUEST');
    expect(normalizeError(new ThrottlerException()).status).toBe(429);
  });

  it('maps Fastify parser errors to 400/413/415', () => {
    const fst = (code: string, statusCode: number) => Object.assign(new Error('raw'), { code, statusCode });
    expect(normalizeError(fst('FST_ERR_CTP_BODY_TOO_LARGE', 413)).status).toBe(413);
    expect(normalizeError(fst('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415)).status).toBe(415);
    expect(normalizeError(fst('FST_ERR_CTP_EMPTY_JSON_BODY', 400)).status).toBe(400);
    expect(normalizeError(Object.assign(new SyntaxError('Unexpected token'), { statusCode: 400 }))).toMatchObject({
      status: 400,
      message: 'Malformed JSON in request body',
    });
  });

  it('answers bad data (SQLSTATE class 22) with 400 and a vanished reference (23503) with 404', () => {
    const pgError = (code: string) => Object.assign(new Error('x'), { driverError: { code } });
    expect(normalizeError(pgError('22021'))).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(normalizeError(pgError('22P05'))).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(normalizeError(pgError('23503'))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('answers 503 when the database cannot be reached', () => {
    const e = normalizeError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    expect(e).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
  });

  it('keeps anything else internal: a bare 500', () => {
    const boom = new TypeError("Cannot read properties of undefined (reading 'x')");
    const e = normalizeError(boom);
    expect(e).toMatchObject({ status: 500, code: 'INTERNAL_ERROR', message: 'Internal server error' });
    expect(e.internal).toBe(boom);
  });
});
