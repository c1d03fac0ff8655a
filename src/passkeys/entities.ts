import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

export const CHALLENGE_PURPOSES = ['register', 'login', 'mfa'] as const;
export type ChallengePurpose = (typeof CHALLENGE_PURPOSES)[number];

/**
 * The WebAuthn half of a passkey factor, under the id of its mfa_factors row (which holds its name, user,
 * created_at and last_used_at like every factor's). See the Passkeys migration.
 */
@Entity({ name: 'passkeys' })
export class Passkey {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  /** base64url, unique. */
  @Column({ name: 'credential_id', type: 'varchar', length: 1400 })
  credentialId!: string;

  /** The COSE_Key, public. */
  @Column({ name: 'public_key', type: 'bytea' })
  publicKey!: Buffer;

  @Column({ type: 'bigint', default: 0 })
  counter!: string;

  @Column({ type: 'varchar', length: 16, array: true, default: '{}' })
  transports!: string[];

  @Column({ type: 'uuid' })
  aaguid!: string;

  @Column({ name: 'device_type', type: 'varchar', length: 16 })
  deviceType!: 'singleDevice' | 'multiDevice';

  @Column({ name: 'backed_up', type: 'boolean' })
  backedUp!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

/** A ceremony's challenge (its hash), what it was issued for, and until when; deleted when used. */
@Entity({ name: 'webauthn_challenges' })
export class WebAuthnChallenge {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  purpose!: ChallengePurpose;

  @Column({ name: 'challenge_hash', type: 'char', length: 64 })
  challengeHash!: string;

  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId!: string | null;

  @Column({ type: 'boolean', default: false })
  discoverable!: boolean;

  @Column({ name: 'mfa_challenge_id', type: 'uuid', nullable: true })
  mfaChallengeId!: string | null;

  @Column({ name: 'factor_id', type: 'uuid', nullable: true })
  factorId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
