import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { hasInvisibleCharacters, normalizeEmail } from '../common/identifiers';
import { ROLES } from '../common/roles';
import { parseDuration } from './duration';

export type NodeEnv = 'development' | 'production' | 'test';
export type RateLimitName = 'login' | 'loginIp' | 'register' | 'resend' | 'magicLink' | 'oauth' | 'default';

/**
 * How access tokens are signed (JWT_ALGORITHM). EdDSA is not offered: jsonwebtoken 9, which passport-jwt
 * and @nestjs/jwt sign and verify with, neither signs nor verifies it (its algorithm lists and jwa 2 stop at
 * the RSA, ECDSA and HMAC families).
 */
export const JWT_ALGORITHMS = ['HS256', 'ES256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export interface RateLimit {
  limit: number;
  ttlMs: number;
}

export interface AppConfig {
  env: NodeEnv;
  port: number;
  host: string;
  databaseUrl?: string;
  dataDir: string;
  jwt: {
    secret: Buffer;
    expiresInSec: number;
    rememberExpiresInSec: number;
    issuer: string;
    audience: string;
    /** HS256 signs with `secret`; ES256 with keys kept in the database (sealed under `secret`). */
    algorithm: JwtAlgorithm;
    /** How often a new signing key replaces the current one (JWT_KEY_ROTATION); null when off. */
    keyRotationMs: number | null;
    /** How long a new key is published before it signs (JWT_KEY_PUBLISH_AHEAD). */
    keyPublishAheadMs: number;
  };
  ttlMs: {
    refresh: number;
    keyToken: number;
    magicLink: number;
    session: number;
    tempToken: number;
  };
  mail: { smtpUrl?: string; from: string };
  /** Outgoing SMS: a signed webhook, or files in DATA_DIR/sms when `webhookUrl` is unset. */
  sms: { webhookUrl?: string; webhookSecret?: Buffer; timeoutMs: number };
  portalUrl: string;
  appUrl: string;
  admin: { email: string; password?: string };
  defaultClientId: string;
  rateLimits: Record<RateLimitName, RateLimit | null>;
  trustProxy: boolean | string;
  redisUrl?: string;
  corsOrigins: string[];
  /** Origins besides PORTAL_URL's that single sign-on may send the browser back to (SSO_REDIRECT_ORIGINS). */
  ssoRedirectOrigins: string[];
  argon2: { memoryKiB: number; timeCost: number };
  logLevel: string;
  mfa: {
    /** Roles whose users must have a second factor (MFA_REQUIRED_ROLES). */
    requiredRoles: string[];
    /** The issuer name that authenticator apps show (MFA_ISSUER). */
    issuer: string;
    /** Wrong second-factor codes per account and window (RATE_LIMIT_MFA); null when off. */
    failures: RateLimit | null;
    /** Email and SMS codes sent per account (RATE_LIMIT_MFA_SEND) and per address or number (RATE_LIMIT_MFA_SEND_TO). */
    sends: RateLimit | null;
    sendsTo: RateLimit | null;
  };
  /** Passkeys (API.md 8): the relying party that credentials are bound to, and the pages that may use them. */
  /** Operation (API.md 13): the metrics listener and the graceful stop. */
  ops: {
    /** METRICS_PORT: a second listener that serves only GET /metrics; null (the default) when off. */
    metricsPort: number | null;
    /** METRICS_HOST: the address that listener binds; HOST by default. */
    metricsHost: string;
    /**
     * SHUTDOWN_DRAIN: on SIGTERM, how long readiness answers 503 while the API still serves, so that a
     * load balancer stops sending before the listener closes; 0 (`off`, the default) closes at once.
     */
    shutdownDrainMs: number;
  };
  /** The OAuth 2.1 / OpenID Connect provider (API.md 15 and 16). */
  oauth: {
    /** OIDC_ISSUER: the provider's issuer URL; APP_URL by default. */
    issuer: string;
    /** OAUTH_DYNAMIC_REGISTRATION=on: public clients may register themselves (RFC 7591). */
    dynamicRegistration: boolean;
    /** OAUTH_ACCESS_TOKEN_TTL, OAUTH_REFRESH_TOKEN_TTL, OAUTH_CODE_TTL, in seconds. */
    accessTokenTtlSec: number;
    refreshTokenTtlSec: number;
    codeTtlSec: number;
  };
  webauthn: {
    /** WEBAUTHN_RP_ID: a registrable domain (no scheme, port or path); the host of PORTAL_URL by default. */
    rpId: string;
    /** WEBAUTHN_ORIGINS: the exact origins whose pages may run the ceremonies (origin of PORTAL_URL and APP_URL). */
    origins: string[];
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const RATE_LIMIT_DEFAULTS: Record<RateLimitName, [string, string]> = {
  login: ['RATE_LIMIT_LOGIN', '5/15m'],
  loginIp: ['RATE_LIMIT_LOGIN_IP', '50/15m'],
  register: ['RATE_LIMIT_REGISTER', '3/1h'],
  resend: ['RATE_LIMIT_RESEND', '5/30m'],
  magicLink: ['RATE_LIMIT_MAGIC_LINK', '5/15m'],
  oauth: ['RATE_LIMIT_OAUTH', '600/1m'],
  default: ['RATE_LIMIT_DEFAULT', '60/1m'],
};

/** The variables that turn off every per-request limit (the bench and the test harness measure without them). */
export const RATE_LIMITS_OFF: Record<string, string> = Object.fromEntries(
  Object.values(RATE_LIMIT_DEFAULTS).map(([name]) => [name, 'off']),
);

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Secrets that appear in tutorials and sample files; a production service must never run with one. */
const PLACEHOLDER_SECRET =
  /change[-_ .]?me|your[-_ .]?([a-z]+[-_ .]?)?secret|placeholder|example|secret[-_ .]?key|^(secret|password|default)/i;

/** How long one SMS webhook call may take, connection to answer; a code must not hold a login for longer. */
const SMS_WEBHOOK_TIMEOUT_MS = 5000;

/** Loopback hosts: traffic to them never leaves the machine (a gateway sidecar), so plain http is acceptable. */
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * A shared secret (HMAC key) checked as JWT_SECRET is: 16 bytes or more, and in production 32 bytes or
 * more with no placeholder or low-variety value.
 */
function secretProblem(name: string, raw: string, isProduction: boolean): string | undefined {
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (isProduction) {
    if (bytes < 32) return `${name}: must be at least 32 bytes in production`;
    if (PLACEHOLDER_SECRET.test(raw) || new Set(raw).size < 10) {
      return `${name}: looks like a placeholder; generate one with \`openssl rand -base64 48\``;
    }
  } else if (bytes < 16) {
    return `${name}: must be at least 16 bytes (32 or more in production)`;
  }
  return undefined;
}

/**
 * SMS_WEBHOOK_URL and SMS_WEBHOOK_SECRET. The URL is kept exactly as written (no trailing slash
 * removed: it is the receiver's path). Production needs https, since the body carries a sign-in code,
 * except to a loopback address. Credentials in the URL are refused: fetch will not send them, and the
 * HMAC secret is what authenticates the service to the receiver.
 */
function smsWebhook(
  env: NodeJS.ProcessEnv,
  isProduction: boolean,
  problems: string[],
): { webhookUrl?: string; webhookSecret?: Buffer } {
  const rawUrl = env.SMS_WEBHOOK_URL?.trim() || undefined;
  const rawSecret = env.SMS_WEBHOOK_SECRET?.trim() || undefined;
  if (rawUrl === undefined) return {};
  let webhookUrl: string | undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(rawUrl);
  } catch {
    problems.push('SMS_WEBHOOK_URL: is not a URL');
  }
  if (parsed) {
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      problems.push('SMS_WEBHOOK_URL: must use http: or https:');
    } else if (parsed.username || parsed.password) {
      problems.push('SMS_WEBHOOK_URL: must not hold credentials (the X-Signature HMAC authenticates the service)');
    } else if (isProduction && parsed.protocol === 'http:' && !LOOPBACK_HOST.test(parsed.hostname)) {
      problems.push('SMS_WEBHOOK_URL: must use https: in production (http: only to a loopback address)');
    } else {
      webhookUrl = rawUrl;
    }
  }
  if (rawSecret === undefined) {
    problems.push('SMS_WEBHOOK_SECRET: is required when SMS_WEBHOOK_URL is set');
    return {};
  }
  const problem = secretProblem('SMS_WEBHOOK_SECRET', rawSecret, isProduction);
  if (problem) problems.push(problem);
  return webhookUrl && !problem ? { webhookUrl, webhookSecret: Buffer.from(rawSecret, 'utf8') } : {};
}

