import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AuthUser } from '../auth/auth-user';
import { CredentialVerifier, VerifiesScheme } from '../common/guards/credential-verifier';
import { ApiKeysService } from './api-keys.service';

/** `X-API-Key: <key>`, accepted on every protected route. */
@Injectable()
@VerifiesScheme('api-key')
export class ApiKeyStrategy implements CredentialVerifier {
  constructor(private readonly keys: ApiKeysService) {}

  verify(req: FastifyRequest): Promise<AuthUser> {
    return this.keys.authenticate(req.headers['x-api-key']);
  }
}
