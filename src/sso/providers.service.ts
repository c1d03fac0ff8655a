import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { X509Certificate } from 'node:crypto';
import { QueryFailedError, Repository } from 'typeorm';
import { DomainError, FieldError } from '../common/errors/domain-error';
import { SecretBox } from '../common/secret-box';
import { APP_CONFIG, type AppConfig } from '../config/config';
import type { CreateSsoProviderDto, UpdateSsoProviderDto } from './dto';
import { SsoProvider } from './entities';
import { OidcClient, OidcService } from './oidc.service';

export interface SsoProviderView {
  id: string;
  type: 'oidc' | 'saml';
  name: string;
  domains: string[];
  default_role: string;
  kind?: string | null;
  issuer?: string | null;
  client_id?: string | null;
  scopes?: string[];
  allowed_tenants?: string[];
  entry_point?: string | null;
  idp_issuer?: string | null;
  idp_certificate?: string | null;
  /** SAML: what to paste into the IdP's console. */
  sp_entity_id?: string;
  acs_url?: string;
  metadata_url?: string;
  /** OIDC: the redirect URI to register at the provider. */
  redirect_uri?: string;
  created_at: string;
  updated_at: string;
}

const invalid = (fields: FieldError[]) =>
  new DomainError('VALIDATION_ERROR', fields.map((f) => f.message).join('; '), fields);

/** The registry of identity providers (API.md 7). Client secrets are sealed, and never leave in a view. */
@Injectable()
export class SsoProvidersService {
  private readonly box: SecretBox;

  constructor(
    @InjectRepository(SsoProvider) private readonly providers: Repository<SsoProvider>,
    private readonly oidc: OidcService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.box = new SecretBox(config.jwt.secret, 'sso client secret');
  }

  async list(): Promise<SsoProviderView[]> {
    return (await this.providers.find({ order: { id: 'ASC' } })).map((p) => this.view(p));
  }

  async get(id: string): Promise<SsoProvider> {
    const p = await this.providers.findOne({ where: { id } });
    if (!p) throw new DomainError('NOT_FOUND', 'No such identity provider');
    return p;
  }

  async getView(id: string): Promise<SsoProviderView> {
    return this.view(await this.get(id));
  }

  /** The provider and its client secret, for a sign-in. */
  async client(id: string): Promise<OidcClient> {
    const p = await this.providers
      .createQueryBuilder('p')
      .addSelect('p.clientSecretEnc')
      .where('p.id = :id', { id })
      .getOne();
    if (!p) throw new DomainError('NOT_FOUND', 'No such identity provider');
    const secret = p.clientSecretEnc ? this.box.open(p.clientSecretEnc, p.id).toString('utf8') : null;
    return { provider: p, clientSecret: secret };
  }

  /** The provider that serves an address's domain, if any. */
  async forEmail(email: string): Promise<SsoProvider | null> {
    const domain = email.trim().toLowerCase().split('@').pop() ?? '';
    if (!domain) return null;
    return this.providers
      .createQueryBuilder('p')
      .where(':domain = ANY(p.domains)', { domain })
      .orderBy('p.id')
      .getOne();
  }

  async create(input: CreateSsoProviderDto): Promise<SsoProviderView> {
    const p = this.providers.create({ id: input.id, type: input.type });
    const secret = await this.apply(p, input, true);
    try {
      await this.providers.insert({ ...p, clientSecretEnc: secret === undefined ? null : secret });
    } catch (e) {
      if (e instanceof QueryFailedError && (e.driverError as { code?: string }).code === '23505') {
        throw new DomainError('CONFLICT', `An identity provider with id ${input.id} already exists`);
      }
      throw e;
    }
    return this.getView(p.id);
  }

  async update(id: string, input: UpdateSsoProviderDto): Promise<SsoProviderView> {
    const p = await this.get(id);
    if (input.id !== undefined && input.id !== id) {
      throw invalid([{ name: 'id', message: 'id cannot change (sign-ins are linked to it)' }]);
    }
    if (input.type !== undefined && input.type !== p.type) {
      throw invalid([{ name: 'type', message: 'type cannot change: register a new provider' }]);
    }
    const secret = await this.apply(p, input, false);
    const { createdAt: _c, updatedAt: _u, ...columns } = p;
    void _c;
    void _u;
    await this.providers.update({ id }, { ...columns, ...(secret === undefined ? {} : { clientSecretEnc: secret }) });
    this.oidc.forget(id);
    return this.getView(id);
  }

  async remove(id: string): Promise<void> {
    const { affected } = await this.providers.delete({ id });
    if (!affected) throw new DomainError('NOT_FOUND', 'No such identity provider');
    this.oidc.forget(id);
  }

