import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/errors/domain-error';
import { hasInvisibleCharacters, normalizeEmail } from '../common/identifiers';
import { MailService } from '../mail/mail.service';
import { User } from '../users/entities/user.entity';
import { UsersService } from '../users/users.service';
import type { SsoProvider } from './entities';
import { SsoFailure } from './failure';
import { SsoLinksRepository, type SsoLinkView } from './links.repository';
import type { SsoIdentity } from './oidc.service';

/**
 * Turns a proven identity at a provider into one of our users (API.md 7): by its link (provider, subject)
 * when it has one; on a first sign-in, by linking to the account with that address only when the provider
 * vouches for the address and that account's own address is verified (else it is refused, and the owner
 * told), else by creating a user with the provider's default role. The role is never
 * touched afterwards: the provider says who someone is, our admins say what they may do.
 */
@Injectable()
export class SsoAccountsService {
  constructor(
    private readonly links: SsoLinksRepository,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    private readonly mail: MailService,
  ) {}

  async resolve(p: SsoProvider, identity: SsoIdentity, ip: string | null): Promise<User> {
    const email = identity.email ? normalizeEmail(identity.email) : null;
    // Checked on every sign-in, not only the first: a provider must not speak for domains it does not serve.
    if (!email || hasInvisibleCharacters(email) || !/^[^\s@]+@[^\s@]+$/.test(email)) {
      throw new SsoFailure('email_missing', 'the provider sent no usable email address');
    }
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (!p.domains.includes(domain)) {
      throw new SsoFailure('domain_not_allowed', `${domain} is not one of the provider's domains`);
    }
    const subject = identity.subject.slice(0, 255);
    const linkedUserId = await this.links.touch(p.id, subject);
    let user = linkedUserId ? await this.users.findById(linkedUserId) : null;
    if (!user) user = await this.firstSignIn(p, subject, email, identity, ip);
    if (!user.isActive) throw new SsoFailure('account_disabled', 'this account is disabled');
    return user;
  }

  private async firstSignIn(
    p: SsoProvider,
    subject: string,
    email: string,
    identity: SsoIdentity,
    ip: string | null,
  ): Promise<User> {
    const existing = await this.users.findByLogin(email);
    if (existing && existing.email === email) {
      // A provider that does not vouch for the address could otherwise take over the account that holds it.
      if (!identity.emailVerified) {
        throw new SsoFailure(
          'email_not_verified',
          'an account with this address exists and the provider did not verify it',
        );
      }
      // An account whose own address was never verified may have been made by somebody else before the real
      // owner arrived (a pre-account takeover): linking would give that person the owner's identity (API.md 12).
      if (!existing.emailVerified) {
        await this.audit.record('sso_link_refused', {
          userId: existing.id,
          ip,
          details: { provider: p.id, reason: 'account_exists_unverified' },
        });
        await this.mail
          .send({
            to: existing.email,
            subject: `A sign-in with ${p.name} was refused`,
            text:
              `Someone signed in with ${p.name} as ${existing.email}. An account with this address exists here, ` +
              `but its address was never confirmed, so the sign-in was not linked to it.\n\n` +
              `If that was you and you did not open this account, tell your administrator: someone else may have ` +
              `opened it with your address. If you did open it, confirm your address from the mail we sent then, ` +
              `or sign in with your password.\n`,
          })
          .catch(() => undefined);
        throw new SsoFailure(
          'account_exists_unverified',
          'an account with this address exists and its own address was never verified',
        );
      }
      await this.links.insert(p.id, subject, existing.id);
      await this.audit.record('sso_linked', { userId: existing.id, ip, details: { provider: p.id } });
      return existing;
    }
    const user = await this.links.transaction(async (m) => {
      let created: User;
      try {
        created = await this.users.create(
          {
            email,
            role: p.defaultRole,
            firstName: identity.firstName,
            lastName: identity.lastName,
            emailVerified: identity.emailVerified,
          },
          m,
        );
      } catch (e) {
        if (e instanceof DomainError) throw new SsoFailure('server_error', e.message);
        throw e;
      }
      await this.links.insert(p.id, subject, created.id, m);
      return created;
    });
    await this.audit.record('sso_user_provisioned', {
      userId: user.id,
      ip,
      details: { provider: p.id, role: user.role },
    });
    return user;
  }

  /** A user's links to identity providers, for admins (API.md 9): which institutions sign them in. */
  async linksOf(userId: string): Promise<SsoLinkView[]> {
    await this.users.getById(userId);
    return this.links.of(userId);
  }
}
