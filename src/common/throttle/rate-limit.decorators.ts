import { Reflector } from '@nestjs/core';
import type { RateLimitName } from '../../config/config';

/** The named limits of API.md section 0 that apply to a route, besides the default one. */
export const RateLimited = Reflector.createDecorator<Exclude<RateLimitName, 'default'>[]>();

/**
 * The body field a login route looks the account up by, so that the per-account counter follows it
 * (another field in the body must not open a fresh counter). Default: `username`, else `email`.
 */
export const LoginField = Reflector.createDecorator<'username' | 'email'>();

/** Exempts a route from the default per-caller limit (liveness probes). */
export const SkipDefaultRateLimit = Reflector.createDecorator<boolean>({ transform: () => true });
