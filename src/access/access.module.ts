import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CounterStorageModule } from '../common/throttle/throttle.module';
import { UsersModule } from '../users/users.module';
import { StrategyRunner } from './passport';
import { SensitiveActions } from './sensitive-actions.service';

/**
 * The access kernel: who is calling (the Passport runner over every strategy the app declares, found by
 * discovery) and what a credential may do (section 12's one rule). The global guards and the security-notice
 * interceptor of AppModule use it; features use its decorators, and none of them imports sign-in to do so.
 */
@Module({
  imports: [DiscoveryModule, UsersModule, CounterStorageModule],
  providers: [StrategyRunner, SensitiveActions],
  exports: [StrategyRunner, SensitiveActions],
})
export class AccessModule {}
