import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Metrics, NO_METRICS } from '../metrics/metrics';
import { AuditService } from '../audit/audit.service';
import { LoginBody } from '../sessions/session-issuer.service';
import { DomainError } from '../common/errors/domain-error';
import { newSecret } from '../common/secrets';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { UsersService } from '../users/users.service';
import { SsoAccountsService } from './accounts.service';
import { randomNonce, randomPKCECodeVerifier } from 'openid-client';
import type { SsoProvider } from './entities';
import { SsoFailure } from './failure';
import { Flow, SsoFlowsService } from './flows.service';
import { OidcService, SsoIdentity } from './oidc.service';
import { SsoProvidersService } from './providers.service';
import { SamlService } from './saml.service';
import { ClientInfo } from '../access/client-info';
import { SignInService } from '../auth/sign-in.service';

/** Where the browser goes next: to the provider, or back to the portal with a code or an error. */
export interface Redirect {
  location: string;
  /** The browser binding to set (a new one when the browser had none). */
  browser?: string;
}

/** A sign-in attempt whose state names no attempt of this browser: there is no trusted place to send it back. */
export const UNKNOWN_ATTEMPT = new DomainError(
  'INVALID_STATE',
  'This sign-in attempt is unknown, expired, already used or was started in another browser: start again',
);

const BINDING = /^[A-Za-z0-9_-]{43}$/;

@Injectable()
export class SsoService {
  private readonly logger = new Logger('Sso');

  constructor(
    private readonly providers: SsoProvidersService,
    private readonly flows: SsoFlowsService,
    private readonly oidc: OidcService,
    private readonly saml: SamlService,
    private readonly accounts: SsoAccountsService,
    private readonly users: UsersService,
    private readonly signIns: SignInService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() private readonly metrics: Metrics = NO_METRICS,
  ) {}

  async discover(email: string): Promise<{ provider: string; name: string; type: string }> {
    const p = await this.providers.forEmail(email);
    if (!p) throw new DomainError('NOT_FOUND', 'No identity provider serves this address');
    return { provider: p.id, name: p.name, type: p.type };
  }

