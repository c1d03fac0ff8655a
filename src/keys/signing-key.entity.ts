import type { JsonWebKey } from 'node:crypto';
import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** One signing key of access tokens and its life in dates (see the SigningKeys migration). */
@Entity({ name: 'signing_keys' })
export class SigningKey {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  kid!: string;

  @Column({ type: 'varchar', length: 16 })
  alg!: 'ES256';

  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk!: JsonWebKey;

  /** Sealed by SecretBox under JWT_SECRET, bound to the kid; null once the key has retired. */
  @Column({ name: 'private_key_enc', type: 'bytea', nullable: true, select: false })
  privateKeyEnc!: Buffer | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'publish_at', type: 'timestamptz' })
  publishAt!: Date;

  @Column({ name: 'activate_at', type: 'timestamptz' })
  activateAt!: Date;

  @Column({ name: 'retire_at', type: 'timestamptz', nullable: true })
  retireAt!: Date | null;

  @Column({ name: 'expire_at', type: 'timestamptz', nullable: true })
  expireAt!: Date | null;
}
