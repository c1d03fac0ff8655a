import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { AuthUser } from '../access/auth-user';
import { answeredFromCache, AppStrategy, SchemeStrategy } from '../access/passport';
import { ApiKeysService } from './api-keys.service';

/** `X-API-Key: <key>`, accepted on every protected route. */
@Injectable()
@SchemeStrategy('api-key')
export class ApiKeyStrategy extends AppStrategy(Strategy) {
  constructor(private readonly keys: ApiKeysService) {
    super();
  }

  /** A key verified within the last second answers from the cache; any other runs passport-custom's verify. */
  authenticate(request: Parameters<InstanceType<typeof Strategy>['authenticate']>[0], options?: unknown): void {
    const key = (request as unknown as FastifyRequest).headers['x-api-key'];
    if (!answeredFromCache(this, () => this.keys.cachedUser(key))) super.authenticate(request, options);
  }

  validate(req: FastifyRequest): Promise<AuthUser> {
    return this.keys.authenticate(req.headers['x-api-key']);
  }
}
