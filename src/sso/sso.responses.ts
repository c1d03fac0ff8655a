import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ROLES } from '../common/roles';

/** An identity provider of single sign-on (API.md 7). Client secrets never leave in a view. */
export class SsoProviderResponse {
  @ApiProperty({ example: 'uni-example' })
  id!: string;

  @ApiProperty({ enum: ['oidc', 'saml'], enumName: 'SsoProtocol' })
  type!: 'oidc' | 'saml';

  @ApiProperty()
  name!: string;

  @ApiProperty({ type: [String] })
  domains!: string[];

  @ApiProperty({ enum: ROLES, enumName: 'Role' })
  default_role!: (typeof ROLES)[number];

  @ApiPropertyOptional({ type: String, nullable: true })
  kind?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  issuer?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  client_id?: string | null;

  @ApiPropertyOptional({ type: [String] })
  scopes?: string[];

  @ApiPropertyOptional({ type: [String] })
  allowed_tenants?: string[];

  @ApiPropertyOptional({ type: String, nullable: true })
  entry_point?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  idp_issuer?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  idp_certificate?: string | null;

  @ApiPropertyOptional({ description: 'SAML: the entity id to give the IdP' })
  sp_entity_id?: string;

  @ApiPropertyOptional({ description: 'SAML: the assertion consumer service URL' })
  acs_url?: string;

  @ApiPropertyOptional({ description: 'SAML: where the metadata document is' })
  metadata_url?: string;

  @ApiPropertyOptional({ description: 'OIDC: the redirect URI to register at the provider' })
  redirect_uri?: string;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiProperty({ format: 'date-time' })
  updated_at!: string;
}

/** A link of a user's account to an identity provider. */
export class SsoLinkResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  provider_id!: string;

  @ApiProperty()
  provider_name!: string;

  @ApiProperty({ enum: ['oidc', 'saml'], enumName: 'SsoProtocol' })
  provider_type!: 'oidc' | 'saml';

  @ApiProperty({ description: "The provider's identifier of the person (OIDC sub, SAML NameID)" })
  subject!: string;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  last_login_at!: string | null;
}

/** `GET /api/sso/discover`: the provider that serves an email address's domain. */
export class SsoDiscoveryResponse {
  @ApiProperty({ example: 'uni-example' })
  provider!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ enum: ['oidc', 'saml'], enumName: 'SsoProtocol' })
  type!: 'oidc' | 'saml';
}