  /**
   * A `redirect_uri` is acceptable under PORTAL_URL (same origin, under its path) or at an origin of
   * SSO_REDIRECT_ORIGINS: the one-time code travels there, so anywhere else would be an open redirect that
   * hands out sign-ins.
   */
  checkRedirect(raw: string | undefined): string {
    const refuse = (message: string) =>
      new DomainError('VALIDATION_ERROR', message, [{ name: 'redirect_uri', message }]);
    if (!raw) throw refuse('redirect_uri is required');
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw refuse('redirect_uri must be an absolute URL');
    }
    if (url.username || url.password || url.hash) throw refuse('redirect_uri must not carry credentials or a fragment');
    const portal = new URL(this.config.portalUrl);
    const portalPath = portal.pathname.replace(/\/+$/, '');
    const underPortal =
      url.origin === portal.origin &&
      (portalPath === '' || url.pathname === portalPath || url.pathname.startsWith(`${portalPath}/`));
    if (!underPortal && !this.config.ssoRedirectOrigins.includes(url.origin)) {
      throw refuse('redirect_uri must be under PORTAL_URL or an origin of SSO_REDIRECT_ORIGINS');
    }
    return url.href;
  }

  async login(id: string, redirectUri: string | undefined, browserCookie: string | undefined): Promise<Redirect> {
    const client = await this.providers.client(id);
    const target = this.checkRedirect(redirectUri);
    const browser = browserCookie && BINDING.test(browserCookie) ? browserCookie : newSecret();
    const p = client.provider;
    if (p.type === 'oidc') {
      let url: URL;
      try {
        const nonce = randomNonce();
        const codeVerifier = randomPKCECodeVerifier();
        const state = await this.flows.start(p.id, browser, target, { nonce, codeVerifier });
        url = await this.oidc.authorizationUrl(client, { state, nonce, codeVerifier });
      } catch (e) {
        this.logger.warn(`provider ${p.id} is unreachable: ${(e as Error).message}`);
        throw new DomainError('SERVICE_UNAVAILABLE', 'The identity provider cannot be reached; try again later');
      }
      return { location: url.href, browser };
    }
    // The request id is known only once node-saml has made the request, and the RelayState goes in it:
    // the attempt is recorded with a state chosen first.
    const relayState = newSecret();
    const { url, requestId } = await this.saml.authorizeUrl(p, relayState);
    await this.flows.startWithState(p.id, relayState, browser, target, { samlRequestId: requestId });
    return { location: url, browser };
  }

  async callback(
    id: string,
    query: Record<string, string>,
    browser: string | undefined,
    client: ClientInfo,
  ): Promise<Redirect> {
    const oidc = await this.providers.client(id).catch(() => null);
    if (!oidc || oidc.provider.type !== 'oidc') throw new DomainError('NOT_FOUND', 'No such OpenID Connect provider');
    const flow = await this.flows.consume(id, query.state ?? '', browser);
    if (!flow) {
      await this.failed(id, 'invalid_state', 'unknown, used, expired or foreign state', client);
      throw UNKNOWN_ATTEMPT;
    }
    return this.finish(oidc.provider, flow, browser!, client, () =>
      this.oidc.callback(oidc, query, {
        state: query.state,
        nonce: flow.nonce ?? '',
        codeVerifier: flow.codeVerifier ?? '',
      }),
    );
  }

  async acs(
    id: string,
    body: { SAMLResponse?: unknown; RelayState?: unknown },
    browser: string | undefined,
    client: ClientInfo,
  ): Promise<Redirect> {
    const p = await this.providers.get(id).catch(() => null);
    if (!p || p.type !== 'saml') throw new DomainError('NOT_FOUND', 'No such SAML provider');
    const relayState = typeof body.RelayState === 'string' ? body.RelayState : '';
    const flow = await this.flows.consume(id, relayState, browser);
    if (!flow) {
      await this.failed(id, 'invalid_state', 'unknown, used, expired or foreign RelayState', client);
      throw UNKNOWN_ATTEMPT;
    }
    return this.finish(p, flow, browser!, client, () => {
      if (typeof body.SAMLResponse !== 'string' || !body.SAMLResponse) {
        throw new SsoFailure('invalid_saml_response', 'no SAMLResponse');
      }
      return this.saml.acs(p, body.SAMLResponse, flow.samlRequestId ?? '');
    });
  }

  metadata(p: SsoProvider): string {
    return this.saml.metadata(p);
  }

  /** The token exchange's second half: the code's user signs in, or gets MFA_REQUIRED (API.md 6). */
  async signIn(
    principal: { userId: string; providerId: string },
    options: { remember: boolean; setCookie: boolean },
    client: ClientInfo,
  ): Promise<LoginBody> {
    const user = await this.users.findById(principal.userId);
    if (!user) throw new DomainError('INVALID_TOKEN', 'This code is invalid, expired or already used');
    if (!user.isActive) throw new DomainError('ACCOUNT_DISABLED', 'This account is disabled');
    return this.signIns.signIn(user, {
      method: 'sso',
      surface: 'portal',
      remember: options.remember,
      setCookie: options.setCookie,
      ...client,
      audit: { remember: options.remember, provider: principal.providerId },
    });
  }

  private async finish(
    p: SsoProvider,
    flow: Flow,
    browser: string,
    client: ClientInfo,
    prove: () => Promise<SsoIdentity>,
  ): Promise<Redirect> {
    try {
      const identity = await prove();
      const user = await this.accounts.resolve(p, identity, client.ip ?? null);
      const code = await this.flows.issueCode(user.id, p.id, browser);
      await this.audit.record('sso_login', { userId: user.id, ip: client.ip, details: { provider: p.id } });
      return { location: withParam(flow.redirectUri, 'code', code) };
    } catch (e) {
      const failure =
        e instanceof SsoFailure ? e : new SsoFailure('server_error', e instanceof Error ? e.message : String(e));
      if (!(e instanceof SsoFailure)) this.logger.error(`sign-in with ${p.id} failed: ${failure.reason}`);
      await this.failed(p.id, failure.code, failure.reason, client);
      return { location: withParam(flow.redirectUri, 'error', failure.code) };
    }
  }

  private failed(providerId: string, code: string, reason: string, client: ClientInfo): Promise<void> {
    this.metrics.signIn('sso', 'failure');
    return this.audit.record('sso_failed', {
      ip: client.ip,
      details: { provider: providerId, error: code, reason: reason.slice(0, 300) },
    });
  }
}

function withParam(uri: string, name: string, value: string): string {
  const url = new URL(uri);
  url.searchParams.set(name, value);
  return url.href;
}
