import { Global, Module } from '@nestjs/common';
import { BroadcastService } from './broadcast.service';
import { RedisService } from './redis.service';

@Global()
@Module({ providers: [RedisService, BroadcastService], exports: [RedisService, BroadcastService] })
export class RedisModule {}
