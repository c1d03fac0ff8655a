import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * The queries that end a user's credentials other than login sessions: key:token pairs, IAM tokens, API
 * keys, and an email change in waiting. Each answers what the caches must forget.
 */
@Injectable()
export class CredentialsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Revokes the user's live key:token pairs but `keepPairId`; the keys revoked. */
  async revokePairs(userId: string, keepPairId: string | null): Promise<string[]> {
    const [pairs] = (await this.dataSource.query(
      `UPDATE key_tokens SET revoked_at = now()
        WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2::uuid) RETURNING key`,
      [userId, keepPairId],
    )) as [{ key: string }[], number];
    return pairs.map((p) => p.key);
  }

  /** Deletes the user's IAM tokens but `keepTokenId`, the permanent ones too with `permanent`; their key hashes. */
  async deleteIamTokens(userId: string, keepTokenId: string | null, permanent: boolean): Promise<string[]> {
    const [tokens] = (await this.dataSource.query(
      `DELETE FROM iam_tokens
        WHERE user_id = $1 AND ($2::bigint IS NULL OR id <> $2::bigint) AND ($3 OR NOT permanent)
        RETURNING key_hash`,
      [userId, keepTokenId, permanent],
    )) as [{ key_hash: string }[], number];
    return tokens.map((t) => t.key_hash);
  }

  /** Revokes the user's live API keys; their hashes. */
  async revokeApiKeys(userId: string): Promise<string[]> {
    const [keys] = (await this.dataSource.query(
      `UPDATE api_keys SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL RETURNING key_hash`,
      [userId],
    )) as [{ key_hash: string }[], number];
    return keys.map((k) => k.key_hash);
  }

  /** Ends the user's email-change links not yet used. */
  async cancelEmailChanges(userId: string): Promise<void> {
    await this.dataSource.query(`UPDATE email_changes SET used_at = now() WHERE user_id = $1 AND used_at IS NULL`, [
      userId,
    ]);
  }
}
