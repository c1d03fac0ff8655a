import { ValidationError, ValidationPipe } from '@nestjs/common';
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
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    transform: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const fields = flatten(errors);
      return new DomainError(
        'VALIDATION_ERROR',
        'Invalid input data',
        fields.length ? fields : [{ name: 'body', message: 'must be an object' }],
      );
    },
  });
}
