import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { BasicStrategy as HttpBasicStrategy } from 'passport-http';
import { AuthUser } from '../access/auth-user';
import { answeredFromCache, AppStrategy, Refuses, SchemeStrategy } from '../access/passport';
import { DomainError } from '../common/errors/domain-error';
import { KeyTokensService } from './key-tokens.service';

/**
 * passport-http 0.3 decodes the header with the deprecated `new Buffer(...)`. For each of the first
 * 10,000 such calls Node walks the caller's stack to decide whether to warn (DEP0005), which measured
 * about a fifth of the Basic route's CPU until then. Marking the warning as given, once, silently, ends
 * the walks; the library still does the decoding.
 */
function settleBufferDeprecationCheck(): void {
  const quiet = process.noDeprecation;
  process.noDeprecation = true;
  try {
    new (Buffer as unknown as new (size: number) => Buffer)(0);
  } finally {
    process.noDeprecation = quiet;
  }
}
settleBufferDeprecationCheck();

/** What passport adds to each run of a strategy (the library's types leave it out). */
interface Failing {
  fail(status: number): void;
}

/** RFC 7617's form, exactly: the scheme, one run of spaces, one Base64 token68, nothing after. */
const BASIC = /^basic +([A-Za-z0-9+/_-]+={0,2}) *$/i;

/** The key and token of a well-formed header (split at the first colon), for the cache lookup only. */
function splitBasic(header: string): { key: string; token: string } | undefined {
  const decoded = Buffer.from(BASIC.exec(header)![1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 && colon < decoded.length - 1
    ? { key: decoded.slice(0, colon), token: decoded.slice(colon + 1) }
    : undefined;
}

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
    // A pair verified within the last second answers from the cache; any other goes through passport-http.
    const pair = splitBasic(header);
    if (pair && answeredFromCache(this, () => this.pairs.cachedUser(pair.key, pair.token))) return;
    super.authenticate(request, options);
  }

  validate(key: string, token: string): Promise<AuthUser> {
    return this.pairs.authenticate(key, token);
  }

  refusal(): DomainError {
    return new DomainError('INVALID_TOKEN', 'Credentials are invalid');
  }
}
