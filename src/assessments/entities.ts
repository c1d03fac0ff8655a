import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'assessment_sessions' })
export class AssessmentSession {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** SHA-256 of the `sess_...` id, which is a bearer secret: whoever holds it may submit. */
  @Column({ name: 'key_hash', type: 'char', length: 64 })
  keyHash!: string;

  @Column({ name: 'participant_id', type: 'varchar', length: 64 })
  participantId!: string;

  @Column({ name: 'battery_id', type: 'varchar', length: 64 })
  batteryId!: string;

  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy!: string | null;

  @Column({ type: 'varchar', length: 16, default: 'active' })
  status!: 'active' | 'submitted';

  @Column({ name: 'started_at', type: 'timestamptz', default: () => 'now()' })
  startedAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'submitted_at', type: 'timestamptz', nullable: true })
  submittedAt!: Date | null;
}

@Entity({ name: 'submissions' })
export class Submission {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'session_id', type: 'uuid' })
  sessionId!: string;

  @Column({ name: 'task_summaries', type: 'jsonb' })
  taskSummaries!: Record<string, unknown>;

  @Column({ type: 'jsonb' })
  trials!: unknown[];

  @Column({ name: 'trial_count', type: 'integer' })
  trialCount!: number;

  @Column({ name: 'body_hash', type: 'char', length: 64 })
  bodyHash!: string;

  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'now()' })
  receivedAt!: Date;
}
