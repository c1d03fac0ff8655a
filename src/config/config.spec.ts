import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseRateLimit } from './config';
import { parseDuration } from './duration';

const tmp = () => mkdtempSync(join(tmpdir(), 'identity-config-'));

/** The problems loadConfig reports for `env` (in a fresh DATA_DIR), one a line; '' if it accepts it. */
const problemsOf = (env: Record<string, string>): string => {
  try {
    loadConfig({ DATA_DIR: tmp(), ...env });
    return '';
  } catch (e) {
    return (e as ConfigError).problems.join('\n');
  }
};

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['24h', 86_400_000],
    ['14d', 1_209_600_000],
  ])('reads %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '15', 'm', '1.5h', '-1h', '0m', '10 years'])('refuses %p', (text) => {
    expect(() => parseDuration(text)).toThrow();
  });
});

describe('parseRateLimit', () => {
  it('reads count/window', () => expect(parseRateLimit('5/15m')).toEqual({ limit: 5, ttlMs: 900_000 }));
  it('reads off (any case) as no limit', () => expect(parseRateLimit('OFF')).toBeNull());
  it.each(['5', '0/1m', '5/', 'five/1m', '5/1y'])('refuses %p', (text) => expect(() => parseRateLimit(text)).toThrow());
});

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({ DATA_DIR: tmp() });
    expect(c.port).toBe(3000);
    expect(c.host).toBe('0.0.0.0');
    expect(c.jwt.expiresInSec).toBe(86_400);
    expect(c.jwt.rememberExpiresInSec).toBe(30 * 86_400);
    expect(c.ttlMs).toEqual({
      refresh: 30 * 86_400_000,
      keyToken: 14 * 86_400_000,
      magicLink: 900_000,
      session: 4 * 3_600_000,
      tempToken: 86_400_000,
    });
    expect(c.rateLimits.login).toEqual({ limit: 5, ttlMs: 900_000 });
    expect(c.rateLimits.loginIp).toEqual({ limit: 50, ttlMs: 900_000 });
    expect(c.rateLimits.register).toEqual({ limit: 3, ttlMs: 3_600_000 });
    expect(c.rateLimits.resend).toEqual({ limit: 5, ttlMs: 1_800_000 });
    expect(c.rateLimits.default).toEqual({ limit: 60, ttlMs: 60_000 });
    expect(c.argon2).toEqual({ memoryKiB: 19456, timeCost: 2 });
    expect(c.defaultClientId).toBe('web');
    expect(c.portalUrl).toBe('http://localhost:5173');
    expect(c.appUrl).toBe('http://localhost:3000');
    expect(c.trustProxy).toBe(false);
    expect(c.corsOrigins).toEqual([]);
  });

  it('generates a development JWT key once, keeps it private in DATA_DIR, and reuses it', () => {
    const dir = tmp();
    const a = loadConfig({ DATA_DIR: dir });
    const b = loadConfig({ DATA_DIR: dir });
    expect(a.jwt.secret.length).toBeGreaterThanOrEqual(32);
    expect(b.jwt.secret.equals(a.jwt.secret)).toBe(true);
    expect(statSync(join(dir, 'jwt-secret')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'jwt-secret'), 'utf8').trim()).toBe(a.jwt.secret.toString('base64url'));
  });

  it('refuses a missing, short or placeholder secret in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: is required in production/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(20) })).toThrow(/at least 32 bytes/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'a'.repeat(40) })).toThrow(/placeholder/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'your-jwt-secret-goes-here-0123456789' })).toThrow(
      /placeholder/,
    );
    const good = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'q8Zr1vT3kLm9PwX2bN7cY4hJ6fD0sA5gE' });
    expect(good.env).toBe('production');
  });

  it('refuses argon2 settings below the OWASP minimum in production only', () => {
    const env = { NODE_ENV: 'production', JWT_SECRET: 'q8Zr1vT3kLm9PwX2bN7cY4hJ6fD0sA5gE' };
    expect(() => loadConfig({ ...env, ARGON2_MEMORY_KIB: '4096', ARGON2_TIME_COST: '1' })).toThrow(/OWASP/);
    expect(loadConfig({ ...env, ARGON2_MEMORY_KIB: '7168', ARGON2_TIME_COST: '5' }).argon2.timeCost).toBe(5);
    expect(loadConfig({ DATA_DIR: tmp(), ARGON2_MEMORY_KIB: '4096', ARGON2_TIME_COST: '1' }).argon2.memoryKiB).toBe(
      4096,
    );
  });

  it('points APP_URL at the configured PORT unless APP_URL is given', () => {
    expect(loadConfig({ DATA_DIR: tmp(), PORT: '4123' }).appUrl).toBe('http://localhost:4123');
    expect(loadConfig({ DATA_DIR: tmp(), PORT: '4123', APP_URL: 'https://id.example.org/' }).appUrl).toBe(
      'https://id.example.org',
    );
  });

  it('lists every problem at once', () => {
    try {
      loadConfig({
        DATA_DIR: tmp(),
        PORT: '99999',
        JWT_EXPIRES_IN: '1 day',
        RATE_LIMIT_DEFAULT: 'lots',
        SMTP_URL: 'http://x',
      });
      fail('expected a ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const problems = (e as ConfigError).problems.join('\n');
      expect(problems).toMatch(/PORT/);
      expect(problems).toMatch(/JWT_EXPIRES_IN/);
      expect(problems).toMatch(/RATE_LIMIT_DEFAULT/);
      expect(problems).toMatch(/SMTP_URL/);
    }
  });

  describe('SMS_WEBHOOK_URL and SMS_WEBHOOK_SECRET', () => {
    const prod = { NODE_ENV: 'production', JWT_SECRET: 'q8Zr1vT3kLm9PwX2bN7cY4hJ6fD0sA5gE' };
    const strong = 'Hk3vQ9zX1pL7mR2tB8nW4cY6jF0sD5gA';

    it('writes SMS to files when the URL is unset (the documented default), with a 5 s webhook timeout', () => {
      const c = loadConfig({ DATA_DIR: tmp() });
      expect(c.sms).toEqual({ timeoutMs: 5000 });
      expect(loadConfig({ DATA_DIR: tmp(), SMS_WEBHOOK_URL: ' ' }).sms.webhookUrl).toBeUndefined();
    });

    it('reads the URL exactly as written and the secret as bytes', () => {
      const c = loadConfig({
        DATA_DIR: tmp(),
        SMS_WEBHOOK_URL: 'http://gateway.internal:8080/sms/',
        SMS_WEBHOOK_SECRET: 'dev-webhook-secret-16+',
      });
      expect(c.sms.webhookUrl).toBe('http://gateway.internal:8080/sms/');
      expect(c.sms.webhookSecret?.toString('utf8')).toBe('dev-webhook-secret-16+');
    });

    it.each(['not a url', 'ftp://gateway.example/sms', 'https://user:pass@gateway.test/sms'])(
      'refuses the URL %p',
      (url) => {
        expect(() =>
          loadConfig({ DATA_DIR: tmp(), SMS_WEBHOOK_URL: url, SMS_WEBHOOK_SECRET: 'dev-webhook-secret-16+' }),
        ).toThrow(/SMS_WEBHOOK_URL: /);
      },
    );

    it('requires the secret when the URL is set, 16 bytes or more', () => {
      expect(() => loadConfig({ DATA_DIR: tmp(), SMS_WEBHOOK_URL: 'http://127.0.0.1:9/sms' })).toThrow(
        /SMS_WEBHOOK_SECRET: is required when SMS_WEBHOOK_URL is set/,
      );
      expect(() =>
        loadConfig({ DATA_DIR: tmp(), SMS_WEBHOOK_URL: 'http://127.0.0.1:9/sms', SMS_WEBHOOK_SECRET: 'short' }),
      ).toThrow(/SMS_WEBHOOK_SECRET: must be at least 16 bytes/);
    });

    it('in production: https, or http to a loopback address only', () => {
      expect(() =>
        loadConfig({ ...prod, SMS_WEBHOOK_URL: 'http://gateway.internal/sms', SMS_WEBHOOK_SECRET: strong }),
      ).toThrow(/SMS_WEBHOOK_URL: must use https: in production/);
      for (const url of [
        'https://gateway.internal/sms',
        'http://127.0.0.1:8080/sms',
        'http://localhost/sms',
        'http://[::1]/sms',
      ]) {
        expect(loadConfig({ ...prod, SMS_WEBHOOK_URL: url, SMS_WEBHOOK_SECRET: strong }).sms.webhookUrl).toBe(url);
      }
    });

    it('in production: refuses a short or placeholder secret, as for JWT_SECRET', () => {
      const url = 'https://gateway.internal/sms';
      expect(() => loadConfig({ ...prod, SMS_WEBHOOK_URL: url })).toThrow(/SMS_WEBHOOK_SECRET: is required/);
      expect(() => loadConfig({ ...prod, SMS_WEBHOOK_URL: url, SMS_WEBHOOK_SECRET: 'x'.repeat(20) })).toThrow(
        /SMS_WEBHOOK_SECRET: must be at least 32 bytes in production/,
      );
      for (const secret of [
        'b'.repeat(40),
        'your-webhook-secret-goes-here-0123456789',
        'change-me-0123456789abcdefghijklmnop',
      ]) {
        expect(() => loadConfig({ ...prod, SMS_WEBHOOK_URL: url, SMS_WEBHOOK_SECRET: secret })).toThrow(
          /SMS_WEBHOOK_SECRET: looks like a placeholder/,
        );
      }
      expect(loadConfig({ ...prod, SMS_WEBHOOK_URL: url, SMS_WEBHOOK_SECRET: strong }).sms.webhookSecret?.length).toBe(
        32,
      );
    });

    it('lists a bad URL and a missing secret together', () => {
      try {
        loadConfig({ DATA_DIR: tmp(), SMS_WEBHOOK_URL: 'smtp://x' });
        fail('expected a ConfigError');
      } catch (e) {
        const problems = (e as ConfigError).problems.join('\n');
        expect(problems).toMatch(/SMS_WEBHOOK_URL/);
        expect(problems).toMatch(/SMS_WEBHOOK_SECRET/);
      }
    });
  });

  describe('JWT_ALGORITHM, JWT_KEY_ROTATION and JWT_KEY_PUBLISH_AHEAD', () => {
    it('signs with HS256, rotates every 30 days and publishes 10 minutes ahead by default', () => {
      const c = loadConfig({ DATA_DIR: tmp() });
      expect(c.jwt).toMatchObject({ algorithm: 'HS256', keyRotationMs: 30 * 86_400_000, keyPublishAheadMs: 600_000 });
    });

    it('reads ES256 in any case, off for no rotation, and short durations', () => {
      const c = loadConfig({
        DATA_DIR: tmp(),
        JWT_ALGORITHM: 'es256',
        JWT_KEY_ROTATION: 'OFF',
        JWT_KEY_PUBLISH_AHEAD: '1s',
      });
      expect(c.jwt).toMatchObject({ algorithm: 'ES256', keyRotationMs: null, keyPublishAheadMs: 1000 });
    });

    it('refuses EdDSA with the reason, and any other algorithm', () => {
      expect(problemsOf({ JWT_ALGORITHM: 'EdDSA' })).toMatch(/EdDSA is not supported by jsonwebtoken 9/);
      for (const alg of ['none', 'RS256', 'HS512', 'ES256K'])
        expect(problemsOf({ JWT_ALGORITHM: alg })).toMatch(/JWT_ALGORITHM/);
    });

    it('refuses a malformed rotation or lead, and a lead that is not shorter than the rotation', () => {
      expect(problemsOf({ JWT_KEY_ROTATION: 'monthly' })).toMatch(/JWT_KEY_ROTATION/);
      expect(problemsOf({ JWT_KEY_PUBLISH_AHEAD: '-1m' })).toMatch(/JWT_KEY_PUBLISH_AHEAD/);
      expect(problemsOf({ JWT_KEY_ROTATION: '1h', JWT_KEY_PUBLISH_AHEAD: '1h' })).toMatch(
        /JWT_KEY_PUBLISH_AHEAD: must be shorter than JWT_KEY_ROTATION/,
      );
    });
  });

  describe('WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS', () => {
    it('defaults to the host of PORTAL_URL and the origins of PORTAL_URL and APP_URL', () => {
      expect(loadConfig({ DATA_DIR: tmp() }).webauthn).toEqual({
        rpId: 'localhost',
        origins: ['http://localhost:5173', 'http://localhost:3000'],
      });
      const c = loadConfig({
        DATA_DIR: tmp(),
        PORTAL_URL: 'https://Portal.Example.org/app/',
        APP_URL: 'https://id.example.org',
      });
      expect(c.webauthn).toEqual({ rpId: 'portal.example.org', origins: ['https://portal.example.org'] });
    });

    it('leaves out a default origin that is not on the RP id, rather than refusing to start', () => {
      const c = loadConfig({
        DATA_DIR: tmp(),
        PORTAL_URL: 'https://portal.example.org',
        APP_URL: 'http://127.0.0.1:3000',
      });
      expect(c.webauthn.origins).toEqual(['https://portal.example.org']);
    });

    it('reads an RP id and origins on it or under it, without duplicates', () => {
      const c = loadConfig({
        DATA_DIR: tmp(),
        WEBAUTHN_RP_ID: 'example.org',
        WEBAUTHN_ORIGINS: 'https://example.org, https://app.example.org:8443,https://example.org',
      });
      expect(c.webauthn).toEqual({
        rpId: 'example.org',
        origins: ['https://example.org', 'https://app.example.org:8443'],
      });
    });

    it('refuses an RP id that is not a domain, and origins that are not origins of it', () => {
      for (const rpId of ['https://example.org', 'example.org:443', 'example.org/x', 'exa mple.org', '-x.org']) {
        expect(problemsOf({ WEBAUTHN_RP_ID: rpId })).toMatch(/WEBAUTHN_RP_ID/);
      }
      const origins = (o: string) => problemsOf({ WEBAUTHN_RP_ID: 'example.org', WEBAUTHN_ORIGINS: o });
      expect(origins('https://evil.org')).toMatch(/not on WEBAUTHN_RP_ID/);
      expect(origins('https://notexample.org')).toMatch(/not on WEBAUTHN_RP_ID/);
      expect(origins('https://example.org/login')).toMatch(/an origin alone/);
      expect(origins('ftp://example.org')).toMatch(/must use https/);
      expect(origins('example.org')).toMatch(/is not an origin/);
    });

    it('in production: https origins only, except localhost', () => {
      const prod = {
        NODE_ENV: 'production',
        JWT_SECRET: 'k8Qz3vN1pX7rT5wY2bM9cF4hJ6sD0gLaEuRiOo',
        ADMIN_PASSWORD: 'Adm1n-Correct-Horse',
        WEBAUTHN_RP_ID: 'example.org',
      };
      expect(problemsOf({ ...prod, WEBAUTHN_ORIGINS: 'http://app.example.org' })).toMatch(
        /must use https: in production/,
      );
      expect(problemsOf({ ...prod, WEBAUTHN_ORIGINS: 'https://app.example.org' })).not.toMatch(/WEBAUTHN/);
      expect(
        problemsOf({ ...prod, WEBAUTHN_RP_ID: 'localhost', WEBAUTHN_ORIGINS: 'http://localhost:3000' }),
      ).not.toMatch(/WEBAUTHN/);
    });
  });

  it('reads rate limits, lists and TRUST_PROXY', () => {
    const c = loadConfig({
      DATA_DIR: tmp(),
      RATE_LIMIT_LOGIN: 'off',
      RATE_LIMIT_DEFAULT: '1000/1s',
      CORS_ORIGINS: 'https://a.example, https://b.example ,',
      TRUST_PROXY: 'true',
    });
    expect(c.rateLimits.login).toBeNull();
    expect(c.rateLimits.default).toEqual({ limit: 1000, ttlMs: 1000 });
    expect(c.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(c.trustProxy).toBe(true);
    expect(problemsOf({ TRUST_PROXY: '2' })).toMatch(/TRUST_PROXY: a hop count is not supported/);
    expect(loadConfig({ DATA_DIR: tmp(), TRUST_PROXY: '10.0.0.0/8' }).trustProxy).toBe('10.0.0.0/8');
  });
});

