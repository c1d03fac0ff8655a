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

/** The provider's metadata (OpenID Connect Discovery 1.0, RFC 8414); the fields clients rely on. */
export class ProviderMetadataView {
  @ApiProperty() issuer!: string;
  @ApiProperty() authorization_endpoint!: string;
  @ApiProperty() token_endpoint!: string;
  @ApiProperty() jwks_uri!: string;
  @ApiProperty() userinfo_endpoint!: string;
  @ApiProperty() introspection_endpoint!: string;
  @ApiProperty() revocation_endpoint!: string;
  @ApiProperty() end_session_endpoint!: string;
  @ApiProperty() device_authorization_endpoint!: string;
  @ApiPropertyOptional({ description: 'only with OAUTH_DYNAMIC_REGISTRATION=on' }) registration_endpoint?: string;
  @ApiProperty({ type: [String], example: ['S256'] }) code_challenge_methods_supported!: string[];
  @ApiProperty({ type: [String] }) scopes_supported!: string[];
  @ApiProperty({ type: [String] }) grant_types_supported!: string[];
  @ApiProperty({ type: [String], example: ['ES256', 'RS256'] }) id_token_signing_alg_values_supported!: string[];
}

/** RFC 9728: this service's API as a protected resource. */
export class ProtectedResourceView {
  @ApiProperty({ example: 'https://id.example.org/api' }) resource!: string;
  @ApiProperty({ type: [String] }) authorization_servers!: string[];
  @ApiProperty({ type: [String], example: ['api:read', 'api:write'] }) scopes_supported!: string[];
  @ApiProperty({ type: [String], example: ['header'] }) bearer_methods_supported!: string[];
  @ApiProperty({ type: [String] }) resource_signing_alg_values_supported!: string[];
  @ApiProperty() resource_name!: string;
}
