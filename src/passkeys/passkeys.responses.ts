import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** A passkey of the caller (API.md 8). */
export class PasskeyResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  last_used_at!: string | null;

  @ApiProperty({ type: [String] })
  transports!: string[];

  @ApiProperty({ description: 'The authenticator model (all zeros when it does not say)' })
  aaguid!: string;

  @ApiProperty()
  backed_up!: boolean;

  @ApiProperty({ enum: ['singleDevice', 'multiDevice'] })
  device_type!: 'singleDevice' | 'multiDevice';
}

/** A passkey just registered; the first factor of an account also brings its recovery codes. */
export class NewPasskeyResponse extends PasskeyResponse {
  @ApiPropertyOptional({ type: [String], description: 'With the first factor only: ten codes, shown this once' })
  recovery_codes?: string[];
}

/**
 * WebAuthn options for the browser (`PublicKeyCredentialCreationOptionsJSON` or
 * `PublicKeyCredentialRequestOptionsJSON` of the WebAuthn level 3 specification), passed to
 * `navigator.credentials.create` or `.get` as they are.
 */
export class WebAuthnOptionsResponse {
  @ApiProperty({ description: 'base64url' })
  challenge!: string;

  @ApiPropertyOptional({ description: 'Milliseconds' })
  timeout?: number;

  @ApiPropertyOptional()
  rpId?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  rp?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  user?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'array', items: { type: 'object', additionalProperties: true } })
  pubKeyCredParams?: Record<string, unknown>[];

  @ApiPropertyOptional({ type: 'array', items: { type: 'object', additionalProperties: true } })
  allowCredentials?: Record<string, unknown>[];

  @ApiPropertyOptional({ type: 'array', items: { type: 'object', additionalProperties: true } })
  excludeCredentials?: Record<string, unknown>[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  authenticatorSelection?: Record<string, unknown>;

  @ApiPropertyOptional()
  userVerification?: string;

  @ApiPropertyOptional()
  attestation?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  extensions?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Passkey sign-in: sent back with the assertion to /login/verify' })
  challenge_id?: string;
}
