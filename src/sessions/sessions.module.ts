import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { TypeOrmModule } from '@nestjs/typeorm';
import { createSecretKey } from 'node:crypto';
import { CALLER_OF, CallerOf } from '../common/throttle/caller';
import { APP_CONFIG, AppConfig } from '../config/config';
import { KeysModule } from '../keys/keys.module';
import { UsersModule } from '../users/users.module';
import { AccessRevoker } from './access-revoker.service';
import { AccessTokensService, JWT_ALGORITHM } from './access-tokens.service';
import { LoginSession } from './entities/login-session.entity';
import { JwtStrategy } from './jwt.strategy';
import { LoginSessionsService } from './login-sessions.service';
import { RefreshTokensService } from './refresh-tokens.service';
import { SessionIssuer } from './session-issuer.service';
import { SessionRevocationService } from './session-revocation.service';
import { AccessModule } from '../access/access.module';

/**
 * Login sessions and the tokens they issue (API.md 1 and 10): opening a session with its first access and
 * refresh tokens, refresh rotation, revocation reaching every token a session issued, and the JWT strategy
 * that checks them. It decides nothing about who may sign in: that is src/auth, which asks for the second
 * step before it calls the issuer.
 */
@Module({
  imports: [
    AccessModule,
    TypeOrmModule.forFeature([LoginSession]),
    UsersModule,
    KeysModule,
    JwtModule.registerAsync({
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
    RefreshTokensService,
    SessionIssuer,
    AccessRevoker,
    JwtStrategy,
    // The per-caller rate limit runs before authentication: it asks the JWT strategy whose token it is.
    {
      provide: CALLER_OF,
      inject: [JwtStrategy],
      useFactory:
        (jwt: JwtStrategy): CallerOf =>
        (req) =>
          jwt.callerOf(req),
    },
  ],
  exports: [
    AccessTokensService,
    LoginSessionsService,
    SessionRevocationService,
    RefreshTokensService,
    SessionIssuer,
    AccessRevoker,
    CALLER_OF,
  ],
})
export class SessionsModule {}
