import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { type Role, type SubscriptionStatus } from '../../common/roles';

@Entity({ name: 'users' })
export class User {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /**
   * Stored normalised (common/identifiers: NFKC, lower-cased, trimmed) and compared as stored; the
   * unique index users_email_key is on this value, so addresses that look alike cannot both exist.
   */
  @Column({ type: 'varchar', length: 320 })
  email!: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  username!: string | null;

  /** argon2id PHC string; null for passwordless accounts (patients and caregivers signing in by link). */
  @Column({ name: 'password_hash', type: 'text', nullable: true, select: false })
  passwordHash!: string | null;

  @Column({ type: 'varchar', length: 16 })
  role!: Role;

  @Column({ name: 'first_name', type: 'varchar', length: 100, nullable: true })
  firstName!: string | null;

  @Column({ name: 'last_name', type: 'varchar', length: 100, nullable: true })
  lastName!: string | null;

  @Column({ type: 'varchar', length: 50, nullable: true })
  title!: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  specialty!: string | null;

  @Column({ name: 'ehr_system_type', type: 'varchar', length: 100, nullable: true })
  ehrSystemType!: string | null;

  @Column({ name: 'ehr_system_name', type: 'varchar', length: 100, nullable: true })
  ehrSystemName!: string | null;

  @Column({ name: 'email_verified', type: 'boolean', default: false })
  emailVerified!: boolean;

  @Column({ name: 'is_active', type: 'boolean', default: true })
  isActive!: boolean;

  /** On as soon as one second factor is confirmed (API.md 6); kept by the MFA service in the same transaction. */
  @Column({ name: 'mfa_enabled', type: 'boolean', default: false })
  mfaEnabled!: boolean;

  @Column({ name: 'subscription_status', type: 'varchar', length: 16, default: 'none' })
  subscriptionStatus!: SubscriptionStatus;

  @Column({ name: 'subscription_ends_at', type: 'timestamptz', nullable: true })
  subscriptionEndsAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
