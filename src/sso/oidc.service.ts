import { Inject, Injectable } from '@nestjs/common';
import * as oidc from 'openid-client';
import type { Configuration, IDToken, ServerMetadata } from 'openid-client';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { SsoFailure } from './failure';
import type { SsoProvider } from './entities';

/** What a provider vouched for, once its ID token or assertion has passed every check. */
export interface SsoIdentity {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  firstName: string | null;
  lastName: string | null;
}

export interface OidcClient {
  provider: SsoProvider;
  clientSecret: string | null;
}

const TENANT_TEMPLATE = '{tenantid}';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HTTP_TIMEOUT_SEC = 10;

/**
 * OpenID Connect with openid-client: discovery, the authorization request (PKCE S256, state, nonce) and the
 * code exchange, whose ID token openid-client checks (signature by the provider's JWKS, iss, aud, exp,
 * nonce). The policy on top is ours: Entra's tenant, Google's hosted domain.
 *
 * One Configuration per provider (and Entra tenant) is kept for the life of the process: openid-client
 * caches the JWKS on it and refetches on an unknown `kid` only when its copy is a minute old or more
 * (oauth4webapi), which is the "at most once a minute" that a key rotation at the provider needs.
 */
@Injectable()
export class OidcService {
  private readonly configs = new Map<string, Promise<Configuration>>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Plain http is for providers on loopback outside production (API.md 7); registration checks the rest. */
  allowsHttp(url: URL): boolean {
    return this.config.env !== 'production' && /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i.test(url.hostname);
  }

  /**
   * Reads the provider's discovery document, as registration does. Throws an Error whose message says why
   * the issuer is unusable.
   */
  async discover(client: OidcClient): Promise<ServerMetadata> {
    return (await this.discoverConfiguration(client)).serverMetadata();
  }

  forget(providerId: string): void {
    for (const key of this.configs.keys()) if (key.startsWith(`${providerId}\n`)) this.configs.delete(key);
  }

  async authorizationUrl(
    client: OidcClient,
    params: { state: string; nonce: string; codeVerifier: string },
  ): Promise<URL> {
    const config = await this.configuration(client);
    const p = client.provider;
    const scopes = new Set(['openid', 'email', 'profile', ...(p.scopes ?? [])]);
    const query: Record<string, string> = {
      redirect_uri: this.callbackUrl(p.id),
      scope: [...scopes].join(' '),
      state: params.state,
      nonce: params.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(params.codeVerifier),
      code_challenge_method: 'S256',
    };
    // Only a hint to Google's account chooser: the `hd` claim of the ID token is what is checked.
    if (p.kind === 'google') query.hd = p.domains.length === 1 ? p.domains[0] : '*';
    return oidc.buildAuthorizationUrl(config, query);
  }

  callbackUrl(providerId: string): string {
    return `${this.config.appUrl}/api/sso/${encodeURIComponent(providerId)}/callback`;
  }

  /** The code exchange and every check of the ID token; throws SsoFailure with the code for the portal. */
  async callback(
    client: OidcClient,
    query: Record<string, string>,
    checks: { state: string; nonce: string; codeVerifier: string },
  ): Promise<SsoIdentity> {
    const p = client.provider;
    if (query.error) throw new SsoFailure('access_denied', `the provider answered ${query.error}`);
    const url = new URL(this.callbackUrl(p.id));
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const grantChecks = {
      pkceCodeVerifier: checks.codeVerifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      idTokenExpected: true,
    };
    let claims: IDToken | undefined;
    try {
      const base = await this.configuration(client);
      claims =
        p.kind === 'entra' && base.serverMetadata().issuer.includes(TENANT_TEMPLATE)
          ? await this.entraMultiTenantGrant(client, base, url, grantChecks)
          : (await oidc.authorizationCodeGrant(base, url, grantChecks)).claims();
    } catch (e) {
      if (e instanceof SsoFailure) throw e;
      throw new SsoFailure('invalid_id_token', (e as Error).message);
    }
    if (!claims) throw new SsoFailure('invalid_id_token', 'the provider returned no ID token');
    return this.policy(p, claims);
  }