/** A host name as WebAuthn takes for an RP id: lower-case labels, no scheme, port, path or trailing dot. */
const RP_ID = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS. Every origin must be the RP id or under it (WebAuthn refuses any
 * other pairing in the browser, so a mismatch here would only show as passkeys that never work), and in
 * production https, except on localhost, which browsers treat as a secure context.
 */
function webauthnSettings(
  env: NodeJS.ProcessEnv,
  urls: { portalUrl: string; appUrl: string },
  isProduction: boolean,
  problems: string[],
): AppConfig['webauthn'] {
  const hostOf = (u: string): string | undefined => {
    try {
      return new URL(u).hostname;
    } catch {
      return undefined;
    }
  };
  const rpId = (env.WEBAUTHN_RP_ID?.trim() || hostOf(urls.portalUrl) || 'localhost').toLowerCase();
  // Only what the operator wrote can stop the service: the defaults must never keep one without passkeys from booting.
  if (env.WEBAUTHN_RP_ID?.trim() && !RP_ID.test(rpId)) {
    problems.push(`WEBAUTHN_RP_ID: "${rpId}" must be a domain name such as example.org (no scheme, port or path)`);
  }
  const explicit = Boolean(env.WEBAUTHN_ORIGINS?.trim());
  const rawOrigins = explicit
    ? (env.WEBAUTHN_ORIGINS ?? '')
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean)
    : [urls.portalUrl, urls.appUrl].filter(Boolean);
  const origins: string[] = [];
  for (const raw of rawOrigins) {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      problems.push(`WEBAUTHN_ORIGINS: "${raw}" is not an origin such as https://app.example.org`);
      continue;
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      problems.push(`WEBAUTHN_ORIGINS: "${raw}" must use https: (or http: on localhost)`);
      continue;
    }
    if (explicit && (parsed.pathname !== '/' || parsed.search || parsed.hash || parsed.username)) {
      problems.push(`WEBAUTHN_ORIGINS: "${raw}" must be an origin alone (scheme, host and port; no path)`);
      continue;
    }
    const host = parsed.hostname.toLowerCase();
    if (host !== rpId && !host.endsWith(`.${rpId}`)) {
      if (!explicit) continue;
      problems.push(`WEBAUTHN_ORIGINS: "${parsed.origin}" is not on WEBAUTHN_RP_ID "${rpId}" or a subdomain of it`);
      continue;
    }
    if (isProduction && parsed.protocol === 'http:' && host !== 'localhost') {
      if (!explicit) continue;
      problems.push(`WEBAUTHN_ORIGINS: "${parsed.origin}" must use https: in production`);
      continue;
    }
    if (!origins.includes(parsed.origin)) origins.push(parsed.origin);
  }
  return { rpId, origins };
}

