import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Where a sign-in that waits for its second step began, so that the second step answers as that route
 * would: auth/'s half of an `mfa_challenges` row (mfa/ keeps only what the first factor proved), gone with it.
 */
@Entity({ name: 'pending_sign_ins' })
export class PendingSignIn {
  @PrimaryColumn({ name: 'challenge_id', type: 'uuid' })
  challengeId!: string;

  /** The surface whose login body the second step returns. */
  @Column({ type: 'varchar', length: 16 })
  surface!: 'portal' | 'clinical';

  /** The login session's method (password, clinical, magic_link, ...). */
  @Column({ type: 'varchar', length: 32 })
  method!: string;

  @Column({ type: 'boolean', default: false })
  remember!: boolean;

  @Column({ name: 'set_cookie', type: 'boolean', default: false })
  setCookie!: boolean;
}
