import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainError } from '../common/errors/domain-error';
import { PagesController } from './pages.controller';
import { assetSecurityHeaders, isPageUrl, loadPages, PAGE_CSP, pageSecurityHeaders } from './pages';

describe('pages (API.md 9)', () => {
  it('knows the page URLs with or without a trailing slash or a query, and nothing under them', () => {
    expect(['/account', '/account/', '/account?code=abc', '/account/?error=x'].every(isPageUrl)).toBe(true);
    expect(['/accounts', '/account/x', '/api/account', '/', '/assets/account.js'].some(isPageUrl)).toBe(false);
  });

  it('gives pages a policy without inline code, eval or other origins, and never lets them be framed', () => {
    expect(PAGE_CSP).not.toMatch(/unsafe-|\*|https?:/);
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "require-trusted-types-for 'script'",
    ]) {
      expect(PAGE_CSP).toContain(directive);
    }
    const page = pageSecurityHeaders(false);
    expect(page).toMatchObject({
      'content-security-policy': PAGE_CSP,
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    expect(page['strict-transport-security']).toBeUndefined();
    expect(pageSecurityHeaders(true)['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(assetSecurityHeaders(false)['cache-control']).toBe('no-cache');
  });

  it('serves the built HTML, and a clear 503 when the pages were not built', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pages-'));
    try {
      writeFileSync(join(dir, 'account.html'), '<!doctype html><title>Your account</title>');
      const reply = { type: jest.fn() };
      const built = new PagesController(loadPages(dir));
      expect(built.account(reply as never).toString()).toContain('Your account');
      expect(reply.type).toHaveBeenCalledWith('text/html; charset=utf-8');
      const unbuilt = new PagesController(loadPages(undefined));
      expect(() => unbuilt.account(reply as never)).toThrow(DomainError);
      try {
        unbuilt.account(reply as never);
      } catch (e) {
        expect((e as DomainError).status).toBe(503);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
