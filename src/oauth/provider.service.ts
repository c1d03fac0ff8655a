import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseForm, stringify as stringifyForm } from 'node:querystring';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { LoginSessionsService } from '../sessions/login-sessions.service';
import { sweepHourly } from '../common/sweeper';
import { DomainError } from '../common/errors/domain-error';
import { CounterStorage } from '../common/throttle/counter-storage';
import { deriveKey } from '../common/secrets';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { PAGE_CSP } from '../pages/pages';
import { secretMatches, OAuthClientsService } from './clients.service';
import { DEVICE_CODE_GRANT } from './dto';
import type { OidcClient, OidcContext, OidcGrant, OidcProvider, OidcProviderModule } from './oidc-types';
import { deviceConfirmPage, deviceDonePage, deviceInputPage, errorPage, loggedOutPage, logoutPage } from './pages';
import { OAuthRepository } from './oauth.repository';
import { pgAdapterFactory, sweepExpired } from './pg-adapter';
import { isLoopbackOrHttps, redirectUriProblem } from './redirect-uris';
import { ProviderKeysService } from '../keys/provider-keys.service';

/** Where the protocol endpoints live: /oauth/auth, /oauth/token, /oauth/me, /oauth/jwks, ... */
export const OAUTH_PREFIX = '/oauth';
/** Our API's own scopes (API.md 15): read-only, or everything a delegated credential may do. */
export const API_SCOPES = ['api:read', 'api:write'];
export const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email', 'roles'];
/** The interaction pages (sign-in and consent): served by InteractionController, outside the prefix. */
export const INTERACTION_PATH = '/interaction';
const ID_TOKEN_TTL_SEC = 3600;
/** The two endpoints that accept our JWT access tokens by their record (withJwtToken). */
const JWT_AWARE_ROUTES = new Set(['/token/introspection', '/token/revocation']);
const FORM_LIMIT = 56 * 1024;
/** The jti of the verified JWT access token that this request introspects or revokes. */
const jtiAsOpaque = new AsyncLocalStorage<string | undefined>();
const INTERACTION_TTL_SEC = 30 * 60;
const SESSION_TTL_SEC = 14 * 24 * 3600;
const DEVICE_CODE_TTL_SEC = 10 * 60;

/**
 * The headers of everything under /oauth: the page policy of the account page, but a form may be sent
 * on to the client (the logout confirmation redirects to a client's post-logout URI).
 */
