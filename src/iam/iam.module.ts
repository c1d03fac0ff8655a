import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { IamAuthService } from './iam-auth.service';
import { IamTokensService } from './iam-tokens.service';
import { IamController } from './iam.controller';
import { SpacesService } from './spaces.service';
import { TokenStrategy } from './token.strategy';
import { AuthModule } from '../auth/auth.module';
import { SessionsModule } from '../sessions/sessions.module';
import { AccessModule } from '../access/access.module';

@Module({
  imports: [AccessModule, SessionsModule, AuthModule, UsersModule],
  providers: [IamTokensService, SpacesService, IamAuthService, TokenStrategy],
  controllers: [IamController],
})
export class IamModule {}
