import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { MagicLinkController } from './magic-link.controller';
import { MagicLinkService } from './magic-link.service';
import { MagicTokenStrategy } from './magic-link.strategy';
import { MagicLinksRepository } from './magic-links.repository';
import { AuthModule } from '../auth/auth.module';
import { AccessModule } from '../access/access.module';

@Module({
  imports: [AccessModule, AuthModule, UsersModule],
  providers: [MagicLinkService, MagicLinksRepository, MagicTokenStrategy],
  controllers: [MagicLinkController],
  exports: [MagicLinkService],
})
export class MagicLinkModule {}
