import { CanActivate, ExecutionContext, Injectable, mixin, OnModuleInit, Type } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { PassportStrategy } from '@nestjs/passport';
import { Passport, type Strategy } from 'passport';
import { DomainError } from '../common/errors/domain-error';

/**
 * Names a provider as the Passport strategy of one scheme (`jwt`, `basic`, `token`, `api-key`, `magic`,
 * `session-id`); the application's StrategyRunner registers it at start.
 */
export const SchemeStrategy = DiscoveryService.createDecorator<string>();

/** What a strategy may say about a credential that it did not accept (Passport's `fail`). */
export interface Refuses {
  refusal(info: unknown): DomainError;
}

const NOT_REGISTERED = { use: () => NOT_REGISTERED };

/**
 * `PassportStrategy(Strategy)` without the registration with passport's process-wide instance: every
 * application (and every instance that a test starts in one process) runs its strategies through its own
 * `Passport`, so that two applications never answer with each other's strategies.
 */
export function AppStrategy<T extends Type<unknown>>(Strategy: T) {
  const Base = PassportStrategy(Strategy);
  class Unregistered extends (Base as Type<object>) {
    getPassportInstance(): unknown {
      return NOT_REGISTERED;
    }
  }
  return Unregistered as unknown as typeof Base;
}

/**
 * The properties that passport's `authenticate` writes on every request it sees (and the `user` that the
 * guard sets), declared on Fastify's request up front: each request object is then created with them,
 * instead of changing its shape six times on every authenticated request.
 */
export const PASSPORT_REQUEST_FIELDS = [
  'user',
  'login',
  'logIn',
  'logout',
  'logOut',
  'isAuthenticated',
  'isUnauthenticated',
  '_sessionManager',
] as const;

export function declarePassportRequestFields(fastify: { decorateRequest(name: string, value: null): unknown }): void {
  for (const name of PASSPORT_REQUEST_FIELDS) fastify.decorateRequest(name, null);
}

/** What passport gives each run of a strategy to answer with. */
interface Answering {
  success(user: unknown): void;
  error(err: Error): void;
}

/**
 * The verified-credential caches in front of the libraries: a hit (or a refusal decided from the cache)
 * answers through passport at once, and only a miss runs the library's own verification. True when
 * answered. Revocation and expiry are still decided on every request by the cache's owner.
 */
export function answeredFromCache(strategy: unknown, lookup: () => unknown): boolean {
  const run = strategy as Answering;
  let user: unknown;
  try {
    user = lookup();
  } catch (e) {
    run.error(e as Error);
    return true;
  }
  if (user === undefined) return false;
  run.success(user);
  return true;
}

const ACCEPT_ONLY: { session: false } = { session: false };

/**
 * The application's own Passport: every strategy marked @SchemeStrategy, run one at a time by name.
 * A request is never tried against several strategies in turn (each failing strategy costs an Error).
 */
@Injectable()
export class StrategyRunner implements OnModuleInit {
  private readonly passport = new Passport();
  private readonly refusers = new Map<string, Partial<Refuses>>();

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders({ metadataKey: SchemeStrategy.KEY })) {
      const name = this.discovery.getMetadataByDecorator(SchemeStrategy, wrapper);
      if (name && wrapper.instance) this.register(name, wrapper.instance as Strategy & Partial<Refuses>);
    }
  }

  register(name: string, strategy: Strategy & Partial<Refuses>): void {
    this.passport.use(name, strategy);
    this.refusers.set(name, strategy);
  }

  has(name: string): boolean {
    return this.refusers.has(name);
  }

  /**
   * Authenticates the request with the strategy of that name: resolves to what the strategy's `validate`
   * returned, or rejects with its DomainError (a `fail` is turned into one by the strategy's `refusal`).
   */
  run<T>(name: string, req: unknown, res: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const authenticate = this.passport.authenticate(
        name,
        ACCEPT_ONLY,
        (err: unknown, user: unknown, info: unknown) => {
          if (err) reject(err);
          else if (user) resolve(user as T);
          else
            reject(
              this.refusers.get(name)?.refusal?.(info) ?? new DomainError('INVALID_TOKEN', 'Credentials are invalid'),
            );
        },
      ) as (req: unknown, res: unknown, next: (err?: unknown) => void) => void;
      authenticate(req, res, (err?: unknown) =>
        reject(err ?? new DomainError('INVALID_TOKEN', 'Credentials are invalid')),
      );
    });
  }
}

/**
 * A route guard that runs one strategy (the magic-link token, the assessment session id) on a route that
 * the global authentication guard leaves open; what the strategy returns becomes `req.user`.
 */
export function StrategyGuard(name: string): Type<CanActivate> {
  @Injectable()
  class RunsStrategy implements CanActivate {
    constructor(private readonly runner: StrategyRunner) {}

    async canActivate(context: ExecutionContext): Promise<boolean> {
      const http = context.switchToHttp();
      const req = http.getRequest<{ user?: unknown }>();
      req.user = await this.runner.run(name, req, http.getResponse());
      return true;
    }
  }
  return mixin(RunsStrategy);
}
