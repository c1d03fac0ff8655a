import { ApiProperty, ApiPropertyOptional, PartialType, PickType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import { LoginDto } from '../auth/dto/portal-auth.dto';
import { ROLES, type Role } from '../common/roles';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const lower = ({ value }: { value: unknown }) =>
  Array.isArray(value) ? value.map((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v)) : value;

export class CreateSsoProviderDto {
  @ApiProperty({ description: 'a slug that names the provider in URLs', example: 'uni-example' })
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: 'id must be a slug: lower-case letters, digits and dashes' })
  id!: string;

  @ApiProperty({ enum: ['oidc', 'saml'] })
  @IsIn(['oidc', 'saml'], { message: 'type must be oidc or saml' })
  type!: 'oidc' | 'saml';

  @ApiProperty({ example: 'University of Example' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiProperty({ description: 'the email domains that this provider serves', example: ['uni.example'] })
  @Transform(lower)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @Matches(DOMAIN, { each: true, message: 'each domain must be a DNS name such as uni.example' })
  domains!: string[];

  @ApiProperty({ enum: ROLES, description: 'the role of the users that a first sign-in creates' })
  @IsIn(ROLES as readonly string[], { message: `default_role must be one of ${ROLES.join(', ')}` })
  default_role!: Role;

  @ApiPropertyOptional({ description: 'OIDC: the issuer; its discovery document is read at registration' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  issuer?: string;

  @ApiPropertyOptional({ description: 'OIDC' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  client_id?: string;

  @ApiPropertyOptional({ description: 'OIDC; encrypted at rest, never returned' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(2048)
  client_secret?: string;

  @ApiPropertyOptional({ description: 'OIDC: scopes besides `openid`', example: ['email', 'profile'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @Matches(/^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/, { each: true, message: 'each scope must be a scope token' })
  scopes?: string[];

  @ApiPropertyOptional({ enum: ['entra', 'google'], description: 'OIDC: provider-specific checks' })
  @IsOptional()
  @IsIn(['entra', 'google'], { message: 'kind must be entra or google' })
  kind?: 'entra' | 'google';

  @ApiPropertyOptional({ description: 'Entra: the tenant ids (tid) allowed to sign in' })
  @Transform(lower)
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, {
    each: true,
    message: 'each allowed tenant must be a tenant id (a GUID)',
  })
  allowed_tenants?: string[];

  @ApiPropertyOptional({ description: 'SAML: the IdP single sign-on URL (HTTP-Redirect binding)' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  entry_point?: string;

  @ApiPropertyOptional({ description: 'SAML: the IdP entity id' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  idp_issuer?: string;

  @ApiPropertyOptional({ description: 'SAML: the IdP signing certificate (PEM)' })
  @IsOptional()
  @IsString()
  @MaxLength(16384)
  idp_certificate?: string;
}

export class UpdateSsoProviderDto extends PartialType(CreateSsoProviderDto) {}

/**
 * A field of an update is either absent (unchanged) or a value: `null`, an empty string and an empty list are
 * not values (IsOptional would let null through, and `{"domains": null}` would leave a provider serving no
 * domain). The failing fields, for a 400 VALIDATION_ERROR.
 */
export function emptyUpdateFields(body: object): { name: string; message: string }[] {
  return Object.entries(body)
    .filter(([, v]) => v === null || (typeof v === 'string' && v.trim() === '') || (Array.isArray(v) && v.length === 0))
    .map(([name]) => ({ name, message: `${name} must have a value (leave it out to keep the current one)` }));
}

/** `remember` and `set_cookie` mean what they mean for the password login (LoginDto). */
export class SsoTokenDto extends PickType(LoginDto, ['remember', 'set_cookie'] as const) {
  @ApiProperty({ description: 'the one-time code from `redirect_uri?code=`' })
  @IsString()
  @MaxLength(256)
  code!: string;
}
