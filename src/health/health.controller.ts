import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public, Roles } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { SkipDefaultRateLimit } from '../common/throttle/rate-limit.decorators';
import { MailService } from '../mail/mail.service';
import { RedisService } from '../redis/redis.service';
import { SmsService } from '../sms/sms.service';
import { Readiness, ReadinessService } from './readiness.service';
import { HealthDetailsResponse, LivenessResponse, ReadinessResponse } from './health.responses';
import { ApiErrors } from '../common/errors/error-responses';

@ApiTags('health')
@ErrorDialect('portal')
@Controller('api/health')
@ApiErrors('portal')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly mail: MailService,
    private readonly redis: RedisService,
    private readonly sms: SmsService,
    private readonly readiness: ReadinessService,
  ) {}

  @Get()
  @Public()
  @SkipDefaultRateLimit()
  @ApiOperation({
    operationId: 'health.live',
    summary: 'Liveness: the process answers. No authentication, no dependency checks.',
  })
  @ApiOkResponse({ type: LivenessResponse, example: { status: 'ok' } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @Public()
  @SkipDefaultRateLimit()
  @ApiOperation({
    operationId: 'health.ready',
    summary:
      'Readiness: 200 when the database answers (and Redis, when configured); 503 naming the part that is ' +
      'down, or `stopping` from the start of a graceful stop. Answers within 2 seconds.',
  })
  @ApiOkResponse({
    type: ReadinessResponse,
    description: 'Ready',
    example: { status: 'ready', down: [], checks: { database: { status: 'up' } } },
  })
  @ApiServiceUnavailableResponse({
    type: ReadinessResponse,
    description: 'Not ready, or stopping',
    example: {
      status: 'not_ready',
      down: ['database'],
      checks: { database: { status: 'down', message: 'no answer within 1500 ms' } },
    },
  })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<Readiness> {
    const state = await this.readiness.check();
    reply.header('Cache-Control', 'no-store');
    if (state.status !== 'ready') reply.status(503);
    return state;
  }

  @Get('detailed')
  @Roles(['admin'])
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'health.detailed',
    summary: 'Readiness of each dependency: database, mail, sms, redis (admin only).',
  })
  @ApiOkResponse({ type: HealthDetailsResponse, description: 'Every dependency is up' })
  @ApiServiceUnavailableResponse({
    type: HealthDetailsResponse,
    description: 'At least one dependency is down; `error` names it',
  })
  async detailed(@Res({ passthrough: true }) reply: FastifyReply): Promise<unknown> {
    try {
      return await this.health.check([
        () => this.db.pingCheck('database', { timeout: 2000 }),
        async () => {
          const mail = await this.mail.check();
          const session = this.indicators.check('mail');
          return mail.ok ? session.up({ mode: mail.mode }) : session.down({ mode: mail.mode, message: mail.error });
        },
        async () => {
          const sms = await this.sms.check();
          const session = this.indicators.check('sms');
          return sms.ok ? session.up({ mode: sms.mode }) : session.down({ mode: sms.mode, message: sms.error });
        },
        async () => {
          const session = this.indicators.check('redis');
          if (!this.redis.client) return session.up({ configured: false });
          return (await this.redis.ping())
            ? session.up({ configured: true })
            : session.down({ configured: true, message: 'unreachable' });
        },
      ]);
    } catch (e) {
      if (e instanceof ServiceUnavailableException) {
        reply.status(503);
        return e.getResponse();
      }
      throw e;
    }
  }
}
