import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One sign-in. Every access JWT names its login session (`sid`); revoking the session refuses all of
 * its tokens at once, however long they would otherwise live.
 */
@Entity({ name: 'login_sessions' })
export class LoginSession {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  /** How the session was opened: password, magic_link, clinical, ... */
  @Column({ type: 'varchar', length: 32 })
  method!: string;

  @Column({ type: 'boolean', default: false })
  remember!: boolean;

  /** How the user proved who they are (RFC 8176 values); every access token of the session carries it. */
  @Column({ type: 'varchar', length: 16, array: true, default: '{}' })
  amr!: string[];

  /** 1 or 2: the authenticator assurance level of the sign-in, kept by every refresh. */
  @Column({ type: 'smallint', default: 1 })
  aal!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'revoked_reason', type: 'varchar', length: 32, nullable: true })
  revokedReason!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 256, nullable: true })
  userAgent!: string | null;
}
