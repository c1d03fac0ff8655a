import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { BasicStrategy as HttpBasicStrategy } from 'passport-http';
import { AuthUser } from '../auth/auth-user';
import { AppStrategy, Refuses, SchemeStrategy } from '../auth/passport';
import { DomainError } from '../common/errors/domain-error';
import { KeyTokensService } from './key-tokens.service';

/** What passport adds to each run of a strategy (the library's types leave it out). */
interface Failing {
  fail(status: number): void;
}

/** RFC 7617's form, exactly: the scheme, one run of spaces, one Base64 token68, nothing after. */
const BASIC = /^basic +[A-Za-z0-9+/_-]+={0,2} *$/i;

/**
 * `Authorization: Basic base64(key:token)` through passport-http. Headers that the library would read
 * leniently (text after the credentials, no colon, an empty part) are refused before it reads them,
 * and every refusal is a 401 with a Basic challenge, like a wrong pair.
 */
@Injectable()
@SchemeStrategy('basic')
export class BasicStrategy extends AppStrategy(HttpBasicStrategy) implements Refuses {
  constructor(private readonly pairs: KeyTokensService) {
    super();
  }

  authenticate(request: Parameters<HttpBasicStrategy['authenticate']>[0], options?: object): void {
    const header = (request as unknown as FastifyRequest).headers.authorization;
    if (typeof header !== 'string' || !BASIC.test(header)) return (this as unknown as Failing).fail(401);
    super.authenticate(request, options);
  }

  validate(key: string, token: string): Promise<AuthUser> {
    return this.pairs.authenticate(key, token);
  }

  refusal(): DomainError {
    return new DomainError('INVALID_TOKEN', 'Credentials are invalid');
  }
}
