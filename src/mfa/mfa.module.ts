import { Module } from '@nestjs/common';
import { ThrottleModule } from '../common/throttle/throttle.module';
import { UsersModule } from '../users/users.module';
import { MfaChallenges } from './challenges.service';
import { MfaService } from './mfa.service';

/**
 * Second factors and the pending second steps of sign-ins. Below auth/: it knows users, mail and the
 * counters, and nothing of tokens or sessions; auth/ finishes a sign-in once a factor has been proven.
 */
@Module({
  imports: [UsersModule, ThrottleModule],
  providers: [MfaService, MfaChallenges],
  exports: [MfaService, MfaChallenges],
})
export class MfaModule {}