describe('SSO_REDIRECT_ORIGINS', () => {
  const prod = { NODE_ENV: 'production', JWT_SECRET: 'q8Zr1vT3kLm9PwX2bN7cY4hJ6fD0sA5gE-unit', ADMIN_PASSWORD: 'x' };

  it('is empty by default and reads a comma-separated list of origins', () => {
    expect(loadConfig({ DATA_DIR: tmp() }).ssoRedirectOrigins).toEqual([]);
    expect(
      loadConfig({ DATA_DIR: tmp(), SSO_REDIRECT_ORIGINS: 'https://a.example, http://localhost:3001/' })
        .ssoRedirectOrigins,
    ).toEqual(['https://a.example', 'http://localhost:3001']);
  });

  it('refuses a path, a non-http scheme, and plain http off loopback in production', () => {
    expect(() => loadConfig({ DATA_DIR: tmp(), SSO_REDIRECT_ORIGINS: 'https://a.example/app' })).toThrow(
      /SSO_REDIRECT_ORIGINS: "https:\/\/a.example\/app" must be an http\(s\) origin/,
    );
    expect(() => loadConfig({ DATA_DIR: tmp(), SSO_REDIRECT_ORIGINS: 'ftp://a.example' })).toThrow(
      /SSO_REDIRECT_ORIGINS/,
    );
    expect(() => loadConfig({ ...prod, DATA_DIR: tmp(), SSO_REDIRECT_ORIGINS: 'http://a.example' })).toThrow(
      /SSO_REDIRECT_ORIGINS: "http:\/\/a.example" must use https in production/,
    );
  });
});

