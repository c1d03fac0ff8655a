import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { UserResponse } from '../users/users.responses';

/** The answers of two-factor authentication (API.md 6), as the OpenAPI document names them. */
export class FactorResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ['totp', 'email', 'sms', 'passkey'], enumName: 'FactorType' })
  type!: 'totp' | 'email' | 'sms' | 'passkey';

  @ApiProperty({ description: 'Given at enrolment, or the kind of factor ("Authenticator app") by default' })
  name!: string;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  last_used_at!: string | null;
}

export class MfaStatusResponse {
  @ApiProperty()
  enabled!: boolean;

  @ApiProperty({ type: [FactorResponse] })
  factors!: FactorResponse[];

  @ApiProperty()
  recovery_codes_left!: number;
}

export class TotpEnrolmentResponse {
  @ApiProperty({ format: 'uuid' })
  factor_id!: string;

  @ApiProperty({ description: 'Base32, for typing into the app' })
  secret!: string;

  @ApiProperty()
  otpauth_uri!: string;

  @ApiProperty({ description: 'A data: URL of the QR code of otpauth_uri' })
  qr_code!: string;
}

export class FactorEnrolmentResponse {
  @ApiProperty({ format: 'uuid' })
  factor_id!: string;
}

export class FactorConfirmedResponse {
  @ApiProperty({ type: FactorResponse })
  factor!: FactorResponse;

  @ApiPropertyOptional({ type: [String], description: 'With the first factor only: ten codes, shown this once' })
  recovery_codes?: string[];
}

export class RecoveryCodesResponse {
  @ApiProperty({ type: [String], description: 'Ten codes, shown this once' })
  recovery_codes!: string[];
}

export class MessageResponse {
  @ApiProperty({ example: 'Code sent' })
  message!: string;
}

/** An admin's view of a user: the profile and the second factors (`GET /api/users/{id}`). */
export class AdminUserResponse extends UserResponse {
  @ApiProperty({ type: MfaStatusResponse })
  mfa!: MfaStatusResponse;
}
