import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The part of oidc-provider 9's API that this service uses (the package ships no type declarations).
 * Kept narrow on purpose: everything else of the library stays behind its configuration.
 */
export interface OidcContext {
  oidc: {
    client?: OidcClient;
    session?: { accountId?: string };
    params?: Record<string, unknown>;
    entities: Record<string, { accountId?: string; clientId?: string; jti?: string; grantId?: string } | undefined>;
    route?: string;
    result?: Record<string, unknown>;
    provider: OidcProvider;
    account?: { accountId: string };
  };
  cookies: {
    get(name: string, opts?: { signed?: boolean }): string | undefined;
    set(name: string, value: string | null, opts?: object): void;
  };
  ip?: string;
  body?: unknown;
  type?: string;
  host: string;
  get(header: string): string;
}

export interface OidcClient {
  clientId: string;
  clientName?: string;
  clientSecret?: string;
  grantTypeAllowed(type: string): boolean;
  [key: string]: unknown;
}

export interface OidcInteraction {
  uid: string;
  iat: number;
  exp: number;
  prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
  params: Record<string, string | undefined>;
  session?: { accountId?: string; uid?: string };
  grantId?: string;
  lastSubmission?: Record<string, unknown>;
  returnTo: string;
}

export interface OidcGrant {
  jti: string;
  accountId?: string;
  clientId?: string;
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(resource: string, scope: string): void;
  getOIDCScope(): string;
  getResourceScope(resource: string): string;
  save(ttl?: number): Promise<string>;
  destroy(): Promise<void>;
}

export interface GrantCtor {
  new (props: { accountId: string; clientId: string }): OidcGrant;
  find(id: string): Promise<OidcGrant | undefined>;
}

export interface OidcProvider {
  issuer: string;
  proxy: boolean;
  Grant: GrantCtor;
  Client: { prototype: { compareClientSecret(actual: string): Promise<boolean> | boolean; clientSecret?: string } };
  AccessToken: { find(value: string): Promise<{ accountId?: string; clientId?: string; scope?: string } | undefined> };
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<OidcInteraction>;
  interactionResult(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options?: { mergeWithLastSubmission?: boolean },
  ): Promise<string>;
  on(event: string, listener: (...args: never[]) => void): void;
}

export interface PolicyCheck {
  reason: string;
}

export interface OidcProviderModule {
  default: new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
  errors: Record<string, new (description?: string, detail?: string) => Error>;
  interactionPolicy: {
    base(): { get(name: string): { checks: { add(check: PolicyCheck): void } } | undefined } & Iterable<unknown>;
    Check: (new (
      reason: string,
      description: string,
      check: (ctx: OidcContext) => boolean | Promise<boolean>,
    ) => PolicyCheck) & { REQUEST_PROMPT: boolean; NO_NEED_TO_PROMPT: boolean };
  };
}
