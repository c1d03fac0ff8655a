import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { AuthUser } from '../auth/auth-user';
import { AppStrategy, SchemeStrategy } from '../auth/passport';
import { ApiKeysService } from './api-keys.service';

/** `X-API-Key: <key>`, accepted on every protected route. */
@Injectable()
@SchemeStrategy('api-key')
export class ApiKeyStrategy extends AppStrategy(Strategy) {
  constructor(private readonly keys: ApiKeysService) {
    super();
  }

  validate(req: FastifyRequest): Promise<AuthUser> {
    return this.keys.authenticate(req.headers['x-api-key']);
  }
}
