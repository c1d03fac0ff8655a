import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeyStrategy } from './api-key.strategy';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';
import { ApiKey } from './entities/api-key.entity';
import { UsersModule } from '../users/users.module';
import { BasicStrategy } from './basic.strategy';
import { ClientsController } from './clients.controller';
import { ClientsService } from './clients.service';
import { KeyTokenController } from './key-token.controller';
import { KeyTokensService } from './key-tokens.service';
import { AuthModule } from '../auth/auth.module';
import { SessionsModule } from '../sessions/sessions.module';
import { AccessModule } from '../access/access.module';
import { AccountsModule } from '../accounts/accounts.module';

@Module({
  imports: [AccountsModule, AccessModule, SessionsModule, AuthModule, TypeOrmModule.forFeature([ApiKey]), UsersModule],
  providers: [ApiKeysService, ApiKeyStrategy, ClientsService, KeyTokensService, BasicStrategy],
  controllers: [ApiKeysController, ClientsController, KeyTokenController],
})
export class TokensModule {}
