import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuditService } from '../audit/audit.service';
import type { AuthUser } from '../access/auth-user';
import { DomainError } from '../common/errors/domain-error';
import { OAuthClientsService } from './clients.service';
import { OAuthRepository } from './oauth.repository';
import type { OidcInteraction } from './oidc-types';
import { OAuthProviderService } from './provider.service';

const epoch = () => Math.floor(Date.now() / 1000);

/**
 * The rules of an authorization request's interaction: who may sign in to it (a sign-in credential of
 * the browser that started it, fresh enough for `prompt=login` and `max_age`, with a second factor when
 * `acr_values` asks aal2 of a user who has one), and what a consent grants and remembers.
 */
@Injectable()
export class InteractionsService {
  constructor(
    private readonly oauth: OAuthProviderService,
    private readonly clients: OAuthClientsService,
    private readonly repo: OAuthRepository,
    private readonly audit: AuditService,
  ) {}

  private async interaction(uid: string, req: IncomingMessage, res: ServerResponse): Promise<OidcInteraction> {
    let details: OidcInteraction;
    try {
      details = await this.oauth.provider.interactionDetails(req, res);
    } catch {
      throw new DomainError(
        'NOT_FOUND',
        'This sign-in request has expired or belongs to another browser: start again from the application',
      );
    }
    if (details.uid !== uid)
      throw new DomainError('NOT_FOUND', 'This sign-in request has expired: start again from the application');
    return details;
  }

  async details(uid: string, req: IncomingMessage, res: ServerResponse) {
    const i = await this.interaction(uid, req, res);
    const clientId = String(i.params.client_id ?? '');
    const client = await this.clients.row(clientId).catch(() => undefined);
    const asked = String(i.params.scope ?? '')
      .split(' ')
      .filter(Boolean);
    return {
      prompt: i.prompt.name,
      reasons: i.prompt.reasons,
      client_id: clientId,
      client_name: client?.name ?? clientId,
      scopes: asked,
      aal2_requested: aal2Requested(i),
    };
  }

  async login(uid: string, user: AuthUser, req: FastifyRequest, res: ServerResponse): Promise<{ redirect_to: string }> {
    if (user.kind !== 'sign-in') {
      throw new DomainError('SIGN_IN_REQUIRED', 'Sign in on this page to continue');
    }
    const i = await this.interaction(uid, req.raw, res);
    if (i.prompt.name !== 'login' && i.session?.accountId === user.id) {
      // Already signed in for this request; nothing more to prove.
      return { redirect_to: await this.oauth.provider.interactionResult(req.raw, res, {}) };
    }
    const authTime = user.authTime ?? 0;
    if (i.prompt.reasons.includes('login_prompt') && authTime < i.iat) {
      throw new DomainError('UNAUTHENTICATED', 'The application asks you to sign in again');
    }
    const maxAge = Number(i.params.max_age);
    if (i.params.max_age !== undefined && Number.isFinite(maxAge) && epoch() - authTime > maxAge) {
      throw new DomainError('UNAUTHENTICATED', 'Your sign-in is older than the application allows: sign in again');
    }
    if (aal2Requested(i) && user.aal !== 'aal2') {
      if (await this.repo.mfaEnabled(user.id)) {
        throw new DomainError(
          'MFA_STEP_UP_REQUIRED',
          'The application asks for your second factor: sign in again with it',
        );
      }
    }
    const amr = amrOf(req);
    const redirect = await this.oauth.provider.interactionResult(
      req.raw,
      res,
      { login: { accountId: user.id, acr: user.aal, amr, ts: authTime, remember: true } },
      { mergeWithLastSubmission: false },
    );
    return { redirect_to: redirect };
  }

  async consent(
    uid: string,
    user: AuthUser,
    req: FastifyRequest,
    res: ServerResponse,
  ): Promise<{ redirect_to: string }> {
    const i = await this.interaction(uid, req.raw, res);
    if (i.prompt.name !== 'consent') throw new DomainError('CONFLICT', 'This request does not ask for consent now');
    const accountId = i.session?.accountId;
    if (!accountId || accountId !== user.id) {
      throw new DomainError('FORBIDDEN', 'This request is being signed in by another account');
    }
    const clientId = String(i.params.client_id);
    const { Grant } = this.oauth.provider;
    const grant = (i.grantId ? await Grant.find(i.grantId) : undefined) ?? new Grant({ accountId, clientId });
    const details = i.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (details.missingOIDCScope?.length) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims?.length) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
      grant.addResourceScope(resource, scopes.join(' '));
    }
    const grantId = await grant.save();
    const scopes = [
      ...new Set([...grant.getOIDCScope().split(' '), ...grant.getResourceScope(this.oauth.apiResource).split(' ')]),
    ].filter(Boolean);
    await this.repo.upsertConsent(accountId, clientId, scopes, grantId);
    await this.audit.record('oauth_consent_granted', {
      userId: accountId,
      ip: req.ip,
      details: { client_id: clientId, scopes },
    });
    const redirect = await this.oauth.provider.interactionResult(
      req.raw,
      res,
      { consent: { grantId } },
      {
        mergeWithLastSubmission: true,
      },
    );
    return { redirect_to: redirect };
  }

  async abort(uid: string, req: IncomingMessage, res: ServerResponse): Promise<{ redirect_to: string }> {
    await this.interaction(uid, req, res);
    const redirect = await this.oauth.provider.interactionResult(
      req,
      res,
      { error: 'access_denied', error_description: 'The person refused the request' },
      { mergeWithLastSubmission: false },
    );
    return { redirect_to: redirect };
  }
}

function aal2Requested(i: OidcInteraction): boolean {
  return String(i.params.acr_values ?? '')
    .split(' ')
    .includes('aal2');
}

/** The `amr` of the sign-in, from the verified `auth_token` (the guard has checked it already). */
function amrOf(req: FastifyRequest): string[] {
  const cookie = (req as FastifyRequest & { cookies?: Record<string, string | undefined> }).cookies?.auth_token;
  const header = req.headers.authorization;
  const token = cookie ?? (typeof header === 'string' ? header.replace(/^Bearer /i, '') : '');
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      amr?: unknown;
    };
    return Array.isArray(payload.amr) ? payload.amr.filter((v): v is string => typeof v === 'string') : ['pwd'];
  } catch {
    return ['pwd'];
  }
}
