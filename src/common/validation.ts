import { createParamDecorator, ExecutionContext, Type, ValidationError, ValidationPipe } from '@nestjs/common';
import { validateSync } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { DomainError, FieldError } from './errors/domain-error';

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const name = prefix ? `${prefix}.${e.property}` : e.property;
    // class-validator runs a property's decorators bottom-up; the top one (the type check) is the most basic
    // and comes last, so it names the real problem (a missing password is "must be a string", not "too long").
    const messages = Object.values(e.constraints ?? {});
    if (messages.length) out.push({ name, message: messages[messages.length - 1] });
    if (e.children?.length) out.push(...flatten(e.children, name));
  }
  return out;
}

/**
 * Bodies are whitelisted (unknown fields dropped, never stored) and validated against their DTO;
 * a failure names every failing field.
 */
/** Unknown fields are dropped, a non-object body is refused, and errors never echo the values. */
const VALIDATOR_OPTIONS = {
  whitelist: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
} as const;

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({ ...VALIDATOR_OPTIONS, transform: true, exceptionFactory: validationFailure });
}

function validationFailure(errors: ValidationError[]): DomainError {
  const fields = flatten(errors);
  return new DomainError(
    'VALIDATION_ERROR',
    'Invalid input data',
    fields.length ? fields : [{ name: 'body', message: 'must be an object' }],
  );
}

/**
 * The body validated against its DTO like every other body (same rules, same errors, unknown fields
 * dropped), but without the deep copy that the global pipe's transformation makes: for bodies that
 * carry large free-form data the DTO does not describe (assessment results, up to 10 MiB), whose copy
 * measured a sixth of a submission's CPU. Only the top-level fields are copied onto the DTO instance.
 */
export const ShallowBody = createParamDecorator((dto: Type<object>, ctx: ExecutionContext): object => {
  const body = ctx.switchToHttp().getRequest<FastifyRequest>().body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw validationFailure([]);
  const instance = Object.assign(new dto(), body);
  const errors = validateSync(instance, VALIDATOR_OPTIONS);
  if (errors.length) throw validationFailure(errors);
  return instance;
});
