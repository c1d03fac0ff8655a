import { Module } from '@nestjs/common';
import { MfaModule } from '../mfa/mfa.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AdminUsersController } from './users.controller';

/** The admin console's user routes (API.md 1.6 and 11): accounts, their sessions and their factors. */
@Module({
  imports: [UsersModule, MfaModule, SessionsModule],
  controllers: [AdminUsersController],
})
export class AdminModule {}