  /**
   * Applies a create or update body to the entity and checks the whole: the type's required fields, the
   * transport rule (https, or http on loopback outside production), the certificate, and for OIDC that
   * the issuer's discovery document can be read. Returns the sealed secret when one was given.
   */
  private async apply(p: SsoProvider, input: UpdateSsoProviderDto, creating: boolean): Promise<Buffer | undefined> {
    if (input.name !== undefined) p.name = input.name.trim();
    if (input.domains !== undefined) p.domains = [...new Set(input.domains)];
    if (input.default_role !== undefined) p.defaultRole = input.default_role;
    const fields: FieldError[] = [];
    const need = (name: string, value: unknown) => {
      if (value === undefined || value === null || value === '') fields.push({ name, message: `${name} is required` });
    };
    if (creating) {
      need('name', p.name);
      need('domains', p.domains);
      need('default_role', p.defaultRole);
    }
    if (p.type === 'oidc') {
      for (const f of ['entry_point', 'idp_issuer', 'idp_certificate'] as const) {
        if (input[f] !== undefined) fields.push({ name: f, message: `${f} is for SAML providers` });
      }
      if (input.issuer !== undefined) p.issuer = input.issuer.trim().replace(/\/+$/, '');
      if (input.client_id !== undefined) p.clientId = input.client_id;
      if (input.scopes !== undefined) p.scopes = input.scopes.filter((s) => s !== 'openid');
      if (input.kind !== undefined) p.kind = input.kind;
      if (input.allowed_tenants !== undefined) p.allowedTenants = input.allowed_tenants;
      p.kind ??= null;
      need('issuer', p.issuer);
      need('client_id', p.clientId);
      if (creating) need('client_secret', input.client_secret);
      if (p.kind === 'entra' && !(p.allowedTenants ?? []).length) {
        fields.push({ name: 'allowed_tenants', message: 'allowed_tenants must name at least one tenant for Entra ID' });
      }
      if (p.kind !== 'entra' && input.allowed_tenants !== undefined) {
        fields.push({ name: 'allowed_tenants', message: 'allowed_tenants is for kind entra' });
      }
      if (p.issuer) this.checkTransport('issuer', p.issuer, fields);
    } else {
      for (const f of ['issuer', 'client_id', 'client_secret', 'scopes', 'kind', 'allowed_tenants'] as const) {
        if (input[f] !== undefined) fields.push({ name: f, message: `${f} is for OIDC providers` });
      }
      if (input.entry_point !== undefined) p.entryPoint = input.entry_point.trim();
      if (input.idp_issuer !== undefined) p.idpIssuer = input.idp_issuer.trim();
      if (input.idp_certificate !== undefined) p.idpCertificate = input.idp_certificate.trim();
      need('entry_point', p.entryPoint);
      need('idp_issuer', p.idpIssuer);
      need('idp_certificate', p.idpCertificate);
      if (p.entryPoint) this.checkTransport('entry_point', p.entryPoint, fields);
      if (p.idpCertificate) {
        try {
          new X509Certificate(p.idpCertificate);
        } catch {
          fields.push({ name: 'idp_certificate', message: 'idp_certificate must be an X.509 certificate in PEM' });
        }
      }
    }
    if (fields.length) throw invalid(fields);
    if (p.type === 'oidc' && (creating || input.issuer !== undefined || input.kind !== undefined || input.client_id)) {
      try {
        await this.oidc.discover({ provider: p, clientSecret: input.client_secret ?? null });
      } catch (e) {
        throw invalid([
          { name: 'issuer', message: `the issuer's discovery document could not be used: ${(e as Error).message}` },
        ]);
      }
    }
    return input.client_secret === undefined ? undefined : this.box.seal(Buffer.from(input.client_secret), p.id);
  }

  private checkTransport(name: string, raw: string, fields: FieldError[]): void {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      fields.push({ name, message: `${name} must be a URL` });
      return;
    }
    if (url.username || url.password || url.search || url.hash) {
      fields.push({ name, message: `${name} must not carry credentials, a query or a fragment` });
    } else if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.oidc.allowsHttp(url))) {
      fields.push({
        name,
        message:
          this.config.env === 'production'
            ? `${name} must use https`
            : `${name} must use https (http only on loopback outside production)`,
      });
    }
  }

  spEntityId(id: string): string {
    return `${this.config.appUrl}/api/sso/${encodeURIComponent(id)}/metadata`;
  }

  acsUrl(id: string): string {
    return `${this.config.appUrl}/api/sso/${encodeURIComponent(id)}/acs`;
  }

  view(p: SsoProvider): SsoProviderView {
    const common = {
      id: p.id,
      type: p.type,
      name: p.name,
      domains: p.domains,
      default_role: p.defaultRole,
    };
    const dates = { created_at: p.createdAt.toISOString(), updated_at: p.updatedAt.toISOString() };
    if (p.type === 'oidc') {
      return {
        ...common,
        kind: p.kind,
        issuer: p.issuer,
        client_id: p.clientId,
        scopes: p.scopes ?? [],
        ...(p.kind === 'entra' ? { allowed_tenants: p.allowedTenants ?? [] } : {}),
        redirect_uri: this.oidc.callbackUrl(p.id),
        ...dates,
      };
    }
    return {
      ...common,
      entry_point: p.entryPoint,
      idp_issuer: p.idpIssuer,
      idp_certificate: p.idpCertificate,
      sp_entity_id: this.spEntityId(p.id),
      acs_url: this.acsUrl(p.id),
      metadata_url: this.spEntityId(p.id),
      ...dates,
    };
  }
}
