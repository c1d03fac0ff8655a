import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
} from 'class-validator';

/** The scopes a client may be given (API.md 15): OpenID's, and our API's own (`api:read`, `api:write`). */
export const OAUTH_SCOPES = ['openid', 'profile', 'email', 'roles', 'offline_access', 'api:read', 'api:write'] as const;
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const OAUTH_GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  DEVICE_CODE_GRANT,
] as const;

export class CreateOAuthClientDto {
  @ApiProperty({ example: 'Research dashboard', description: 'shown to people on the consent page' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiProperty({
    example: ['https://dashboard.example.org/callback'],
    description:
      'matched byte for byte: https, or http on loopback outside production; no wildcard, fragment, userinfo or dot segments',
  })
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(2048, { each: true })
  redirect_uris!: string[];

  @ApiPropertyOptional({ example: ['https://dashboard.example.org/'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(2048, { each: true })
  post_logout_redirect_uris?: string[];

  @ApiProperty({ enum: ['confidential', 'public'], description: 'confidential clients get a secret, shown once' })
  @IsIn(['confidential', 'public'], { message: 'type must be confidential or public' })
  type!: 'confidential' | 'public';

  @ApiProperty({ enum: OAUTH_GRANT_TYPES, isArray: true, example: ['authorization_code', 'refresh_token'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(4)
  @IsIn(OAUTH_GRANT_TYPES as readonly string[], {
    each: true,
    message: `each grant type must be one of ${OAUTH_GRANT_TYPES.join(', ')}`,
  })
  grant_types!: string[];

  @ApiProperty({ enum: OAUTH_SCOPES, isArray: true, example: ['openid', 'profile', 'email'] })
  @IsArray()
  @ArrayMaxSize(OAUTH_SCOPES.length)
  @IsIn(OAUTH_SCOPES as readonly string[], {
    each: true,
    message: `each scope must be one of ${OAUTH_SCOPES.join(', ')}`,
  })
  scopes!: string[];

  @ApiPropertyOptional({ description: "the organisation's own application: no consent page", default: false })
  @IsOptional()
  @IsBoolean()
  first_party?: boolean;

  @ApiPropertyOptional({ description: 'where logout tokens are posted (OpenID Back-Channel Logout)' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  backchannel_logout_uri?: string;
}

export class UpdateOAuthClientDto extends PartialType(CreateOAuthClientDto) {
  @ApiPropertyOptional({ description: 'false disables the client: its tokens and codes stop working at once' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class OAuthClientView {
  @ApiProperty() client_id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['confidential', 'public'] }) type!: string;
  @ApiProperty({ type: [String] }) redirect_uris!: string[];
  @ApiProperty({ type: [String] }) post_logout_redirect_uris!: string[];
  @ApiProperty({ type: [String] }) grant_types!: string[];
  @ApiProperty({ type: [String] }) scopes!: string[];
  @ApiProperty() first_party!: boolean;
  @ApiProperty() dynamic!: boolean;
  @ApiProperty({ nullable: true, type: String }) backchannel_logout_uri!: string | null;
  @ApiProperty() enabled!: boolean;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
}

export class OAuthClientCreatedView extends OAuthClientView {
  @ApiPropertyOptional({ description: 'confidential clients only; shown this once, stored hashed' })
  client_secret?: string;
}

export class OAuthClientSecretView {
  @ApiProperty() client_id!: string;
  @ApiProperty({ description: 'shown this once; the previous secret stops working at once' }) client_secret!: string;
}

export class OAuthGrantView {
  @ApiProperty() client_id!: string;
  @ApiProperty() client_name!: string;
  @ApiProperty({ type: [String] }) scopes!: string[];
  @ApiProperty() granted_at!: string;
}

export class OAuthErrorView {
  @ApiProperty({ example: { code: 'VALIDATION_ERROR', message: 'redirect_uris: ...' } })
  error!: { code: string; message: string };
}
