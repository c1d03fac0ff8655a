import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const FACTOR_TYPES = ['totp', 'email', 'sms', 'passkey'] as const;
export type FactorType = (typeof FACTOR_TYPES)[number];

/** A second factor of a user; MFA is on once one is confirmed. Secrets: see the migration's comments. */
@Entity({ name: 'mfa_factors' })
export class MfaFactor {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ type: 'varchar', length: 16 })
  type!: FactorType;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ name: 'secret_enc', type: 'bytea', nullable: true, select: false })
  secretEnc!: Buffer | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  phone!: string | null;

  @Column({ name: 'last_step', type: 'bigint', nullable: true, select: false })
  lastStep!: string | null;

  @Column({ name: 'code_hash', type: 'char', length: 64, nullable: true, select: false })
  codeHash!: string | null;

  @Column({ name: 'code_expires_at', type: 'timestamptz', nullable: true, select: false })
  codeExpiresAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'confirmed_at', type: 'timestamptz', nullable: true })
  confirmedAt!: Date | null;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;
}

/** One of the ten single-use recovery codes, as an HMAC under a server key. */
@Entity({ name: 'mfa_recovery_codes' })
export class MfaRecoveryCode {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ name: 'code_hash', type: 'char', length: 64 })
  codeHash!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt!: Date | null;
}

/**
 * The second step of a sign-in: an `mfa_token` (its hash), what the first step proved, and its wrong codes.
 * Where the sign-in began (surface, remember, cookies) is auth/'s: `pending_sign_ins`.
 */
@Entity({ name: 'mfa_challenges' })
export class MfaChallenge {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash!: string;

  /** The first factor's RFC 8176 methods. */
  @Column({ name: 'first_amr', type: 'varchar', length: 16, array: true, default: '{}' })
  firstAmr!: string[];

  /** The factor that was the first step (a passkey used without user verification), if one was. */
  @Column({ name: 'first_factor_id', type: 'uuid', nullable: true })
  firstFactorId!: string | null;

  @Column({ type: 'smallint', default: 0 })
  failures!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt!: Date | null;
}
