import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { SecretBox } from '../common/secret-box';
import { hashSecret, newSecret } from '../common/secrets';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { sweepHourly } from '../common/sweeper';
import { SsoFlowsRepository } from './flows.repository';

/** How long a sign-in at the provider may take, redirect to return (API.md 7). */
export const FLOW_TTL_SEC = 600;
/** The cookie that binds a sign-in attempt, and the code that ends it, to the browser that started it. */
export const BROWSER_COOKIE = 'sso_browser';
/** How long the one-time code that brings the browser back lives. */
export const CODE_TTL_SEC = 60;

export interface FlowSecrets {
  nonce?: string;
  codeVerifier?: string;
  samlRequestId?: string;
}

export interface Flow extends FlowSecrets {
  redirectUri: string;
}

/**
 * The sign-in attempts in flight and the one-time codes that end them. Both are single use by one
 * conditional UPDATE ... RETURNING, so that two racing requests cannot both win, and both are looked up by
 * the hash of what the browser carries (the state, the binding cookie, the code), never by a plain value.
 * The nonce and the PKCE verifier must be read back, so they are sealed (AES-256-GCM under a key derived
 * from the server's secret, bound to the attempt's state hash), never stored in clear (API.md 12). A code
 * is bound to the browser of its attempt: exchanged without that browser's cookie, it is refused.
 */
@Injectable()
export class SsoFlowsService implements OnModuleInit, OnApplicationShutdown {
  private sweeper?: NodeJS.Timeout;

  private readonly box: SecretBox;

  constructor(
    private readonly repo: SsoFlowsRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.box = new SecretBox(config.jwt.secret, 'sso flow secret');
  }

  private seal(value: string | undefined, stateHash: string, what: string): Buffer | null {
    return value === undefined ? null : this.box.seal(Buffer.from(value, 'utf8'), `${what}:${stateHash}`);
  }

  private unseal(value: Buffer | null, stateHash: string, what: string): string | undefined {
    return value === null ? undefined : this.box.open(value, `${what}:${stateHash}`).toString('utf8');
  }

  onModuleInit(): void {
    this.sweeper = sweepHourly(() => this.sweep());
  }

  onApplicationShutdown(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  /**
   * Expired attempts, codes and replay keys are worth nothing (every lookup also checks `expires_at`), so
   * they are cleared hourly rather than by a statement on every step of every sign-in.
   */
  async sweep(): Promise<void> {
    await this.repo.sweep();
  }

  /** Records an attempt bound to this browser; returns its `state` (the OIDC state, the SAML RelayState). */
  async start(providerId: string, browser: string, redirectUri: string, secrets: FlowSecrets): Promise<string> {
    const state = newSecret();
    await this.startWithState(providerId, state, browser, redirectUri, secrets);
    return state;
  }

  async startWithState(
    providerId: string,
    state: string,
    browser: string,
    redirectUri: string,
    secrets: FlowSecrets,
  ): Promise<void> {
    const stateHash = hashSecret(state);
    await this.repo.insertFlow({
      providerId,
      stateHash,
      browserHash: hashSecret(browser),
      nonceEnc: this.seal(secrets.nonce, stateHash, 'nonce'),
      codeVerifierEnc: this.seal(secrets.codeVerifier, stateHash, 'code_verifier'),
      samlRequestId: secrets.samlRequestId ?? null,
      redirectUri,
      ttlSec: FLOW_TTL_SEC,
    });
  }

  /** Uses the attempt up: null when the state is unknown, expired, used, of another provider or another browser. */
  async consume(providerId: string, state: string, browser: string | undefined): Promise<Flow | null> {
    if (!state || !browser || state.length > 128 || browser.length > 128) return null;
    const stateHash = hashSecret(state);
    const row = await this.repo.takeFlow(stateHash, providerId, hashSecret(browser));
    if (!row) return null;
    return {
      redirectUri: row.redirect_uri,
      nonce: this.unseal(row.nonce_enc, stateHash, 'nonce'),
      codeVerifier: this.unseal(row.code_verifier_enc, stateHash, 'code_verifier'),
      samlRequestId: row.saml_request_id ?? undefined,
    };
  }

  /** A one-time code for the browser that started the attempt (its binding cookie, `browser`). */
  async issueCode(userId: string, providerId: string, browser: string): Promise<string> {
    const code = newSecret();
    await this.repo.insertCode(hashSecret(code), userId, providerId, hashSecret(browser), CODE_TTL_SEC);
    return code;
  }

  /**
   * Spends a code, only from the browser that started its sign-in (API.md 12): a code opened in another
   * browser (login CSRF: an attacker's code in the victim's browser) finds no row, and is not spent.
   */
  async consumeCode(code: string, browser: string | undefined): Promise<{ userId: string; providerId: string } | null> {
    if (!browser || browser.length > 128) return null;
    const row = await this.repo.takeCode(hashSecret(code), hashSecret(browser));
    return row ? { userId: row.user_id, providerId: row.provider_id } : null;
  }

  /** True the first time a SAML assertion id is seen for a provider; false ever after (until it expires). */
  async firstUseOfAssertion(providerId: string, assertionId: string, notOnOrAfter: Date): Promise<boolean> {
    // An expired key not yet swept still refuses its id: an assertion that old is refused anyway.
    return this.repo.insertReplayKey(`${providerId}:${assertionId}`.slice(0, 300), notOnOrAfter);
  }
}
