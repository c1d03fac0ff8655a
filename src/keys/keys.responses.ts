import { ApiProperty } from '@nestjs/swagger';

/** A signing key of the access tokens (API.md 10), without its private half. */
export class SigningKeyResponse {
  @ApiProperty()
  kid!: string;

  @ApiProperty({ example: 'ES256' })
  alg!: string;

  @ApiProperty({ enum: ['scheduled', 'pending', 'active', 'retired', 'expired'], enumName: 'SigningKeyState' })
  state!: 'scheduled' | 'pending' | 'active' | 'retired' | 'expired';

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiProperty({ format: 'date-time' })
  publish_at!: string;

  @ApiProperty({ format: 'date-time' })
  activate_at!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  retire_at!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expire_at!: string | null;
}

export class SigningKeysResponse {
  @ApiProperty({ enum: ['HS256', 'ES256'] })
  algorithm!: string;

  @ApiProperty({ type: [SigningKeyResponse] })
  keys!: SigningKeyResponse[];
}

export class RotatedSigningKeyResponse {
  @ApiProperty({ type: SigningKeyResponse, description: 'The new key: published now, signing from activate_at' })
  key!: SigningKeyResponse;

  @ApiProperty({ type: [SigningKeyResponse] })
  keys!: SigningKeyResponse[];
}

/** One public key of the JWKS (RFC 7517). */
export class PublicJwkResponse {
  @ApiProperty({ example: 'EC' })
  kty!: string;

  @ApiProperty({ example: 'P-256' })
  crv!: string;

  @ApiProperty()
  x!: string;

  @ApiProperty()
  y!: string;

  @ApiProperty()
  kid!: string;

  @ApiProperty({ example: 'ES256' })
  alg!: string;

  @ApiProperty({ enum: ['sig'] })
  use!: 'sig';
}

/** `GET /.well-known/jwks.json`: the public halves of the published signing keys (empty with HS256). */
export class JwksResponse {
  @ApiProperty({ type: [PublicJwkResponse] })
  keys!: PublicJwkResponse[];
}

/** `GET /.well-known/openid-configuration`: what a verifier of the access tokens needs. */
export class DiscoveryDocumentResponse {
  @ApiProperty()
  issuer!: string;

  @ApiProperty()
  jwks_uri!: string;

  @ApiProperty({ type: [String] })
  id_token_signing_alg_values_supported!: string[];

  @ApiProperty({ type: [String] })
  subject_types_supported!: string[];

  @ApiProperty({ type: [String] })
  claims_supported!: string[];
}
