import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE, DiscoveryModule } from '@nestjs/core';
import { SecurityNoticesInterceptor } from './access/security-notices.interceptor';
import type { DestinationStream } from 'pino';
import { AppointmentsModule } from './appointments/appointments.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { IamModule } from './iam/iam.module';
import { MagicLinkModule } from './magic-link/magic-link.module';
import { AssessmentsModule } from './assessments/assessments.module';
import { AccessModule } from './access/access.module';
import { AccountsModule } from './accounts/accounts.module';
import { AdminModule } from './admin/admin.module';
import { MfaModule } from './mfa/mfa.module';
import { PasskeysModule } from './passkeys/passkeys.module';
import { SessionsModule } from './sessions/sessions.module';
import { SsoModule } from './sso/sso.module';
import { StudiesModule } from './studies/studies.module';
import { TokensModule } from './tokens/tokens.module';
import { DialectRegistry } from './common/errors/dialect-registry';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter';
import { AuthenticationGuard } from './access/authentication.guard';
import { RolesGuard } from './access/roles.guard';
import { AppThrottlerGuard } from './common/throttle/app-throttler.guard';
import { ThrottleModule } from './common/throttle/throttle.module';
import { createValidationPipe } from './common/validation';
import { AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { ENTITIES } from './entities';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { MailModule } from './mail/mail.module';
import { RedisModule } from './redis/redis.module';
import { SmsModule } from './sms/sms.module';
import { UsersModule } from './users/users.module';
import { PagesModule } from './pages/pages.module';

export interface AppModuleOptions {
  /** Where the structured log goes (stdout by default); tests capture it. */
  logStream?: DestinationStream;
}

@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        MetricsModule.forRoot(config),
        DiscoveryModule,
        DatabaseModule.forRoot(ENTITIES),
        RedisModule,
        MailModule,
        SmsModule,
        UsersModule,
        AccessModule,
        SessionsModule,
        ThrottleModule.forRoot([SessionsModule, UsersModule]),
        MfaModule,
        PasskeysModule,
        AuthModule,
        AccountsModule,
        AdminModule,
        HealthModule,
        AuditModule,
        StudiesModule,
        TokensModule,
        MagicLinkModule,
        AssessmentsModule,
        AppointmentsModule,
        IamModule,
        PagesModule,
        SsoModule,
      ],
      providers: [
        DialectRegistry,
        // Order matters: rate limits first (cheapest refusal), then who is calling, then what they may do.
        { provide: APP_GUARD, useClass: AppThrottlerGuard },
        { provide: APP_GUARD, useClass: AuthenticationGuard },
        { provide: APP_GUARD, useClass: RolesGuard },
        { provide: APP_INTERCEPTOR, useClass: SecurityNoticesInterceptor },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
    };
  }
}
