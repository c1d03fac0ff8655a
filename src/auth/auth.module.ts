import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { TypeOrmModule } from '@nestjs/typeorm';
import { createSecretKey } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '../config/config';
import { AccessTokensService, JWT_ALGORITHM } from './access-tokens.service';
import { LoginSession } from './entities/login-session.entity';
import { LoginSessionsService } from './login-sessions.service';
import { SessionRevocationService } from './session-revocation.service';
import { JwtStrategy } from './strategies/jwt.strategy';
import { UsersModule } from '../users/users.module';
import { MfaModule } from '../mfa/mfa.module';
import { KeysModule } from '../keys/keys.module';
import { PasskeysModule } from '../passkeys/passkeys.module';
import { AccessRevoker } from './access-revoker.service';
import { ClinicalAuthController } from './clinical-auth.controller';
import { ClinicalAuthService } from './clinical-auth.service';
import { PortalAuthController } from './portal-auth.controller';
import { PortalAuthService } from './portal-auth.service';
import { RefreshTokensService } from './refresh-tokens.service';
import { SessionIssuer } from './session-issuer.service';
import { AdminUsersController } from './admin-users.controller';
import { AuditController } from './audit.controller';
import { MfaController } from './mfa.controller';
import { MfaSignInService } from './mfa-sign-in.service';
import { StrategyRunner } from './passport';
import { SensitiveActions } from './sensitive-actions.service';
import { AccountChangesController } from './account-changes.controller';
import { AccountChangesService } from './account-changes.service';
import { CALLER_OF, CallerOf, LOGIN_ACCOUNT_OF } from '../common/throttle/caller';
import type { LoginAccountResolver } from '../common/throttle/trackers';
import { UsersService } from '../users/users.service';
import { ThrottleModule } from '../common/throttle/throttle.module';

@Global()
@Module({
  imports: [
    TypeOrmModule.forFeature([LoginSession]),
    UsersModule,
    MfaModule,
    KeysModule,
    PasskeysModule,
    ThrottleModule,
    DiscoveryModule,
    JwtModule.registerAsync({
      global: true,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        const key = createSecretKey(config.jwt.secret);
        return {
          privateKey: key,
          publicKey: key,
          signOptions: { algorithm: JWT_ALGORITHM, issuer: config.jwt.issuer, audience: config.jwt.audience },
          verifyOptions: { algorithms: [JWT_ALGORITHM], issuer: config.jwt.issuer, audience: config.jwt.audience },
        };
      },
    }),
  ],
  providers: [
    AccessTokensService,
    LoginSessionsService,
    SessionRevocationService,
    JwtStrategy,
    StrategyRunner,
    MfaSignInService,
    SensitiveActions,
    AccountChangesService,
    // The per-caller rate limit runs before authentication: it asks the JWT strategy whose token it is.
    {
      provide: CALLER_OF,
      inject: [JwtStrategy],
      useFactory:
        (jwt: JwtStrategy): CallerOf =>
        (req) =>
          jwt.callerOf(req),
    },
    // The per-account login limit counts by the account an identifier resolves to (email and username alike).
    {
      provide: LOGIN_ACCOUNT_OF,
      inject: [UsersService],
      useFactory:
        (users: UsersService): LoginAccountResolver =>
        (identifier) =>
          users.resolveLoginId(identifier),
    },
    RefreshTokensService,
    SessionIssuer,
    AccessRevoker,
    PortalAuthService,
    ClinicalAuthService,
  ],
  controllers: [
    PortalAuthController,
    ClinicalAuthController,
    AdminUsersController,
    AuditController,
    MfaController,
    AccountChangesController,
  ],
  exports: [
    AccessTokensService,
    LoginSessionsService,
    SessionRevocationService,
    SessionIssuer,
    AccessRevoker,
    PortalAuthService,
    StrategyRunner,
    SensitiveActions,
    AccountChangesService,
    CALLER_OF,
    LOGIN_ACCOUNT_OF,
  ],
})
export class AuthModule {}
