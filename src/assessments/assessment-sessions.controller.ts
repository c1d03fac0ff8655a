import { Body, Controller, Get, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiProperty,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { IsArray, IsObject, IsString, Matches, MaxLength } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AuthUser } from '../access/auth-user';
import { CurrentUser, Public, Roles } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { ShallowBody } from '../common/validation';
import { AssessmentSessionsService, Receipt, SessionPrincipal, StartedSession } from './assessment-sessions.service';
import { SessionIdGuard } from './session-id.strategy';
import { AssessmentSessionResponse, StartedSessionResponse, SubmissionReceiptResponse } from './assessments.responses';
import { ApiErrors, PortalError } from '../common/errors/error-responses';

/** 1 to 64 printable characters: no control, format or unassigned code points. */
const PRINTABLE_1_64 = /^[^\p{C}]{1,64}$/u;

class StartSessionDto {
  @ApiProperty({ example: 'P001', description: '1 to 64 printable characters' })
  @IsString()
  @Matches(PRINTABLE_1_64, { message: 'participant_id must be 1 to 64 printable characters' })
  participant_id!: string;

  @ApiProperty({ example: 'battery_1', description: '1 to 64 printable characters' })
  @IsString()
  @Matches(PRINTABLE_1_64, { message: 'battery_id must be 1 to 64 printable characters' })
  battery_id!: string;
}

class SubmitDto {
  @ApiProperty({ example: 'sess_...', description: 'must equal the X-Session-ID header' })
  @IsString()
  @MaxLength(64)
  session_id!: string;

  @ApiProperty({ type: 'object', additionalProperties: true })
  @IsObject({ message: 'task_summaries must be an object' })
  task_summaries!: Record<string, unknown>;

  @ApiProperty({ type: 'array', items: {} })
  @IsArray({ message: 'trials must be an array' })
  trials!: unknown[];
}

export const SUBMIT_BODY_LIMIT = 10 * 1024 * 1024;

@ApiTags('portal: assessment sessions')
@ErrorDialect('portal')
@Controller('api')
@ApiErrors('portal')
export class AssessmentSessionsController {
  constructor(private readonly sessions: AssessmentSessionsService) {}

  @Post('session/start')
  @Roles(['admin', 'researcher', 'coordinator', 'doctor', 'patient', 'caregiver'])
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'assessments.start',
    summary: 'Start an assessment session (any role but viewer)',
    description: 'The `session_id` is a bearer secret for one submission, shown once; sessions live SESSION_TTL (4 h).',
  })
  @ApiCreatedResponse({
    type: StartedSessionResponse,
    example: {
      session_id: 'sess_…',
      participant_id: 'P001',
      battery_id: 'battery_1',
      status: 'active',
      started_at: '2026-01-01T10:00:00.000Z',
      expires_at: '2026-01-01T14:00:00.000Z',
    },
  })
  start(@CurrentUser() user: AuthUser, @Body() body: StartSessionDto): Promise<StartedSession> {
    return this.sessions.start(body.participant_id, body.battery_id, user.id);
  }

  @Post('submit')
  @Public()
  @UseGuards(SessionIdGuard)
  @ApiHeader({ name: 'X-Session-ID', required: true, description: 'the session_id from /api/session/start' })
  @ApiBody({ type: SubmitDto })
  @ApiOperation({
    operationId: 'assessments.submit',
    summary: 'Submit the results of a session (authenticated by X-Session-ID alone; bodies up to 10 MiB)',
    description:
      '201 once the submission is committed. The same body again (a retry after a lost response): 200 with the same ' +
      'submission_id, nothing stored twice. A different body for a submitted session: 409. Missing, unknown or expired ' +
      'session: 401. Body session_id different from the header: 400.',
  })
  @ApiConflictResponse({ type: PortalError, description: 'the session already has a different submission' })
  @ApiUnauthorizedResponse({ type: PortalError, description: 'missing, unknown or expired session' })
  @ApiPayloadTooLargeResponse({ type: PortalError, description: 'body over 10 MiB' })
  @ApiCreatedResponse({
    type: SubmissionReceiptResponse,
    description: 'Stored',
    example: { submission_id: 'uuid', session_id: 'sess_…', received_at: '…', trial_count: 120 },
  })
  @ApiOkResponse({
    type: SubmissionReceiptResponse,
    description: 'The same body was already stored: the original receipt',
  })
  async submit(
    @Req() req: FastifyRequest & { user: SessionPrincipal },
    @ShallowBody(SubmitDto) body: SubmitDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Receipt> {
    const { created, receipt } = await this.sessions.submit(req.user, body);
    reply.status(created ? 201 : 200);
    return receipt;
  }

  @Get('sessions/:id')
  @Roles(['researcher', 'coordinator'])
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'assessments.get',
    summary: 'A session: status (active, submitted, expired) and its submission (researcher, coordinator, admin)',
  })
  @ApiOkResponse({ type: AssessmentSessionResponse })
  get(@Param('id') id: string): Promise<unknown> {
    return this.sessions.get(id);
  }
}
