import { applyDecorators, CanActivate, ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuthedRequest } from './auth-user';
import { DomainError } from '../common/errors/domain-error';

/**
 * Paid features: the caller needs an active subscription whose end date (if any) has not passed.
 * Checked against the database on each call, so a change by an admin applies at once. Admins pass.
 */
@Injectable()
export class SubscriptionGuard implements CanActivate {
  constructor(private readonly dataSource: DataSource) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const user = context.switchToHttp().getRequest<AuthedRequest>().user;
    if (!user) throw new DomainError('UNAUTHENTICATED', 'Authentication required');
    if (user.role === 'admin') return true;
    const rows: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM users WHERE id = $1 AND subscription_status = 'active'
          AND (subscription_ends_at IS NULL OR subscription_ends_at > now())`,
      [user.id],
    );
    if (rows.length === 0) throw new DomainError('SUBSCRIPTION_REQUIRED', 'An active subscription is required');
    return true;
  }
}

export const RequiresSubscription = () => applyDecorators(UseGuards(SubscriptionGuard));
