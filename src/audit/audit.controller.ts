import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { Roles } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { Page, PageQuery } from '../common/dto/query';
import { AuditService, AuditView } from './audit.service';
import { AuditPageResponse } from './audit.responses';
import { ApiErrors } from '../common/errors/error-responses';

class AuditQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'only this event, e.g. login_failure' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  event?: string;

  @ApiPropertyOptional({ description: 'events about or by this user' })
  @IsOptional()
  @IsUUID()
  user_id?: string;
}

@ApiTags('portal: admin')
@ApiBearerAuth()
@ErrorDialect('portal')
@Controller('api/audit')
@ApiErrors('portal')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Roles(['admin'])
  @ApiOperation({
    operationId: 'audit.list',
    summary: 'The audit trail of auth events, newest first (admin)',
    description:
      'Events: login_success, login_failure, refresh_reuse, logout, logout_all, session_revoked, user_registered, ' +
      'role_changed, user_disabled, user_enabled, subscription_changed, api_key_created, api_key_revoked.',
  })
  @ApiOkResponse({ type: AuditPageResponse })
  list(@Query() q: AuditQuery): Promise<Page<AuditView>> {
    return this.audit.list({ page: q.page, limit: q.limit, event: q.event, userId: q.user_id });
  }
}