  /**
   * Entra ID's multi-tenant endpoints (`/organizations`, `/common`) publish the issuer as a template,
   * `https://login.microsoftonline.com/{tenantid}/v2.0`, and each ID token names its tenant in `iss` and
   * `tid`. openid-client fills the template only for login.microsoftonline.com itself, so the same is done
   * here for any registered Entra provider: the token response is fetched once and kept, its (still
   * unverified) `tid` picks the issuer to expect, and openid-client then checks that very response against
   * the configuration of that tenant: signature, `iss` (which must hold that `tid`), `aud`, `exp`, nonce.
   */
  private async entraMultiTenantGrant(
    client: OidcClient,
    base: Configuration,
    url: URL,
    grantChecks: { pkceCodeVerifier: string; expectedState: string; expectedNonce: string; idTokenExpected: boolean },
  ): Promise<IDToken | undefined> {
    const metadata = base.serverMetadata();
    let recorded: { status: number; headers: [string, string][]; body: string } | undefined;
    const replaying = async (input: string, init: RequestInit): Promise<Response> => {
      if (input === metadata.token_endpoint) {
        if (!recorded) {
          const res = await fetch(input, init);
          recorded = { status: res.status, headers: [...res.headers.entries()], body: await res.text() };
        }
        return new Response(recorded.body, { status: recorded.status, headers: recorded.headers });
      }
      return fetch(input, init);
    };
    const first = this.withFetch(client, metadata, metadata.issuer, replaying);
    try {
      await oidc.authorizationCodeGrant(first, url, grantChecks);
      throw new SsoFailure('invalid_id_token', 'an ID token whose issuer is the unfilled tenant template');
    } catch (e) {
      if (e instanceof SsoFailure || !recorded) throw e;
    }
    const tid = unverifiedTenant(recorded.body);
    if (!tid) throw new SsoFailure('invalid_id_token', 'the ID token names no tenant (tid)');
    const tenantConfig = this.withFetch(client, metadata, metadata.issuer.replace(TENANT_TEMPLATE, tid), replaying);
    this.shareJwks(base, tenantConfig);
    const result = await oidc.authorizationCodeGrant(tenantConfig, url, grantChecks);
    this.shareJwks(tenantConfig, base);
    return result.claims();
  }

  /** The checks that are policy rather than protocol, on claims whose signature and audience are proven. */
  private policy(p: SsoProvider, claims: IDToken): SsoIdentity {
    const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : null;
    if (p.kind === 'entra') {
      const tid = typeof claims.tid === 'string' ? claims.tid.toLowerCase() : '';
      if (!GUID.test(tid) || !claims.iss.toLowerCase().includes(`/${tid}/`)) {
        throw new SsoFailure('invalid_id_token', 'the ID token tenant (tid) is not the tenant of its issuer');
      }
      if (!(p.allowedTenants ?? []).includes(tid)) {
        throw new SsoFailure('tenant_not_allowed', `tenant ${tid} is not allowed to sign in here`);
      }
    }
    if (p.kind === 'google') {
      const hd = typeof claims.hd === 'string' ? claims.hd.toLowerCase() : null;
      if (!hd || !p.domains.includes(hd)) {
        throw new SsoFailure(
          'domain_not_allowed',
          hd ? `hosted domain ${hd} is not served here` : 'no hosted domain (hd)',
        );
      }
    }
    // Entra marks an address whose domain the tenant has verified with xms_edov; it sends no email_verified.
    const emailVerified = claims.email_verified === true || (p.kind === 'entra' && claims.xms_edov === true);
    return {
      subject: claims.sub,
      email,
      emailVerified,
      firstName: typeof claims.given_name === 'string' ? claims.given_name.slice(0, 100) : null,
      lastName: typeof claims.family_name === 'string' ? claims.family_name.slice(0, 100) : null,
    };
  }