const OAUTH_HEADERS: Record<string, string> = {
  'content-security-policy': PAGE_CSP.replace(
    "form-action 'self'",
    "form-action 'self' https: http://localhost:* http://127.0.0.1:*",
  ),
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** Why a self-registered (or metadata-document) client cannot be accepted, in RFC 7591's error words. */
export function dynamicClientProblem(
  metadata: Record<string, unknown>,
  production: boolean,
): { error: string; description: string } | undefined {
  const method = metadata.token_endpoint_auth_method;
  if (method !== undefined && method !== 'none') {
    return {
      error: 'invalid_client_metadata',
      description: 'only public clients (token_endpoint_auth_method none) may register',
    };
  }
  const uris = metadata.redirect_uris;
  if (!Array.isArray(uris) || !uris.length || uris.length > 20) {
    return { error: 'invalid_redirect_uri', description: 'one to twenty redirect_uris are needed' };
  }
  for (const uri of uris) {
    const problem = typeof uri === 'string' ? redirectUriProblem(uri, production) : 'must be a string';
    if (problem || !isLoopbackOrHttps(String(uri))) {
      return {
        error: 'invalid_redirect_uri',
        description: `${JSON.stringify(uri)} ${problem ?? 'must be https or loopback'}`,
      };
    }
  }
  const grants = metadata.grant_types ?? ['authorization_code'];
  if (!Array.isArray(grants) || grants.some((g) => g !== 'authorization_code' && g !== 'refresh_token')) {
    return {
      error: 'invalid_client_metadata',
      description: 'grant_types may only be authorization_code and refresh_token',
    };
  }
  const scope = metadata.scope;
  if (
    scope !== undefined &&
    (typeof scope !== 'string' || scope.split(' ').some((s) => s && ![...OIDC_SCOPES, ...API_SCOPES].includes(s)))
  ) {
    return {
      error: 'invalid_client_metadata',
      description: `scope may only hold ${[...OIDC_SCOPES, ...API_SCOPES].join(' ')}`,
    };
  }
  return undefined;
}

type TokenModel = { prototype: { getValueAndPayload(this: unknown): Promise<{ value: string; payload?: object }> } };

/**
 * oidc-provider keeps no record of a JWT access token (it is self-contained). Ours are kept like opaque
 * ones, under their `jti` and marked `format: jwt`, so that revoking one, its grant (a consent taken
 * back, a code used twice) or its client, or disabling its user, ends it for our API and at
 * introspection, not only when it expires. The record is never accepted as an opaque token itself.
 */
function keepJwtAccessTokensOnRecord(provider: OidcProvider): void {
  const models = provider as unknown as Record<'AccessToken' | 'ClientCredentials', TokenModel>;
  for (const Model of [models.AccessToken, models.ClientCredentials]) {
    const own = Model.prototype.getValueAndPayload;
    const opaque = (Object.getPrototypeOf(Model.prototype) as TokenModel['prototype']).getValueAndPayload;
    Model.prototype.getValueAndPayload = async function (this: unknown) {
      const result = await own.call(this);
      if (result.payload) return result;
      const { payload } = await opaque.call(this);
      return { value: result.value, payload: { ...payload, format: 'jwt' } };
    };
  }
}

/**
 * The OAuth 2.1 / OpenID Connect provider of API.md 15: oidc-provider 9 (OpenID Certified) configured
 * with our policy (PKCE S256 for every client, code flow only, no implicit or password grant, refresh
 * rotation for public clients, client credentials, device flow, introspection, revocation, RP-initiated
 * and back-channel logout, resource indicators with RFC 9068 JWT access tokens for our API), our storage
 * (PostgreSQL, shared by every instance), our keys (ES256 and RS256 from ProviderKeysService) and our
 * pages. Mounted in the Fastify instance under /oauth by an onRequest hook that hands the raw request
 * to the provider before any body is read.
 */
@Injectable()
export class OAuthProviderService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('OAuthProvider');
  private lib?: OidcProviderModule;
  private current?: OidcProvider;
  private handler?: (req: IncomingMessage, res: ServerResponse) => void;
  private sweeper?: NodeJS.Timeout;
  /** The resource indicator of this service's API (RFC 8707): the `aud` of the access tokens it accepts. */
  readonly apiResource: string;
  readonly issuer: string;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly db: DataSource,
    private readonly keys: ProviderKeysService,
    private readonly clients: OAuthClientsService,
    private readonly repo: OAuthRepository,
    private readonly audit: AuditService,
    private readonly sessions: LoginSessionsService,
    private readonly http: HttpAdapterHost,
    private readonly counters: CounterStorage,
  ) {
    this.issuer = config.oauth.issuer;
    this.apiResource = `${config.appUrl}/api`;
  }

  get provider(): OidcProvider {
    if (!this.current) throw new Error('the OAuth provider has not started');
    return this.current;
  }

  async onModuleInit(): Promise<void> {
    // An ES module, loaded by require(esm) on Node 24 (and by Jest's ESM support in the suites).
    this.lib = (await import('oidc-provider')) as unknown as OidcProviderModule;
    this.build();
    // A rotation that took effect: the provider is rebuilt with the keys that sign now. Its state is
    // all in PostgreSQL, so nothing in flight is lost.
    this.keys.onSigningKeysChanged(() => this.build());
    const fastify = this.http.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onRequest', (req, reply, done) => {
      const url = req.raw.url ?? '';
      if (!(url === OAUTH_PREFIX || url.startsWith(`${OAUTH_PREFIX}/`) || url.startsWith(`${OAUTH_PREFIX}?`))) {
        done();
        return;
      }
      reply.hijack();
      const raw = req.raw as IncomingMessage & { originalUrl?: string };
      raw.originalUrl = url;
      raw.url = url.slice(OAUTH_PREFIX.length) || '/';
      for (const [name, value] of Object.entries(OAUTH_HEADERS)) reply.raw.setHeader(name, value);
      const path = raw.url.split('?', 1)[0];
      if (req.method === 'POST') {
        // Every POST of the protocol checks a secret (client secret, code, refresh token, device or user
        // code): counted per address before the provider sees it (RATE_LIMIT_OAUTH), 429 beyond.
        void this.counted(req.ip, reply.raw).then((allowed) => allowed && this.dispatch(raw, reply.raw, path));
        return;
      }
      this.handler!(raw, reply.raw);
    });
    this.sweeper = sweepHourly(() => sweepExpired(this.db));
  }

  /** Counts a POST against its address; false (and the answer written) when it must not go on. */
  private async counted(ip: string, res: ServerResponse): Promise<boolean> {
    try {
      await this.counters.take(`oauth-ip:${ip}`, this.config.rateLimits.oauth, 'Too many requests');
      return true;
    } catch (e) {
      const limited = e instanceof DomainError && e.code === 'RATE_LIMIT_EXCEEDED';
      if (!limited) this.logger.error(`the OAuth request could not be counted: ${(e as Error).message}`);
      res.statusCode = limited ? 429 : 503;
      if (limited && e.retryAfterSec !== undefined) res.setHeader('Retry-After', String(e.retryAfterSec));
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
      res.end(
        JSON.stringify({
          error: 'temporarily_unavailable',
          error_description: limited
            ? 'Too many requests from this address; try again later'
            : 'The service cannot take this request just now; try again in a moment',
        }),
      );
      return false;
    }
  }

  /** A POST under /oauth, once counted: our JWT-aware and registration policies, or the provider itself. */
  private dispatch(raw: IncomingMessage, res: ServerResponse, path: string): void {
    if (JWT_AWARE_ROUTES.has(path)) {
      void this.withJwtToken(raw, res);
      return;
    }
    if (path === '/reg' && this.config.oauth.dynamicRegistration) {
      void this.withRegistrationPolicy(raw, res);
      return;
    }
    this.handler!(raw, res);
  }

  onApplicationShutdown(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  /**
   * Introspection and revocation of our JWT access tokens (RFC 7662, RFC 7009). oidc-provider refuses JWTs
   * at both endpoints; every one of ours is also on record under its `jti`, so a JWT whose signature
   * verifies with our keys is replaced by its `jti` in the form, and the adapter answers that one record
   * (for this request only) as the provider's own opaque token: the provider then authenticates the
   * client, applies its policies and answers, or destroys the record, exactly as for an opaque token.
   */
  private async withJwtToken(req: IncomingMessage & { body?: unknown }, res: ServerResponse): Promise<void> {
    let jti: string | undefined;
    try {
      const type = String(req.headers['content-type'] ?? '');
      if (type.startsWith('application/x-www-form-urlencoded')) {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of req) {
          size += (chunk as Buffer).length;
          if (size > FORM_LIMIT) throw new Error('too large');
          chunks.push(chunk as Buffer);
        }
        const form = parseForm(Buffer.concat(chunks).toString('utf8'));
        const token = form.token;
        if (typeof token === 'string' && token.split('.').length === 3) {
          jti = this.keys.verifiedClaims(token, this.issuer)?.jti;
          if (jti) form.token = jti;
        }
        req.body = Buffer.from(stringifyForm(form));
      }
    } catch {
      res.statusCode = 400;
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ error: 'invalid_request', error_description: 'the request body could not be read' }));
      return;
    }
    jtiAsOpaque.run(jti, () => this.handler!(req, res));
  }

  /**
   * Dynamic registration (RFC 7591, OAUTH_DYNAMIC_REGISTRATION=on) is for public clients only (MCP
   * clients, command-line tools), with https or loopback redirect URIs, the code grant (and refresh) and
   * scopes of our list: anything else is refused before the provider sees it. Consent is always asked of
   * such clients (loadExistingGrant never reuses a stored consent for them).
   */
  private async withRegistrationPolicy(req: IncomingMessage & { body?: unknown }, res: ServerResponse): Promise<void> {
    const refuse = (error: string, description: string) => {
      res.statusCode = 400;
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ error, error_description: description }));
    };
    let body: Record<string, unknown>;
    try {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > FORM_LIMIT) throw new Error('too large');
        chunks.push(chunk as Buffer);
      }
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
    } catch {
      refuse('invalid_client_metadata', 'the body must be a JSON object of client metadata');
      return;
    }
    const problem = dynamicClientProblem(body, this.config.env === 'production');
    if (problem) {
      refuse(problem.error, problem.description);
      return;
    }
    req.body = Buffer.from(JSON.stringify({ ...body, token_endpoint_auth_method: 'none' }));
    this.handler!(req, res);
  }

  /** Builds (or rebuilds, after a key rotation) the provider; requests already in flight finish on the old one. */
  private build(): void {
    const { default: Provider, errors, interactionPolicy } = this.lib!;
    const config = this.config;
    const db = this.db;
    const apiResource = this.apiResource;
    const clients = this.clients;
    const repo = this.repo;
    const Adapter = pgAdapterFactory(db, {
      find: (id) => clients.metadata(id),
      store: (id, metadata) => clients.storeDynamic(id, metadata),
      remove: (id) => clients.disable(id),
      jwtAsOpaque: () => jtiAsOpaque.getStore(),
      consumedError: () => new errors.InvalidGrant('grant request is invalid (already used)'),
    });
    const cookieKey = deriveKey(config.jwt.secret, 'oauth cookies').toString('base64url');
    // Assigned once built; the hooks below run only on requests, after that.
    // eslint-disable-next-line prefer-const
    let provider!: OidcProvider;

    const wantsApi = (ctx: OidcContext): boolean => {
      const scope = ctx.oidc.params?.scope;
      if (typeof scope === 'string' && scope.split(' ').some((s) => API_SCOPES.includes(s))) return true;
      return ctx.oidc.params?.grant_type === 'client_credentials';
    };

    const configuration: Record<string, unknown> = {
      adapter: Adapter,
      clients: [],
      jwks: { keys: this.keys.signingJwks() },
      cookies: {
        keys: [cookieKey],
        long: { signed: true, httpOnly: true, sameSite: 'lax' },
        short: { signed: true, httpOnly: true, sameSite: 'lax' },
      },
      // Our API's scopes are listed too, since a client's registered `scope` may only hold supported values.
      scopes: [...OIDC_SCOPES, ...API_SCOPES],
      claims: {
        // Every ID token says how and when the person signed in (API.md 15).
        openid: ['sub', 'acr', 'amr', 'auth_time', 'sid'],
        email: ['email', 'email_verified'],
        profile: ['name', 'given_name', 'family_name', 'updated_at'],
        roles: ['roles'],
      },
      acrValues: ['aal1', 'aal2'],
      responseTypes: ['code'],
      pkce: { required: () => true },
      clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
      clientDefaults: {
        grant_types: ['authorization_code'],
        response_types: ['code'],
        id_token_signed_response_alg: 'ES256',
        token_endpoint_auth_method: 'client_secret_basic',
        // ID tokens always say when and how strongly the person signed in (API.md 15: auth_time, acr).
        require_auth_time: true,
        default_acr_values: ['aal1'],
      },
      enabledJWA: {
        idTokenSigningAlgValues: ['ES256', 'RS256'],
        userinfoSigningAlgValues: ['ES256', 'RS256'],
        introspectionSigningAlgValues: ['ES256', 'RS256'],
        authorizationSigningAlgValues: ['ES256', 'RS256'],
        requestObjectSigningAlgValues: ['ES256', 'RS256'],
        clientAuthSigningAlgValues: ['ES256', 'RS256'],
      },
      allowOmittingSingleRegisteredRedirectUri: false,
      conformIdTokenClaims: true,
      ttl: {
        AccessToken: config.oauth.accessTokenTtlSec,
        ClientCredentials: config.oauth.accessTokenTtlSec,
        AuthorizationCode: config.oauth.codeTtlSec,
        IdToken: ID_TOKEN_TTL_SEC,
        RefreshToken: (ctx: OidcContext, token: { totalLifetime?: () => number }, client: OidcClient) => {
          // A rotated public client's token does not outlive the first of its family.
          const rotated = ctx?.oidc?.entities?.RotatedRefreshToken as { remainingTTL?: number } | undefined;
          if (rotated?.remainingTTL !== undefined && client.clientAuthMethod === 'none') return rotated.remainingTTL;
          return config.oauth.refreshTokenTtlSec;
        },
        Interaction: INTERACTION_TTL_SEC,
        Session: SESSION_TTL_SEC,
        Grant: Math.max(config.oauth.refreshTokenTtlSec, SESSION_TTL_SEC),
        DeviceCode: DEVICE_CODE_TTL_SEC,
      },
      interactions: {
        url: (_ctx: OidcContext, interaction: { uid: string }) => `${INTERACTION_PATH}/${interaction.uid}`,
        policy: this.policy(interactionPolicy),
      },
      findAccount: async (_ctx: OidcContext, sub: string) => {
        if (typeof sub !== 'string' || sub.length > 64) return undefined;
        const u = await repo.activeAccount(sub);
        if (!u) return undefined;
        return {
          accountId: u.id,
          claims: () => ({
            sub: u.id,
            email: u.email,
            email_verified: u.email_verified,
            name: [u.first_name, u.last_name].filter(Boolean).join(' ') || undefined,
            given_name: u.first_name ?? undefined,
            family_name: u.last_name ?? undefined,
            updated_at: Math.floor(new Date(u.updated_at).getTime() / 1000),
            roles: [u.role],
          }),
        };
      },
      loadExistingGrant: async (
        ctx: OidcContext & { oidc: { session: { grantIdFor(id: string): string | undefined; accountId?: string } } },
      ) => {
        const client = ctx.oidc.client!;
        const accountId = ctx.oidc.session.accountId;
        if (!accountId) return undefined;
        // Clients that registered themselves, or identified by a metadata document: consent every time.
        const dynamic = client['urn:identity:dynamic'] === true || client.clientId.startsWith('https://');
        const resultGrant = (ctx.oidc.result?.consent as { grantId?: string } | undefined)?.grantId;
        let grantId = resultGrant ?? ctx.oidc.session.grantIdFor(client.clientId);
        if (!grantId && !dynamic) {
          // Consent is remembered per user, client and scope (API.md 15), across sessions and browsers.
          grantId = await repo.consentGrantId(accountId, client.clientId);
        }
        let grant: OidcGrant | undefined = grantId ? await provider.Grant.find(grantId) : undefined;
        if (grant && (grant.accountId !== accountId || grant.clientId !== client.clientId)) grant = undefined;
        if (client['urn:identity:first_party'] === true) {
          // The organisation's own applications need no consent: what they ask for within their
          // registered scopes is granted.
          grant ??= new provider.Grant({ accountId, clientId: client.clientId });
          const allowed = String(client.scope ?? '').split(' ');
          const asked = String(ctx.oidc.params?.scope ?? '')
            .split(' ')
            .filter((s) => allowed.includes(s));
          const api = asked.filter((s) => API_SCOPES.includes(s));
          if (asked.length) grant.addOIDCScope(asked.join(' '));
          if (api.length) grant.addResourceScope(apiResource, api.join(' '));
          await grant.save();
        }
        return grant;
      },
      issueRefreshToken: async (_ctx: OidcContext, client: OidcClient, code: { scopes: Set<string> }) =>
        client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
      extraTokenClaims: async (_ctx: OidcContext, token: { kind?: string; accountId?: string }) => {
        if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
        return undefined;
      },
      renderError: async (ctx: OidcContext, out: { error?: string; error_description?: string }) => {
        ctx.type = 'html';
        ctx.body = errorPage(out);
      },
      features: {
        devInteractions: { enabled: false },
        userinfo: { enabled: true },
        clientCredentials: { enabled: true },
        introspection: {
          enabled: true,
          // Only a confidential client introspects, and only tokens issued to itself (or for the API,
          // when it is the API's own client).
          allowedPolicy: async (_ctx: OidcContext, client: OidcClient, token: { clientId?: string }) =>
            client.clientAuthMethod !== 'none' && token.clientId === client.clientId,
        },
        revocation: {
          enabled: true,
          allowedPolicy: async (_ctx: OidcContext, client: OidcClient, token: { clientId?: string }) =>
            token.clientId === client.clientId,
        },
        deviceFlow: {
          enabled: true,
          charset: 'base-20',
          mask: '****-****',
          userCodeInputSource: async (
            ctx: OidcContext,
            form: string,
            _out: unknown,
            err?: { userCode?: string; name?: string },
          ) => {
            ctx.type = 'html';
            ctx.body = deviceInputPage(
              form,
              Boolean(err && (err.userCode || err.name === 'NoCodeError')),
              Boolean(err),
            );
          },
          userCodeConfirmSource: async (
            ctx: OidcContext,
            form: string,
            client: OidcClient,
            _info: unknown,
            userCode: string,
          ) => {
            ctx.type = 'html';
            ctx.body = deviceConfirmPage(form, client.clientName ?? client.clientId, userCode);
          },
          successSource: async (ctx: OidcContext) => {
            ctx.type = 'html';
            ctx.body = deviceDonePage(ctx.oidc.client?.clientName);
          },
        },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: async (ctx: OidcContext, form: string) => {
            ctx.type = 'html';
            ctx.body = logoutPage(form, ctx.host);
          },
          postLogoutSuccessSource: async (ctx: OidcContext) => {
            ctx.type = 'html';
            ctx.body = loggedOutPage(ctx.oidc.client?.clientName);
          },
        },
        backchannelLogout: { enabled: true },
        registration: {
          enabled: config.oauth.dynamicRegistration,
          initialAccessToken: false,
          policies: undefined,
        },
        // MCP clients may be known by an https URL that serves their metadata (draft-02).
        clientIdMetadataDocument: {
          enabled: true,
          ack: 'draft-02',
          allowClient: async (_ctx: OidcContext, client: OidcClient) =>
            client.clientAuthMethod === 'none' &&
            !dynamicClientProblem(
              { redirect_uris: client.redirectUris, grant_types: client.grantTypes, scope: client.scope },
              config.env === 'production',
            ),
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: async (ctx: OidcContext, _client: OidcClient, oneOf?: string[]) => {
            if (oneOf) return oneOf;
            return wantsApi(ctx) ? apiResource : undefined;
          },
          useGrantedResource: async () => true,
          getResourceServerInfo: async (_ctx: OidcContext, resource: string, client: OidcClient) => {
            if (resource !== apiResource) throw new errors.InvalidTarget('this resource is not known here');
            const allowed = String(client.scope ?? '')
              .split(' ')
              .filter((s) => API_SCOPES.includes(s));
            return {
              scope: allowed.join(' '),
              audience: apiResource,
              accessTokenTTL: config.oauth.accessTokenTtlSec,
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: 'ES256' } },
            };
          },
        },
      },
      extraClientMetadata: {
        properties: ['urn:identity:first_party', 'urn:identity:dynamic'],
      },
    };
    provider = new Provider(this.issuer, configuration);
    provider.proxy = Boolean(config.trustProxy);
    // Client secrets are kept as SHA-256 (API.md 0): compare the presented secret's hash, in constant time.
    provider.Client.prototype.compareClientSecret = function (this: { clientSecret?: string }, actual: string) {
      return secretMatches(actual, this.clientSecret);
    };
    keepJwtAccessTokensOnRecord(provider);
    // Every ID token names its session (`sid`, API.md 15), not only those of back-channel logout clients.
    (provider.Client.prototype as unknown as { includeSid(): boolean }).includeSid = () => true;
    this.listen(provider);
    this.current = provider;
    this.handler = provider.callback();
  }

  /**
   * oidc-provider's prompts, with one more reason to sign in: the provider's session (its own cookie,
   * 14 days) lasts only as long as the service's login session of the same browser. A person who signed
   * out of the account page, or whose sessions an admin or logout-all ended, is asked to sign in again
   * rather than let through on the provider's cookie alone.
   */
  private policy(lib: OidcProviderModule['interactionPolicy']): unknown {
    const policy = lib.base();
    const { Check } = lib;
    policy.get('login')!.checks.add(
      new Check('login_session_ended', "the service's sign-in of this browser has ended", async (ctx) => {
        const accountId = ctx.oidc.session?.accountId;
        if (!accountId || ctx.oidc.result?.login) return Check.NO_NEED_TO_PROMPT;
        const token = ctx.cookies.get('auth_token', { signed: false });
        let sid: unknown;
        let sub: unknown;
        try {
          ({ sid, sub } = JSON.parse(Buffer.from(String(token).split('.')[1] ?? '', 'base64url').toString('utf8')) as {
            sid?: unknown;
            sub?: unknown;
          });
        } catch {
          return Check.REQUEST_PROMPT;
        }
        if (typeof sid !== 'string' || sub !== accountId || !/^[0-9a-f-]{36}$/i.test(sid)) return Check.REQUEST_PROMPT;
        return (await this.repo.liveLoginSession(sid, accountId)) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
      }),
    );
    return policy;
  }

  /** The audit trail of what the provider does (API.md 15). */
  private listen(provider: OidcProvider): void {
    provider.on('grant.success', (ctx: OidcContext) => {
      const token = (ctx.oidc.entities.AccessToken ?? ctx.oidc.entities.ClientCredentials) as
        { accountId?: string; clientId?: string } | undefined;
      void this.audit.record('oauth_token_issued', {
        userId: token?.accountId ?? null,
        ip: ctx.ip ?? null,
        details: { client_id: ctx.oidc.client?.clientId, grant_type: ctx.oidc.params?.grant_type },
      });
    });
    for (const kind of ['access_token', 'refresh_token', 'client_credentials']) {
      provider.on(`${kind}.destroyed`, (token: { accountId?: string; clientId?: string }) => {
        void this.audit.record('oauth_token_revoked', {
          userId: token.accountId ?? null,
          details: { client_id: token.clientId, kind },
        });
      });
    }
    provider.on('end_session.success', (ctx: OidcContext) => void this.endLoginSession(ctx));
    provider.on('server_error', (_ctx: OidcContext, err: Error) => this.logger.error(`provider error: ${err.message}`));
    provider.on('backchannel.error', (_ctx: OidcContext, err: Error, client: OidcClient) =>
      this.logger.warn(`back-channel logout to ${client.clientId} failed: ${err.message}`),
    );
  }

  /**
   * RP-initiated logout ends the service's own login session too (API.md 15): the browser's `auth_token`
   * names it; it is ended only when it belongs to the account that the provider's session was for.
   */
  private async endLoginSession(ctx: OidcContext): Promise<void> {
    const accountId = ctx.oidc.session?.accountId;
    const token = ctx.cookies.get('auth_token', { signed: false });
    if (!accountId || !token) return;
    try {
      const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
        sub?: string;
        sid?: string;
      };
      if (payload.sub !== accountId || typeof payload.sid !== 'string') return;
      await this.sessions.revoke({ sessionId: payload.sid, userId: accountId }, 'oauth_logout');
      await this.audit.record('logout', {
        userId: accountId,
        ip: ctx.ip ?? null,
        details: { session_id: payload.sid, via: 'oauth' },
      });
    } catch (e) {
      this.logger.warn(`ending the login session at logout failed: ${(e as Error).message}`);
    }
  }

  /** The provider's discovery document, as the provider itself writes it, with our JWKS and API scopes. */
  async discovery(): Promise<Record<string, unknown>> {
    this.discoveryDoc ??= this.readDiscovery().catch((e: Error) => {
      this.discoveryDoc = undefined;
      throw e;
    });
    return this.discoveryDoc;
  }

  private discoveryDoc?: Promise<Record<string, unknown>>;

  private async readDiscovery(): Promise<Record<string, unknown>> {
    const fastify = this.http.httpAdapter.getInstance<FastifyInstance>();
    const app = new URL(this.config.appUrl);
    const res = await fastify.inject({
      method: 'GET',
      url: `${OAUTH_PREFIX}/.well-known/openid-configuration`,
      headers: { host: app.host },
    });
    if (res.statusCode !== 200) throw new Error(`the provider's discovery answered ${res.statusCode}`);
    // The endpoints under APP_URL whatever the scheme this in-process request had.
    const local = `http://${app.host}`;
    const doc = JSON.parse(res.body, (_k, v: unknown) =>
      typeof v === 'string' && v.startsWith(`${local}/`) ? `${app.origin}${v.slice(local.length)}` : v,
    ) as Record<string, unknown>;
    return {
      ...doc,
      // One JWKS for every token this service signs: section 10's access tokens and the provider's.
      jwks_uri: `${this.config.appUrl}/.well-known/jwks.json`,
      scopes_supported: [...OIDC_SCOPES, ...API_SCOPES],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT],
    };
  }
}
