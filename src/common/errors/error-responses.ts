import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import type { Dialect } from './dialects';

/**
 * The error bodies of the four surfaces (API.md 1 to 4), one schema per dialect, as `renderError`
 * (dialects.ts) writes them. The OpenAPI document names them, so a generated client reads each
 * surface's failures in that surface's own shape.
 */

export class PortalErrorBody {
  @ApiProperty({ example: 'VALIDATION_ERROR', description: 'One of the closed list of codes of API.md 1' })
  code!: string;

  @ApiProperty({ example: 'Invalid input data' })
  message!: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'The failing fields (name: message) of a validation error; for `MFA_REQUIRED`, the next step: ' +
      '`mfa_token`, `factors` and `expires_in` (see MfaChallenge)',
  })
  details?: Record<string, unknown>;
}

/** Research portal (`/api/...`): `{"error": {"code", "message", "details"}}`. */
export class PortalError {
  @ApiProperty({ type: PortalErrorBody })
  error!: PortalErrorBody;
}

/** The factor offered at the second step of a sign-in (API.md 6). */
export class MfaChallengeFactor {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ['totp', 'email', 'sms', 'passkey'] })
  type!: string;

  @ApiProperty({ type: String, nullable: true })
  name!: string | null;
}

/**
 * The `details` of an `MFA_REQUIRED` refusal (portal) and the fields beside `code` (clinical): the
 * token of the second step, the factors to choose from, and how long the token lives.
 */
export class MfaChallenge {
  @ApiProperty({ description: 'Sent back to POST /api/auth/mfa/challenge and /api/auth/mfa/verify' })
  mfa_token!: string;

  @ApiProperty({ type: [MfaChallengeFactor] })
  factors!: MfaChallengeFactor[];

  @ApiProperty({ example: 300, description: 'Seconds' })
  expires_in!: number;
}

export class ClinicalFieldError {
  @ApiProperty()
  name!: string;

  @ApiProperty()
  message!: string;
}

/** Clinical (`/api/login`, `/api/register`, ...): `{"success": false, "error", "code"}`. */
export class ClinicalError {
  @ApiProperty({ enum: [false] })
  success!: false;

  @ApiProperty({ example: 'Invalid email or password', description: 'Shown to the user as it is' })
  error!: string;

  @ApiProperty({ example: 'INVALID_CREDENTIALS' })
  code!: string;

  @ApiPropertyOptional({ type: [ClinicalFieldError], description: 'The failing fields of a validation error' })
  fields?: ClinicalFieldError[];
}

/** Key:token (`/users...`): `{"errors": [...]}`. */
export class KeyTokenError {
  @ApiProperty({ type: [String], example: ['Email or password incorrect'] })
  errors!: string[];
}

export class IamFieldError {
  @ApiProperty({ example: 'old_password' })
  name!: string;

  @ApiProperty({ example: 'Incorrect password.' })
  message!: string;

  @ApiProperty({ example: 400 })
  error_code!: number;
}

/** IAM (`/v1/...`): `{"error_codes": [...], "message", "fields"}`. */
export class IamError {
  @ApiProperty({
    type: [Number],
    example: [602],
    description: '602: wrong credentials; 603: MFA required; else the status',
  })
  error_codes!: number[];

  @ApiProperty({ example: 'Username and password do not match.' })
  message!: string;

  @ApiProperty({ type: [IamFieldError] })
  fields!: IamFieldError[];
}

export const ERROR_SCHEMAS: Record<Dialect, new () => object> = {
  portal: PortalError,
  clinical: ClinicalError,
  'key-token': KeyTokenError,
  iam: IamError,
};

const WORDS: Record<number, string> = {
  400: 'Invalid input (a validation error names the fields)',
  401: 'No valid credential, or a wrong one',
  403: 'Not allowed for this caller',
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'Request body too large',
  429: 'Too many requests (Retry-After says when to try again)',
};

/** The failures every route of a surface may answer, in that surface's shape. */
export const DEFAULT_ERROR_STATUSES = [400, 401, 403, 404, 429];

/**
 * Documents a controller's (or a route's) failures in its surface's error shape: the default statuses
 * on a controller, more on a route (`@ApiErrors('portal', 409)`). A route's own `@ApiResponse` for a
 * status takes precedence.
 */
export function ApiErrors(dialect: Dialect, ...statuses: number[]) {
  const type = ERROR_SCHEMAS[dialect];
  return applyDecorators(
    // The second step that an MFA_REQUIRED refusal carries (portal `details`, clinical fields), named for clients.
    ApiExtraModels(MfaChallenge),
    ...(statuses.length ? statuses : DEFAULT_ERROR_STATUSES).map((status) =>
      ApiResponse({ status, description: WORDS[status] ?? 'Failure', type }),
    ),
  );
}
