import { Module, OnApplicationShutdown } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { MagicLinkController } from './magic-link.controller';
import { MagicLinkService } from './magic-link.service';
import { MagicTokenStrategy } from './magic-link.strategy';
import { AuthModule } from '../auth/auth.module';
import { AccessModule } from '../access/access.module';

@Module({
  imports: [AccessModule, AuthModule, UsersModule],
  providers: [MagicLinkService, MagicTokenStrategy],
  controllers: [MagicLinkController],
  exports: [MagicLinkService],
})
export class MagicLinkModule implements OnApplicationShutdown {
  constructor(private readonly links: MagicLinkService) {}

  /** Mail already promised to a caller goes out before the process ends. */
  async onApplicationShutdown(): Promise<void> {
    await this.links.settled();
  }
}
