import { ApiProperty } from '@nestjs/swagger';

/** The answers about opaque credentials (API.md 1.5, 3 and the console's client applications). */
export class ApiKeyResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ description: 'The first characters of the key, to recognise it' })
  prefix!: string;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expires_at!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  last_used_at!: string | null;
}

/** A new API key: the only answer that carries the key itself. */
export class NewApiKeyResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty()
  prefix!: string;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expires_at!: string | null;

  @ApiProperty({ description: 'Shown this once; send it in X-API-Key' })
  key!: string;
}

/** A client application of the key:token surface. */
export class ClientResponse {
  @ApiProperty({ example: 'web' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty()
  active!: boolean;

  @ApiProperty({ type: Number, nullable: true, description: 'Null: the service default (KEY_TOKEN_TTL)' })
  token_ttl_seconds!: number | null;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

/** A key:token pair (API.md 3). */
export class KeyTokenPairResponse {
  @ApiProperty()
  key!: string;

  @ApiProperty()
  token!: string;

  @ApiProperty()
  refresh!: string;

  @ApiProperty({ format: 'date-time' })
  expires!: string;
}

/** Sign-up and sign-in of the key:token surface: the pair, with the user's role. */
export class KeyTokenSignInResponse extends KeyTokenPairResponse {
  @ApiProperty({ example: 'viewer' })
  role!: string;
}