describe('the OAuth provider settings (API.md 16)', () => {
  it('defaults to APP_URL as the issuer, registration off, 10m / 30d / 60s', () => {
    const c = loadConfig({ DATA_DIR: tmp(), APP_URL: 'https://id.example.org' });
    expect(c.oauth).toEqual({
      issuer: 'https://id.example.org',
      dynamicRegistration: false,
      accessTokenTtlSec: 600,
      refreshTokenTtlSec: 2_592_000,
      codeTtlSec: 60,
    });
  });

  it('reads OIDC_ISSUER, OAUTH_DYNAMIC_REGISTRATION and the lifetimes', () => {
    const c = loadConfig({
      DATA_DIR: tmp(),
      OIDC_ISSUER: 'https://login.example.org/',
      OAUTH_DYNAMIC_REGISTRATION: 'on',
      OAUTH_ACCESS_TOKEN_TTL: '5m',
      OAUTH_REFRESH_TOKEN_TTL: '7d',
      OAUTH_CODE_TTL: '30s',
    });
    expect(c.oauth).toMatchObject({
      issuer: 'https://login.example.org',
      dynamicRegistration: true,
      accessTokenTtlSec: 300,
      refreshTokenTtlSec: 604_800,
      codeTtlSec: 30,
    });
  });

  it.each([
    [{ OAUTH_DYNAMIC_REGISTRATION: 'yes' }, /OAUTH_DYNAMIC_REGISTRATION: "yes" must be on or off/],
    [{ OAUTH_CODE_TTL: '1h' }, /OAUTH_CODE_TTL: must be from 1s to 10m/],
    [{ OAUTH_ACCESS_TOKEN_TTL: 'soon' }, /OAUTH_ACCESS_TOKEN_TTL/],
    [{ OIDC_ISSUER: 'ftp://id.example.org' }, /OIDC_ISSUER: must use http: or https:/],
  ])('refuses %p', (env, problem) => {
    expect(problemsOf(env as Record<string, string>)).toMatch(problem);
  });
});
