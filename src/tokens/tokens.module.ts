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

@Module({
  imports: [TypeOrmModule.forFeature([ApiKey]), UsersModule],
  providers: [ApiKeysService, ApiKeyStrategy, ClientsService, KeyTokensService, BasicStrategy],
  controllers: [ApiKeysController, ClientsController, KeyTokenController],
})
export class TokensModule {}
