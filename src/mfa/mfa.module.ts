import { Module } from '@nestjs/common';
import { CounterStorageModule } from '../common/throttle/throttle.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { MfaChallenges } from './challenges.service';
import { MfaController } from './mfa.controller';
import { MfaRepository } from './mfa.repository';
import { MfaService } from './mfa.service';

/**
 * Second factors (API.md 6): enrolment and removal routes, the proofs, the account lock-out, and the
 * pending second steps of sign-ins. Below auth/: it knows users, mail, the counters and the login sessions it
 * ends when MFA turns on, and nothing of how a sign-in began; auth/ asks it for a proof and finishes.
 */
@Module({
  imports: [UsersModule, CounterStorageModule, SessionsModule],
  providers: [MfaService, MfaRepository, MfaChallenges],
  controllers: [MfaController],
  exports: [MfaService, MfaChallenges],
})
export class MfaModule {}
