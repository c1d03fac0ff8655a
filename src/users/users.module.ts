import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LOGIN_ACCOUNT_OF } from '../common/throttle/caller';
import type { LoginAccountResolver } from '../common/throttle/trackers';
import { AdminBootstrapService } from './admin-bootstrap.service';
import { EmailVerificationService } from './email-verification.service';
import { User } from './entities/user.entity';
import { UserCache } from './user-cache';
import { PasswordHasher } from './password-hasher';
import { UsersService } from './users.service';

@Module({
  imports: [TypeOrmModule.forFeature([User])],
  providers: [
    UsersService,
    PasswordHasher,
    AdminBootstrapService,
    EmailVerificationService,
    UserCache,
    // The per-account login limit counts by the account an identifier resolves to (email and username alike).
    {
      provide: LOGIN_ACCOUNT_OF,
      inject: [UsersService],
      useFactory:
        (users: UsersService): LoginAccountResolver =>
        (identifier) =>
          users.resolveLoginId(identifier),
    },
  ],
  exports: [UsersService, PasswordHasher, EmailVerificationService, UserCache, LOGIN_ACCOUNT_OF],
})
export class UsersModule {}
