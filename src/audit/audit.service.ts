import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Page } from '../common/dto/query';
import { AuditEvent } from './audit-event.entity';

export type AuditEventName =
  | 'login_success'
  | 'login_failure'
  | 'refresh_reuse'
  | 'logout'
  | 'logout_all'
  | 'session_revoked'
  | 'user_registered'
  | 'role_changed'
  | 'user_disabled'
  | 'user_enabled'
  | 'subscription_changed'
  | 'api_key_created'
  | 'api_key_revoked'
  | 'password_changed'
  | 'mfa_enrolled'
  | 'mfa_removed'
  | 'mfa_verified'
  | 'mfa_failed'
  | 'recovery_code_used'
  | 'recovery_codes_regenerated'
  | 'mfa_reset'
  | 'signing_key_rotated'
  | 'passkey_added'
  | 'passkey_removed'
  | 'passkey_sign_in'
  | 'passkey_failed'
  | 'passkey_clone_suspected'
  | 'sso_login'
  | 'sso_linked'
  | 'sso_user_provisioned'
  | 'sso_failed'
  | 'sso_provider_created'
  | 'sso_provider_updated'
  | 'sso_provider_deleted'
  | 'sso_link_refused'
  | 'sensitive_action_refused'
  | 'email_change_requested'
  | 'email_changed'
  | 'password_reset_requested'
  | 'password_reset'
  | 'credentials_ended'
  | 'oauth_client_created'
  | 'oauth_client_updated'
  | 'oauth_client_disabled'
  | 'oauth_client_secret_rotated'
  | 'oauth_consent_granted'
  | 'oauth_consent_revoked'
  | 'oauth_token_issued'
  | 'oauth_token_revoked';

export interface AuditInput {
  userId?: string | null;
  actorId?: string | null;
  ip?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditView {
  id: string;
  at: string;
  event: string;
  user_id: string | null;
  actor_id: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

/** The trail of security events. Details never hold secrets: ids, roles, reasons only. */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('Audit');

  constructor(@InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>) {}

  async record(event: AuditEventName, input: AuditInput = {}): Promise<void> {
    try {
      // Plain SQL: the ORM's insert builds its statement anew and reads back the generated columns
      // on every call, on the path of every sign-in.
      await this.events.manager.query(
        `INSERT INTO audit_events (event, user_id, actor_id, ip, details) VALUES ($1, $2, $3, $4, $5::jsonb)`,
        [
          event,
          input.userId ?? null,
          input.actorId ?? null,
          input.ip?.slice(0, 64) ?? null,
          JSON.stringify(input.details ?? {}),
        ],
      );
    } catch (e) {
      // An audit write must not turn a completed sign-in into an error; the failure is logged instead.
      this.logger.error(`could not record ${event}: ${(e as Error).message}`);
    }
  }

  async list(query: { page: number; limit: number; event?: string; userId?: string }): Promise<Page<AuditView>> {
    const qb = this.events.createQueryBuilder('e').orderBy('e.at', 'DESC').addOrderBy('e.id', 'DESC');
    if (query.event) qb.andWhere('e.event = :event', { event: query.event });
    if (query.userId) qb.andWhere('(e.user_id = :uid OR e.actor_id = :uid)', { uid: query.userId });
    const [rows, total] = await qb
      .skip((query.page - 1) * query.limit)
      .take(query.limit)
      .getManyAndCount();
    return {
      items: rows.map((r) => ({
        id: String(r.id),
        at: r.at.toISOString(),
        event: r.event,
        user_id: r.userId,
        actor_id: r.actorId,
        ip: r.ip,
        details: r.details,
      })),
      total,
      page: query.page,
      limit: query.limit,
    };
  }
}
