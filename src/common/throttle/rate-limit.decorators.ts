import { Reflector } from '@nestjs/core';
import type { RateLimitName } from '../../config/config';

/** The named limits of API.md section 0 that apply to a route, besides the default one. */
export const RateLimited = Reflector.createDecorator<Exclude<RateLimitName, 'default'>[]>();

/** Exempts a route from the default per-caller limit (liveness probes). */
export const SkipDefaultRateLimit = Reflector.createDecorator<boolean>({ transform: () => true });
