import { Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { DomainError } from '../common/errors/domain-error';
import { hashSecret, newSecret } from '../common/secrets';
import { APP_CONFIG, type AppConfig } from '../config/config';
import {
  CreateOAuthClientDto,
  DEVICE_CODE_GRANT,
  OAuthClientCreatedView,
  OAuthClientView,
  UpdateOAuthClientDto,
} from './dto';
import type { AdapterPayload } from './pg-adapter';
import { type ClientRow, OAuthRepository } from './oauth.repository';
import { redirectUriProblem } from './redirect-uris';

/** Constant-time comparison of a presented client secret with the stored SHA-256 (hex) of the real one. */
export function secretMatches(presented: unknown, storedHash: string | undefined | null): boolean {
  if (typeof presented !== 'string' || !storedHash || presented.length > 512) return false;
  const a = Buffer.from(hashSecret(presented), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

const view = (r: ClientRow): OAuthClientView => ({
  client_id: r.client_id,
  name: r.name,
  type: r.type,
  redirect_uris: r.redirect_uris,
  post_logout_redirect_uris: r.post_logout_redirect_uris,
  grant_types: r.grant_types,
  scopes: r.scopes,
  first_party: r.first_party,
  dynamic: r.dynamic,
  backchannel_logout_uri: r.backchannel_logout_uri,
  enabled: r.disabled_at === null,
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
});

/**
 * The OAuth clients that admins register (API.md 15): exact redirect URIs, secrets (256 random bits)
 * shown once and kept as SHA-256, disable and rotation. The provider reads them through `metadata()`,
 * which answers nothing for a disabled client: its codes and tokens stop working at once.
 */
@Injectable()
export class OAuthClientsService {
  constructor(
    private readonly repo: OAuthRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async list(): Promise<OAuthClientView[]> {
    return (await this.repo.listClients()).map(view);
  }

  async get(clientId: string): Promise<OAuthClientView> {
    return view(await this.row(clientId));
  }

  async row(clientId: string): Promise<ClientRow> {
    const row =
      typeof clientId === 'string' && clientId.length <= 64 ? await this.repo.findClient(clientId) : undefined;
    if (!row) throw new DomainError('NOT_FOUND', 'No such OAuth client');
    return row;
  }

  async create(
    body: CreateOAuthClientDto,
    createdBy: string | null,
    opts: { dynamic?: boolean } = {},
  ): Promise<OAuthClientCreatedView> {
    const input = this.validated(body);
    const clientId = newSecret(16);
    const secret = input.type === 'confidential' ? newSecret() : undefined;
    const row = await this.repo.insertClient(clientId, input.type, secret ? hashSecret(secret) : null, input, {
      dynamic: opts.dynamic === true,
      createdBy,
    });
    return secret ? { ...view(row), client_secret: secret } : view(row);
  }

  async update(clientId: string, body: UpdateOAuthClientDto): Promise<OAuthClientView> {
    const current = await this.row(clientId);
    const merged = this.validated({
      name: body.name ?? current.name,
      redirect_uris: body.redirect_uris ?? current.redirect_uris,
      post_logout_redirect_uris: body.post_logout_redirect_uris ?? current.post_logout_redirect_uris,
      type: current.type,
      grant_types: body.grant_types ?? current.grant_types,
      scopes: body.scopes ?? current.scopes,
      first_party: body.first_party ?? current.first_party,
      backchannel_logout_uri: body.backchannel_logout_uri ?? current.backchannel_logout_uri ?? undefined,
    });
    if (body.type !== undefined && body.type !== current.type) {
      throw new DomainError('VALIDATION_ERROR', 'type cannot change: register a new client instead');
    }
    return view(await this.repo.updateClient(clientId, merged, body.enabled ?? null));
  }

  /** Disables the client and removes everything it was issued; the row stays for the audit trail. */
  async disable(clientId: string): Promise<void> {
    await this.row(clientId);
    await this.repo.disableClient(clientId);
  }

  async rotateSecret(clientId: string): Promise<{ client_id: string; client_secret: string }> {
    const row = await this.row(clientId);
    if (row.type !== 'confidential') throw new DomainError('CONFLICT', 'A public client has no secret');
    const secret = newSecret();
    await this.repo.setSecretHash(clientId, hashSecret(secret));
    return { client_id: clientId, client_secret: secret };
  }

  /**
   * A client that registered itself (RFC 7591, OAUTH_DYNAMIC_REGISTRATION=on), already checked by the
   * registration policy: public, https or loopback redirect URIs, never first party.
   */
  async storeDynamic(clientId: string, metadata: AdapterPayload): Promise<void> {
    const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    const scopes = typeof metadata.scope === 'string' ? metadata.scope.split(' ').filter(Boolean) : ['openid'];
    const name =
      typeof metadata.client_name === 'string' && metadata.client_name.trim()
        ? metadata.client_name.trim()
        : 'Unnamed application';
    await this.repo.upsertDynamicClient(clientId.slice(0, 64), {
      name: name.slice(0, 200),
      redirect_uris: list(metadata.redirect_uris),
      post_logout_redirect_uris: list(metadata.post_logout_redirect_uris),
      grant_types: list(metadata.grant_types).length ? list(metadata.grant_types) : ['authorization_code'],
      scopes,
    });
  }

  /**
   * The client as oidc-provider's metadata (RFC 7591 names), or undefined when unknown or disabled.
   * `client_secret` holds the SHA-256 of the secret: the provider's comparison is replaced by
   * `secretMatches`, and no HMAC algorithm is enabled that would use it as a key.
   */
  async metadata(clientId: string): Promise<AdapterPayload | undefined> {
    if (clientId.length > 64) return undefined;
    const r = await this.repo.findClient(clientId, true);
    if (!r) return undefined;
    const code = r.grant_types.includes('authorization_code');
    return {
      client_id: r.client_id,
      client_name: r.name,
      ...(r.type === 'confidential'
        ? { client_secret: r.secret_hash ?? undefined, token_endpoint_auth_method: 'client_secret_basic' }
        : { token_endpoint_auth_method: 'none' }),
      // `web`: oidc-provider matches a native client's loopback redirect with any port (RFC 8252 7.3);
      // API.md 15 asks for byte-for-byte matching, which `web` gives.
      application_type: 'web',
      redirect_uris: code ? r.redirect_uris : [],
      post_logout_redirect_uris: r.post_logout_redirect_uris,
      grant_types: r.grant_types,
      response_types: code ? ['code'] : [],
      scope: r.scopes.join(' '),
      ...(r.backchannel_logout_uri
        ? { backchannel_logout_uri: r.backchannel_logout_uri, backchannel_logout_session_required: true }
        : {}),
      'urn:identity:first_party': r.first_party,
      'urn:identity:dynamic': r.dynamic,
    };
  }

  private validated(body: CreateOAuthClientDto): Required<Omit<CreateOAuthClientDto, 'backchannel_logout_uri'>> & {
    backchannel_logout_uri: string | null;
  } {
    const production = this.config.env === 'production';
    const problems: string[] = [];
    const grants = [...new Set(body.grant_types)];
    const scopes = [...new Set(body.scopes)];
    if (body.type === 'public' && grants.includes('client_credentials')) {
      problems.push('grant_types: client_credentials needs a confidential client');
    }
    if (
      grants.includes('refresh_token') &&
      !grants.includes('authorization_code') &&
      !grants.includes(DEVICE_CODE_GRANT)
    ) {
      problems.push('grant_types: refresh_token comes with authorization_code or the device code grant');
    }
    if (grants.includes('authorization_code') && !body.redirect_uris.length) {
      problems.push('redirect_uris: authorization_code needs at least one redirect URI');
    }
    for (const [field, list] of [
      ['redirect_uris', body.redirect_uris],
      ['post_logout_redirect_uris', body.post_logout_redirect_uris ?? []],
    ] as const) {
      for (const uri of list) {
        const problem = redirectUriProblem(uri, production);
        if (problem) problems.push(`${field}: ${JSON.stringify(uri)} ${problem}`);
      }
    }
    if (body.backchannel_logout_uri) {
      const problem = redirectUriProblem(body.backchannel_logout_uri, production);
      if (problem) problems.push(`backchannel_logout_uri: ${problem}`);
    }
    if (problems.length) throw new DomainError('VALIDATION_ERROR', problems.join('; '));
    return {
      name: body.name.trim(),
      type: body.type,
      redirect_uris: [...new Set(body.redirect_uris)],
      post_logout_redirect_uris: [...new Set(body.post_logout_redirect_uris ?? [])],
      grant_types: grants,
      scopes,
      first_party: body.first_party === true,
      backchannel_logout_uri: body.backchannel_logout_uri ?? null,
    };
  }
}
