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
