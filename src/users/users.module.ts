import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminBootstrapService } from './admin-bootstrap.service';
import { EmailVerificationService } from './email-verification.service';
import { User } from './entities/user.entity';
import { UserCache } from './user-cache';
import { PasswordHasher } from './password-hasher';
import { UsersService } from './users.service';

@Module({
  imports: [TypeOrmModule.forFeature([User])],
  providers: [UsersService, PasswordHasher, AdminBootstrapService, EmailVerificationService, UserCache],
  exports: [UsersService, PasswordHasher, EmailVerificationService, UserCache],
})
export class UsersModule {}
