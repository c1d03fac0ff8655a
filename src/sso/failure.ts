/**
 * A sign-in that failed after the browser left for the provider. It goes back to the portal as
 * `redirect_uri?error=<code>`; the reason stays in the audit trail and the log.
 */
export type SsoFailureCode =
  | 'access_denied'
  | 'invalid_state'
  | 'invalid_id_token'
  | 'invalid_saml_response'
  | 'replayed_response'
  | 'tenant_not_allowed'
  | 'domain_not_allowed'
  | 'email_missing'
  | 'email_not_verified'
  | 'account_exists_unverified'
  | 'account_disabled'
  | 'server_error';

export class SsoFailure extends Error {
  constructor(
    readonly code: SsoFailureCode,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'SsoFailure';
  }
}
