import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { CounterStorageModule } from '../common/throttle/throttle.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AccountChangesController } from './account-changes.controller';
import { AccountChangesService } from './account-changes.service';

/** A forgotten password and a changed email address (API.md 12): links by mail, single use, then revocation. */
@Module({
  imports: [UsersModule, SessionsModule, AccessModule, CounterStorageModule],
  providers: [AccountChangesService],
  controllers: [AccountChangesController],
  exports: [AccountChangesService],
})
export class AccountsModule {}
