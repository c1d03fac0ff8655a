import { DiscoveryService } from '@nestjs/core';
import type { AuthedRequest, AuthScheme, AuthUser } from '../../auth/auth-user';

/**
 * Turns the credential a request presents in one scheme into an `AuthUser`, or throws a DomainError.
 * The authentication guard calls verifiers directly rather than through passport: passport's per-request
 * adaptation (it adds its methods to each request object and clones the strategy for every call) cost
 * about 70 µs of CPU per authenticated request, more than everything else on the route together.
 */
export interface CredentialVerifier {
  verify(req: AuthedRequest): Promise<AuthUser> | AuthUser;
}

/** Marks a provider as the verifier of one scheme; the authentication guard finds it at start. */
export const VerifiesScheme = DiscoveryService.createDecorator<AuthScheme>();
