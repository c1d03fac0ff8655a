/**
 * PostgreSQL advisory lock ids, in one place so that two features never take the same id by accident
 * and one feature always takes the same id.
 */
export const ADVISORY_LOCKS = {
  /** One instance migrates at a time. */
  migrations: 712_404_001,
  /** Changes that could leave the service without an active admin (bootstrap, demotion, disabling). */
  admins: 712_404_002,
  /** Creating permanent IAM tokens, per owner (the limit of five). */
  permanentTokens: 712_404_003,
  /** Creating and rotating the signing keys of access tokens (one instance at a time, one rotation at a time). */
  signingKeys: 712_404_004,
  /** Creating and rotating the OAuth provider's ES256 and RS256 keys (API.md 15). */
  oauthKeys: 712_404_005,
} as const;