export function parseRateLimit(value: string): RateLimit | null {
  if (value.trim().toLowerCase() === 'off') return null;
  const match = /^(\d+)\/(\w+)$/.exec(value.trim());
  if (!match) throw new Error(`"${value}" is not a rate limit (write it like 5/15m, or off)`);
  const limit = Number(match[1]);
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`"${value}": the count must be at least 1`);
  return { limit, ttlMs: parseDuration(match[2]) };
}

/**
 * TRUST_PROXY: `false`, `true`, or the proxies' addresses/CIDRs. A hop count (`1`) is refused: Fastify 5.12
 * stopped honouring one (it cannot tell a proxy from a client that wrote the header itself, so it trusts
 * nobody), and a setting that silently turns into "trust nobody" would be worse than a refusal at start.
 */
function parseTrustProxy(value: string, problems: string[]): boolean | string {
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'false' || v === '0' || v === 'no') return false;
  if (v === 'true' || v === 'yes') return true;
  if (/^\d+$/.test(v)) {
    problems.push(
      "TRUST_PROXY: a hop count is not supported (it cannot tell a proxy from a client); name the proxies' addresses or CIDRs, e.g. 10.0.0.0/8",
    );
    return false;
  }
  return value.trim();
}

/**
 * In development the JWT key is generated once and kept in DATA_DIR, so that tokens survive a restart
 * without anyone having to invent a secret.
 */