  private configuration(client: OidcClient): Promise<Configuration> {
    const key = `${client.provider.id}\n${client.provider.updatedAt.getTime()}`;
    let config = this.configs.get(key);
    if (!config) {
      this.forget(client.provider.id);
      config = this.discoverConfiguration(client);
      this.configs.set(key, config);
      config.catch(() => this.configs.delete(key));
    }
    return config;
  }

  private async discoverConfiguration(client: OidcClient): Promise<Configuration> {
    const p = client.provider;
    const issuer = new URL(p.issuer ?? '');
    const insecure = issuer.protocol === 'http:';
    const options = { execute: insecure ? [oidc.allowInsecureRequests] : [], timeout: HTTP_TIMEOUT_SEC };
    const auth = oidc.ClientSecretPost(client.clientSecret ?? undefined);
    if (p.kind !== 'entra')
      return verifyingSignatures(await oidc.discovery(issuer, p.clientId ?? '', undefined, auth, options));
    // Entra's multi-tenant document names an issuer that is not its URL ({tenantid}); the exact-match rule
    // of discovery is replaced by ours: the same origin, and the template where the tenant segment was.
    const wellKnown = new URL(`${issuer.href.replace(/\/+$/, '')}/.well-known/openid-configuration`);
    const config = await oidc.discovery(wellKnown, p.clientId ?? '', undefined, auth, options);
    const discovered = config.serverMetadata().issuer;
    if (discovered !== issuer.href.replace(/\/+$/, '') && discovered !== issuer.href) {
      const template = issuer.href.replace(/\/+$/, '').replace(/^(https?:\/\/[^/]+\/)[^/]+/, `$1${TENANT_TEMPLATE}`);
      if (discovered !== template) {
        throw new Error(`the discovery document names issuer ${discovered}, neither ${issuer.href} nor ${template}`);
      }
    }
    return verifyingSignatures(config);
  }

  private withFetch(
    client: OidcClient,
    metadata: ServerMetadata,
    issuer: string,
    fetcher: (input: string, init: RequestInit) => Promise<Response>,
  ): Configuration {
    const config = new oidc.Configuration(
      { ...metadata, issuer },
      client.provider.clientId ?? '',
      undefined,
      oidc.ClientSecretPost(client.clientSecret ?? undefined),
    );
    if (new URL(issuer.replace(TENANT_TEMPLATE, 'x')).protocol === 'http:') oidc.allowInsecureRequests(config);
    config.timeout = HTTP_TIMEOUT_SEC;
    (config as unknown as Record<symbol, unknown>)[oidc.customFetch] = fetcher;
    return verifyingSignatures(config);
  }

  /** The per-tenant configurations of one Entra provider share its JWKS copy (one download a minute, not one a login). */
  private shareJwks(from: Configuration, to: Configuration): void {
    const cache = oidc.getJwksCache(from);
    if (cache) oidc.setJwksCache(to, cache);
  }
}

/**
 * openid-client, like OIDC Core 3.1.3.7 allows, trusts an ID token from the token endpoint on the strength of
 * TLS alone and skips its signature. API.md 7 asks for the signature by the provider's JWKS (a compromised or
 * spoofed endpoint, a plain-http loopback provider in development), so it is turned on for every configuration.
 */
function verifyingSignatures(config: Configuration): Configuration {
  oidc.enableNonRepudiationChecks(config);
  return config;
}

/** The `tid` of an ID token not yet verified: only to choose which issuer to verify it against. */
function unverifiedTenant(tokenResponseBody: string): string | null {
  try {
    const idToken = (JSON.parse(tokenResponseBody) as { id_token?: unknown }).id_token;
    if (typeof idToken !== 'string') return null;
    const payload = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      tid?: unknown;
    };
    const tid = typeof payload.tid === 'string' ? payload.tid.toLowerCase() : '';
    return GUID.test(tid) ? tid : null;
  } catch {
    return null;
  }
}
