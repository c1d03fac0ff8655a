import { Injectable } from '@nestjs/common';
import { CacheProvider, SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import type { SsoProvider } from './entities';
import { SsoFailure } from './failure';
import type { SsoIdentity } from './oidc.service';
import { SsoFlowsService } from './flows.service';
import { SsoProvidersService } from './providers.service';

const EMAIL_ATTRIBUTES = [
  'email',
  'mail',
  'urn:oid:0.9.2342.19200300.100.1.3',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
];
const CLOCK_SKEW_MS = 30_000;

/**
 * A node-saml "cache" that knows exactly one request id: the one this browser's sign-in attempt stored
 * (and already used up). InResponseTo is then checked against a request that this service made for this
 * very browser, not against any request of any browser.
 */
class OneRequest implements CacheProvider {
  saved: string | undefined;
  constructor(private readonly id?: string) {}
  saveAsync(key: string, value: string) {
    this.saved = key;
    return Promise.resolve({ value, createdAt: Date.now() });
  }
  /** node-saml reads the value as the request's creation time; the attempt's own 10 minutes were checked already. */
  getAsync(key: string) {
    return Promise.resolve(key === this.id ? new Date().toISOString() : null);
  }
  removeAsync(key: string | null) {
    return Promise.resolve(key);
  }
}

/**
 * SAML 2.0 service provider with @node-saml/node-saml 5.1+ (earlier versions had signature-wrapping
 * advisories): HTTP-Redirect AuthnRequest, HTTP-POST ACS. Either the response or its assertion must be
 * signed by the registered IdP certificate (node-saml takes the claims from the signed part only), the
 * audience must be our entity id, the conditions' window must hold, InResponseTo must be this browser's
 * request, and an assertion is accepted once across every instance (replay cache in PostgreSQL).
 */
@Injectable()
export class SamlService {
  constructor(
    private readonly flows: SsoFlowsService,
    private readonly providers: SsoProvidersService,
  ) {}

  private saml(p: SsoProvider, requests: CacheProvider): SAML {
    const spEntityId = this.providers.spEntityId(p.id);
    return new SAML({
      callbackUrl: this.providers.acsUrl(p.id),
      entryPoint: p.entryPoint ?? '',
      issuer: spEntityId,
      audience: spEntityId,
      idpCert: p.idpCertificate ?? '',
      idpIssuer: p.idpIssuer ?? undefined,
      wantAuthnResponseSigned: false,
      wantAssertionsSigned: false,
      validateInResponseTo: ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: 600_000,
      cacheProvider: requests,
      acceptedClockSkewMs: CLOCK_SKEW_MS,
      signatureAlgorithm: 'sha256',
      disableRequestedAuthnContext: true,
    });
  }

  metadata(p: SsoProvider): string {
    return this.saml(p, new OneRequest()).generateServiceProviderMetadata(null, null);
  }

  /** The HTTP-Redirect URL of a new AuthnRequest, and that request's id (kept with the attempt). */
  async authorizeUrl(p: SsoProvider, relayState: string): Promise<{ url: string; requestId: string }> {
    const requests = new OneRequest();
    const url = await this.saml(p, requests).getAuthorizeUrlAsync(relayState, undefined, {});
    if (!requests.saved) throw new Error('node-saml made no request id');
    return { url, requestId: requests.saved };
  }

  async acs(p: SsoProvider, samlResponse: string, requestId: string): Promise<SsoIdentity> {
    let profile;
    try {
      ({ profile } = await this.saml(p, new OneRequest(requestId)).validatePostResponseAsync({
        SAMLResponse: samlResponse,
      }));
    } catch (e) {
      throw new SsoFailure('invalid_saml_response', (e as Error).message);
    }
    if (!profile) throw new SsoFailure('invalid_saml_response', 'not a login response');
    if (p.idpIssuer && profile.issuer !== p.idpIssuer) {
      throw new SsoFailure('invalid_saml_response', 'the response comes from another issuer');
    }
    const assertion = (profile.getAssertion?.() ?? {}) as {
      Assertion?: { $?: { ID?: string }; Conditions?: { $?: { NotOnOrAfter?: string } }[] };
    };
    const assertionId = assertion.Assertion?.$?.ID;
    const until = assertion.Assertion?.Conditions?.[0]?.$?.NotOnOrAfter;
    if (!assertionId) throw new SsoFailure('invalid_saml_response', 'the assertion has no ID');
    const expires = until ? new Date(Date.parse(until) + CLOCK_SKEW_MS) : new Date(Date.now() + 3_600_000);
    if (!(await this.flows.firstUseOfAssertion(p.id, assertionId, expires))) {
      throw new SsoFailure('replayed_response', 'this assertion was already used');
    }
    let email: string | null = null;
    for (const name of EMAIL_ATTRIBUTES) {
      const v = profile[name];
      if (typeof v === 'string') email = v;
      else if (Array.isArray(v) && typeof v[0] === 'string') email = v[0] as string;
      if (email) break;
    }
    if (!email && /emailAddress$/.test(profile.nameIDFormat ?? '')) email = profile.nameID;
    const str = (k: string) => (typeof profile[k] === 'string' ? (profile[k] as string).slice(0, 100) : null);
    return {
      subject: profile.nameID,
      email: email ? email.trim().toLowerCase() : null,
      // API.md 7: a SAML provider speaks for the addresses of its own domains (which resolve() checks).
      emailVerified: true,
      firstName: str('givenName') ?? str('http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname'),
      lastName: str('sn') ?? str('http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname'),
    };
  }
}
