import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsObject, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { toBool } from '../../common/dto/query';
import { OptionalIdentifier } from '../../common/identifiers';

const RESPONSE_DESCRIPTION =
  'The credential as the browser serialises it (`PublicKeyCredential.toJSON()`, or what @simplewebauthn/browser ' +
  'returns): `{id, rawId, type: "public-key", response: {...}, clientExtensionResults}`, binary fields in base64url.';

export class RegisterVerifyDto {
  @ApiProperty({
    description: RESPONSE_DESCRIPTION + ' From `startRegistration()`.',
    type: 'object',
    additionalProperties: true,
  })
  @IsObject()
  response!: Record<string, unknown>;

  @ApiPropertyOptional({ example: 'Laptop', description: 'a name to tell your passkeys apart (default "Passkey")' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  name?: string;
}

export class LoginOptionsDto {
  @ApiPropertyOptional({
    example: 'ada@example.org',
    description: 'the account to sign in to (an email or a username); without it any discoverable passkey may answer',
  })
  @OptionalIdentifier('email')
  email?: string;
}

export class LoginVerifyDto {
  @ApiProperty({ description: 'the challenge_id of the login options' })
  @IsUUID('all', { message: 'challenge_id must be the challenge_id of the login options' })
  challenge_id!: string;

  @ApiProperty({
    description: RESPONSE_DESCRIPTION + ' From `startAuthentication()`.',
    type: 'object',
    additionalProperties: true,
  })
  @IsObject()
  response!: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'a 30-day session instead of 24 h, as on POST /api/auth/login' })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  remember?: boolean;

  @ApiPropertyOptional({ description: 'also set the auth_token, refresh_token and csrf_token cookies (browsers)' })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  set_cookie?: boolean;
}
