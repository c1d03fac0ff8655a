import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { securityHeaders } from '../common/security-headers';

/**
 * The web pages that the service serves (API.md 9), built from `web/` by `npm run build` into
 * `dist/web/<page>.html` and `dist/web/assets/`. A page is a client of the documented API and nothing
 * more, so it needs no route of its own beyond its HTML.
 */
export const PAGES = ['account', 'admin', 'reset', 'oauth'] as const;
export type PageName = (typeof PAGES)[number];

export const ASSETS_PREFIX = '/assets/';

/**
 * Where the built pages are: beside the compiled code (`dist/web`, how production runs), or, when the
 * code runs from `src/` (the e2e suites under ts-jest), in the checkout's `dist/web`.
 */
export function webRoot(): string | undefined {
  return [join(__dirname, '..', 'web'), join(__dirname, '..', '..', 'dist', 'web')].find((dir) =>
    existsSync(join(dir, 'account.html')),
  );
}

/** The HTML of each built page, read once at start (they change only with a new build). */
export function loadPages(root: string | undefined): Map<PageName, Buffer> {
  const pages = new Map<PageName, Buffer>();
  if (!root) return pages;
  for (const name of PAGES) {
    const file = join(root, `${name}.html`);
    if (existsSync(file)) pages.set(name, readFileSync(file));
  }
  return pages;
}

/**
 * The Content-Security-Policy of the pages and their assets: only this origin's scripts, styles and
 * requests, images from here or `data:` (the TOTP QR code), nothing framed, no forms sent elsewhere, no
 * `<base>`. Trusted Types are required too, so that no code on the page (ours or a bundled library's)
 * can write HTML from a string: the pages build their DOM from nodes and text only.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "require-trusted-types-for 'script'",
].join('; ');

/** Helmet's set for HTML pages with the policy above; no caching of a page that shows one-time secrets. */
export function pageSecurityHeaders(hsts: boolean): Record<string, string> {
  const helmet = securityHeaders({
    contentSecurityPolicy: false,
    strictTransportSecurity: hsts,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  // Lower-case names, so that ours replace helmet's rather than travel beside them.
  return {
    ...Object.fromEntries(Object.entries(helmet).map(([name, value]) => [name.toLowerCase(), value])),
    'content-security-policy': PAGE_CSP,
    'cache-control': 'no-store',
  };
}

/** Assets carry no secret and change only with a build: the browser may keep them if it checks first. */
export function assetSecurityHeaders(hsts: boolean): Record<string, string> {
  return { ...pageSecurityHeaders(hsts), 'cache-control': 'no-cache' };
}

const PAGE_PATHS = new Set(PAGES.filter((p) => p !== 'oauth').map((p) => `/${p}`));
/** The page of an OAuth authorization request's interaction (src/oauth/interaction.controller.ts). */
const INTERACTION_PAGE = /^\/interaction\/[A-Za-z0-9_-]{1,64}$/;

/** Whether a request URL is one of the pages (with or without a trailing slash or a query). */
export function isPageUrl(url: string): boolean {
  const path = url.split('?', 1)[0].replace(/\/+$/, '');
  return PAGE_PATHS.has(path) || INTERACTION_PAGE.test(path);
}
