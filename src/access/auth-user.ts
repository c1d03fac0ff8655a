import type { FastifyRequest } from 'fastify';
import { Role } from '../common/roles';

/** NIST SP 800-63B authenticator assurance: one factor, or two. */
export type Aal = 'aal1' | 'aal2';

export type AuthScheme = 'jwt' | 'basic' | 'token' | 'api-key';

/**
 * What a credential may do (API.md 12). `sign-in`: an access JWT or the `auth_token` cookie, issued when the
 * person proved who they are (it carries `auth_time` and `aal`). `delegated`: an API key, an IAM token or a
 * key:token pair, which act for the user on data but never change who the user is or how the account is
 * protected. Each strategy says the kind of what it accepted; the authentication guard holds the rule.
 */
export type CredentialKind = 'sign-in' | 'delegated';

/** What every strategy turns a valid credential into. */
export interface AuthUser {
  id: string;
  role: Role;
  scheme: AuthScheme;
  /** Sign-in or delegated: what the credential may change (API.md 12). */
  kind: CredentialKind;
  /** For a sign-in credential: when the person last proved who they are (seconds since the epoch). */
  authTime?: number;
  /** The login session of a JWT (its `sid`). */
  sessionId?: string;
  /** The JWT id, for the routes that act on the token itself. */
  tokenId?: string;
  /** The opaque credential (key:token pair, IAM token) that made the request. */
  credentialId?: string;
  /** The key:token client application of the credential. */
  clientId?: string;
  /** The IAM space a space-scoped token acts in. */
  spaceId?: string | null;
  /**
   * The sign-in's assurance (API.md 6): `aal2` only for a JWT of a sign-in with a second factor. Opaque
   * credentials (Basic, Token, X-API-Key) are always `aal1`.
   */
  aal: Aal;
  /** Set when the JWT came from the `auth_token` cookie rather than the Authorization header. */
  viaCookie?: boolean;
}

export type AuthedRequest = FastifyRequest & { user?: AuthUser };
