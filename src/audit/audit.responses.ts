import { ApiProperty } from '@nestjs/swagger';

/** One event of the audit trail. Details never hold secrets: ids, roles, reasons only. */
export class AuditEventResponse {
  @ApiProperty()
  id!: string;

  @ApiProperty({ format: 'date-time' })
  at!: string;

  @ApiProperty({ example: 'login_success' })
  event!: string;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The user the event is about' })
  user_id!: string | null;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'Who did it, when not the user' })
  actor_id!: string | null;

  @ApiProperty({ type: String, nullable: true })
  ip!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true })
  details!: Record<string, unknown>;
}

export class AuditPageResponse {
  @ApiProperty({ type: [AuditEventResponse] })
  items!: AuditEventResponse[];

  @ApiProperty()
  total!: number;

  @ApiProperty()
  page!: number;

  @ApiProperty()
  limit!: number;
}