function developmentSecret(dataDir: string): Buffer {
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48);
  writeFileSync(file, secret.toString('base64url') + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}

/**
 * SSO_REDIRECT_ORIGINS: bare origins (scheme, host, port; no path), since a one-time code travels to them in
 * a URL. Production allows http only on loopback.
 */
function ssoRedirectOrigins(raw: string, isProduction: boolean, problems: string[]): string[] {
  const origins: string[] = [];
  for (const item of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      problems.push(`SSO_REDIRECT_ORIGINS: "${item}" is not a URL`);
      continue;
    }
    if (!['http:', 'https:'].includes(url.protocol) || url.origin !== item.replace(/\/+$/, '')) {
      problems.push(`SSO_REDIRECT_ORIGINS: "${item}" must be an http(s) origin without path, query or credentials`);
    } else if (isProduction && url.protocol === 'http:' && !LOOPBACK_HOST.test(url.hostname)) {
      problems.push(`SSO_REDIRECT_ORIGINS: "${item}" must use https in production`);
    } else origins.push(url.origin);
  }
  return origins;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const problems: string[] = [];
  const get = (name: string, fallback: string): string => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? fallback : v.trim();
  };
  const optional = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const attempt = <T>(name: string, fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch (e) {
      problems.push(`${name}: ${(e as Error).message}`);
      return fallback;
    }
  };
  const int = (name: string, fallback: string, min: number, max: number): number =>
    attempt(
      name,
      () => {
        const raw = get(name, fallback);
        const n = Number(raw);
        if (!/^\d+$/.test(raw) || n < min || n > max) {
          throw new Error(`"${raw}" must be a whole number from ${min} to ${max}`);
        }
        return n;
      },
      Number(fallback),
    );
  const onOff = (name: string, fallback: 'on' | 'off'): boolean => {
    const raw = get(name, fallback).toLowerCase();
    if (raw !== 'on' && raw !== 'off') problems.push(`${name}: "${raw}" must be on or off`);
    return raw === 'on';
  };
  const duration = (name: string, fallback: string): number =>
    attempt(name, () => parseDuration(get(name, fallback)), parseDuration(fallback));
  const url = (name: string, fallback: string | undefined, protocols: string[]): string | undefined => {
    const raw = fallback === undefined ? optional(name) : get(name, fallback);
    if (raw === undefined) return undefined;
    return attempt(
      name,
      () => {
        const parsed = new URL(raw);
        if (!protocols.includes(parsed.protocol)) {
          throw new Error(`must use ${protocols.join(' or ')}`);
        }
        return raw.replace(/\/+$/, '');
      },
      undefined,
    );
  };

  const nodeEnv = get('NODE_ENV', 'development');
  if (!['development', 'production', 'test'].includes(nodeEnv)) {
    problems.push(`NODE_ENV: "${nodeEnv}" must be development, production or test`);
  }
  const isProduction = nodeEnv === 'production';
  const dataDirRaw = get('DATA_DIR', './.data');
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(process.cwd(), dataDirRaw);

  let secret: Buffer = Buffer.alloc(0);
  const rawSecret = optional('JWT_SECRET');
  if (rawSecret !== undefined) {
    secret = Buffer.from(rawSecret, 'utf8');
    const problem = secretProblem('JWT_SECRET', rawSecret, isProduction);
    if (problem) problems.push(problem);
  } else if (isProduction) {
    problems.push('JWT_SECRET: is required in production (32 bytes or more)');
  } else {
    secret = attempt('JWT_SECRET', () => developmentSecret(dataDir), Buffer.alloc(0));
  }

  const algorithmRaw = get('JWT_ALGORITHM', 'HS256');
  const algorithm = JWT_ALGORITHMS.find((a) => a.toLowerCase() === algorithmRaw.toLowerCase());
  if (!algorithm) {
    problems.push(
      /^eddsa$/i.test(algorithmRaw)
        ? 'JWT_ALGORITHM: EdDSA is not supported by jsonwebtoken 9 (which signs and verifies the tokens here): use ES256'
        : `JWT_ALGORITHM: "${algorithmRaw}" must be one of ${JWT_ALGORITHMS.join(', ')}`,
    );
  }
  const keyRotationRaw = get('JWT_KEY_ROTATION', '30d');
  const keyRotationMs = keyRotationRaw.toLowerCase() === 'off' ? null : duration('JWT_KEY_ROTATION', '30d');

  const rateLimits = {} as Record<RateLimitName, RateLimit | null>;
  for (const [key, [name, fallback]] of Object.entries(RATE_LIMIT_DEFAULTS) as [RateLimitName, [string, string]][]) {
    rateLimits[key] = attempt(name, () => parseRateLimit(get(name, fallback)), parseRateLimit(fallback));
  }

  const logLevel = get('LOG_LEVEL', 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL: "${logLevel}" must be one of ${LOG_LEVELS.join(', ')}`);

  const mfaRequiredRoles = get('MFA_REQUIRED_ROLES', '')
    .split(',')
    .map((r) => r.trim().toLowerCase())
    .filter(Boolean);
  for (const role of mfaRequiredRoles) {
    if (!(ROLES as readonly string[]).includes(role))
      problems.push(`MFA_REQUIRED_ROLES: "${role}" is not a role (${ROLES.join(', ')})`);
  }

  const adminEmail = normalizeEmail(get('ADMIN_EMAIL', 'admin@example.com'));
  if (!/^[^\s@]+@[^\s@]+$/.test(adminEmail)) problems.push(`ADMIN_EMAIL: "${adminEmail}" is not an email address`);
  else if (hasInvisibleCharacters(adminEmail))
    problems.push(`ADMIN_EMAIL: ${JSON.stringify(adminEmail)} holds invisible or formatting characters`);

  const port = int('PORT', '3000', 0, 65535);
  const host = get('HOST', '0.0.0.0');
  const config: AppConfig = {
    env: nodeEnv as NodeEnv,
    port,
    host,
    databaseUrl: url('DATABASE_URL', undefined, ['postgres:', 'postgresql:']),
    dataDir,
    jwt: {
      secret,
      expiresInSec: duration('JWT_EXPIRES_IN', '24h') / 1000,
      rememberExpiresInSec: duration('JWT_REMEMBER_EXPIRES_IN', '30d') / 1000,
      issuer: get('JWT_ISSUER', 'identity-service'),
      audience: get('JWT_AUDIENCE', 'identity-clients'),
      algorithm: algorithm ?? 'HS256',
      keyRotationMs,
      keyPublishAheadMs: duration('JWT_KEY_PUBLISH_AHEAD', '10m'),
    },
    ttlMs: {
      refresh: duration('REFRESH_TOKEN_TTL', '30d'),
      keyToken: duration('KEY_TOKEN_TTL', '14d'),
      magicLink: duration('MAGIC_LINK_TTL', '15m'),
      session: duration('SESSION_TTL', '4h'),
      tempToken: duration('TEMP_TOKEN_TTL', '24h'),
    },
    mail: {
      smtpUrl: url('SMTP_URL', undefined, ['smtp:', 'smtps:']),
      from: get('MAIL_FROM', 'Identity Service <no-reply@localhost>'),
    },
    sms: { ...smsWebhook(env, isProduction, problems), timeoutMs: SMS_WEBHOOK_TIMEOUT_MS },
    portalUrl: url('PORTAL_URL', 'http://localhost:5173', ['http:', 'https:']) ?? '',
    // The links in mails must reach this very service, so the default follows PORT.
    appUrl: url('APP_URL', `http://localhost:${port}`, ['http:', 'https:']) ?? '',
    admin: { email: adminEmail, password: optional('ADMIN_PASSWORD') },
    defaultClientId: get('DEFAULT_CLIENT_ID', 'web'),
    rateLimits,
    trustProxy: parseTrustProxy(get('TRUST_PROXY', 'false'), problems),
    redisUrl: url('REDIS_URL', undefined, ['redis:', 'rediss:']),
    corsOrigins: get('CORS_ORIGINS', '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    ssoRedirectOrigins: ssoRedirectOrigins(get('SSO_REDIRECT_ORIGINS', ''), isProduction, problems),
    argon2: {
      memoryKiB: int('ARGON2_MEMORY_KIB', '19456', 1024, 4_194_304),
      timeCost: int('ARGON2_TIME_COST', '2', 1, 20),
    },
    logLevel,
    mfa: {
      requiredRoles: mfaRequiredRoles,
      issuer: get('MFA_ISSUER', 'Identity'),
      failures: attempt(
        'RATE_LIMIT_MFA',
        () => parseRateLimit(get('RATE_LIMIT_MFA', '10/15m')),
        parseRateLimit('10/15m'),
      ),
      sends: attempt(
        'RATE_LIMIT_MFA_SEND',
        () => parseRateLimit(get('RATE_LIMIT_MFA_SEND', '5/15m')),
        parseRateLimit('5/15m'),
      ),
      sendsTo: attempt(
        'RATE_LIMIT_MFA_SEND_TO',
        () => parseRateLimit(get('RATE_LIMIT_MFA_SEND_TO', '3/15m')),
        parseRateLimit('3/15m'),
      ),
    },
    ops: {
      metricsPort: optional('METRICS_PORT') === undefined ? null : int('METRICS_PORT', '0', 1, 65535),
      metricsHost: get('METRICS_HOST', host),
      shutdownDrainMs: get('SHUTDOWN_DRAIN', 'off').toLowerCase() === 'off' ? 0 : duration('SHUTDOWN_DRAIN', '5s'),
    },
    webauthn: { rpId: '', origins: [] },
    oauth: {
      issuer: '',
      dynamicRegistration: onOff('OAUTH_DYNAMIC_REGISTRATION', 'off'),
      accessTokenTtlSec: Math.floor(duration('OAUTH_ACCESS_TOKEN_TTL', '10m') / 1000),
      refreshTokenTtlSec: Math.floor(duration('OAUTH_REFRESH_TOKEN_TTL', '30d') / 1000),
      codeTtlSec: Math.floor(duration('OAUTH_CODE_TTL', '60s') / 1000),
    },
  };
  config.oauth.issuer = url('OIDC_ISSUER', config.appUrl || 'http://localhost', ['http:', 'https:']) ?? config.appUrl;
  if (isProduction && optional('OIDC_ISSUER')?.startsWith('http:')) {
    problems.push('OIDC_ISSUER: must use https: in production');
  }
  if (config.oauth.codeTtlSec < 1 || config.oauth.codeTtlSec > 600) {
    problems.push('OAUTH_CODE_TTL: must be from 1s to 10m');
  }
  if (config.oauth.accessTokenTtlSec < 1) problems.push('OAUTH_ACCESS_TOKEN_TTL: must be at least 1s');
  if (config.oauth.refreshTokenTtlSec < 1) problems.push('OAUTH_REFRESH_TOKEN_TTL: must be at least 1s');
  if (config.ops.metricsPort !== null && config.ops.metricsPort === port) {
    problems.push('METRICS_PORT: must differ from PORT (metrics are never served on the API port)');
  }
  config.webauthn = webauthnSettings(env, config, isProduction, problems);
  // OWASP's argon2id settings trade memory for passes (46 MiB t=1 … 7 MiB t=5): all cost about 35 MiB·passes.
  if (isProduction && config.argon2.memoryKiB * config.argon2.timeCost < 7168 * 5) {
    problems.push('ARGON2_MEMORY_KIB/ARGON2_TIME_COST: below the OWASP minimum (19456 KiB with t=2) in production');
  }
  // A key must be published before it signs, and sign for a while before the next one comes.
  if (config.jwt.keyRotationMs !== null && config.jwt.keyPublishAheadMs >= config.jwt.keyRotationMs) {
    problems.push('JWT_KEY_PUBLISH_AHEAD: must be shorter than JWT_KEY_ROTATION');
  }
  if (problems.length) throw new ConfigError(problems);
  return config;
}

export const APP_CONFIG = Symbol('APP_CONFIG');
