import { ApiProperty } from '@nestjs/swagger';

/** The receipt of a submission of assessment results (API.md 1.6). */
export class SubmissionReceiptResponse {
  @ApiProperty()
  submission_id!: string;

  @ApiProperty()
  session_id!: string;

  @ApiProperty({ format: 'date-time' })
  received_at!: string;

  @ApiProperty()
  trial_count!: number;
}

export class SubmissionResponse {
  @ApiProperty()
  submission_id!: string;

  @ApiProperty({ format: 'date-time' })
  received_at!: string;

  @ApiProperty()
  trial_count!: number;

  @ApiProperty({ description: 'As submitted' })
  task_summaries!: unknown;

  @ApiProperty({ description: 'As submitted' })
  trials!: unknown;
}

/** An assessment session, with its submission once there is one. */
export class AssessmentSessionResponse {
  @ApiProperty()
  session_id!: string;

  @ApiProperty()
  participant_id!: string;

  @ApiProperty()
  battery_id!: string;

  @ApiProperty({ enum: ['active', 'submitted', 'expired'] })
  status!: string;

  @ApiProperty({ format: 'date-time' })
  started_at!: string;

  @ApiProperty({ format: 'date-time' })
  expires_at!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  submitted_at!: string | null;

  @ApiProperty({ type: SubmissionResponse, nullable: true })
  submission!: SubmissionResponse | null;
}

/** `POST /api/session/start`: the session, whose id authenticates the submission (X-Session-ID). */
export class StartedSessionResponse {
  @ApiProperty({ description: 'Send it as X-Session-ID with the submission' })
  session_id!: string;

  @ApiProperty()
  participant_id!: string;

  @ApiProperty()
  battery_id!: string;

  @ApiProperty({ enum: ['active'] })
  status!: 'active';

  @ApiProperty({ format: 'date-time' })
  started_at!: string;

  @ApiProperty({ format: 'date-time' })
  expires_at!: string;
}
