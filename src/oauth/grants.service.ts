import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import type { AuthUser } from '../access/auth-user';
import { DomainError } from '../common/errors/domain-error';
import type { OAuthGrantView } from './dto';
import { OAuthRepository } from './oauth.repository';

/**
 * A user's consents and what they issued. Revoking deletes the consent and every code, token and grant
 * of that client for that user (the rows of oauth_models carry both), so each stops working at once.
 */
@Injectable()
export class GrantsService {
  constructor(
    private readonly repo: OAuthRepository,
    private readonly audit: AuditService,
  ) {}

  async list(userId: string): Promise<OAuthGrantView[]> {
    const rows = await this.repo.listConsents(userId);
    return rows.map((r) => ({
      client_id: r.client_id,
      client_name: r.name,
      scopes: r.scopes,
      granted_at: r.granted_at.toISOString(),
    }));
  }

  async revoke(user: AuthUser, clientId: string, ip: string): Promise<void> {
    if (typeof clientId !== 'string' || clientId.length > 64) throw new DomainError('NOT_FOUND', 'No such application');
    const removed = await this.repo.revokeConsent(user.id, clientId);
    if (!removed) throw new DomainError('NOT_FOUND', 'This application has no access to your account');
    await this.audit.record('oauth_consent_revoked', { userId: user.id, ip, details: { client_id: clientId } });
  }
}
