import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import request from 'supertest';
import { ALLOWED_BEFORE_MFA_ENROLMENT, AuthSchemes, IS_PUBLIC, Roles, Sensitive } from '../../src/access/decorators';
import { PagesController } from '../../src/pages/pages.controller';
import { ErrorDialect } from '../../src/common/decorators/error-dialect.decorator';
import { RateLimited, SkipDefaultRateLimit } from '../../src/common/throttle/rate-limit.decorators';
import { startTestApp, TestApp } from '../support/harness';

interface RouteRow {
  route: string;
  public: boolean;
  roles: string;
  schemes: string;
  dialect: string;
  limits: string;
  /**
   * `sensitive` (API.md 12): refused to delegated credentials (unless `delegated allowed`), needs `aal2` once
   * the caller has MFA on, and `aal2` when the account it names (`target`) has MFA on; `when` narrows it.
   */
  sensitive: string;
  /** Reached by a role of MFA_REQUIRED_ROLES before it has a second factor. */
  beforeEnrolment: boolean;
  /** An HTML page of API.md 9 (src/pages), not an API route: it only serves the page's HTML. */
  page: boolean;
}

function sensitiveMark(policy: ReturnType<Reflector['get']> | undefined): string {
  if (!policy) return '';
  const p = policy as { delegated?: string; target?: string; when?: { describe: string } };
  const parts = [
    p.when ? `when ${p.when.describe}` : '',
    p.delegated === 'allowed' ? 'delegated allowed' : '',
    p.target ? `target=:${p.target}` : '',
  ].filter(Boolean);
  return `sensitive${parts.length ? `(${parts.join('; ')})` : ''}`;
}

/** Every route with who may reach it, read from the running application's metadata. */
function routeTable(t: TestApp): RouteRow[] {
  const discovery = t.app.get(DiscoveryService);
  const scanner = t.app.get(MetadataScanner);
  const reflector = t.app.get(Reflector);
  const rows: RouteRow[] = [];
  for (const wrapper of discovery.getControllers()) {
    const { instance, metatype } = wrapper;
    if (!instance || !metatype) continue;
    const base = String(Reflect.getMetadata(PATH_METADATA, metatype) ?? '');
    const proto = Object.getPrototypeOf(instance) as Record<string, object>;
    for (const name of scanner.getAllMethodNames(proto)) {
      const handler = proto[name];
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (method === undefined) continue;
      const path = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
      const targets = [handler, metatype] as never;
      rows.push({
        route: `${RequestMethod[method]} /${[base, path].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/'),
        public: reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) === true,
        roles: reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)
          ? 'anyone'
          : (reflector.getAllAndOverride(Roles, targets) ?? ['any authenticated']).join(', '),
        schemes: (reflector.getAllAndOverride(AuthSchemes, targets) ?? ['all']).join(', '),
        dialect: reflector.getAllAndOverride(ErrorDialect, targets) ?? 'portal',
        limits: [
          ...(reflector.getAllAndOverride(SkipDefaultRateLimit, targets) ? [] : ['default']),
          ...(reflector.getAllAndOverride(RateLimited, targets) ?? []),
        ].join(', '),
        sensitive: sensitiveMark(reflector.getAllAndOverride(Sensitive, targets)),
        beforeEnrolment: reflector.getAllAndOverride<boolean>(ALLOWED_BEFORE_MFA_ENROLMENT, targets) === true,
        page: metatype === PagesController,
      });
    }
  }
  return rows.sort((a, b) => a.route.localeCompare(b.route));
}

describe('who may reach what', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('matches the reviewed route table (a change of access shows up here as what it is)', () => {
    const table = routeTable(t)
      .map(
        (r) =>
          `${r.route.padEnd(42)} ${r.public ? 'PUBLIC' : 'auth  '} roles=[${r.roles}] schemes=[${r.schemes}] dialect=${r.dialect} limits=[${r.limits}]` +
          (r.sensitive ? ` ${r.sensitive}` : '') +
          (r.beforeEnrolment ? ' before-mfa-enrolment' : '') +
          (r.page ? ' page (HTML, not an API route)' : ''),
      )
      .join('\n');
    expect(`\n${table}\n`).toMatchSnapshot();
  });

  it('documents every API route in the OpenAPI document (the pages are not API routes), and serves Swagger UI', async () => {
    const doc = (await request(t.url).get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    for (const page of routeTable(t).filter((r) => r.page)) {
      expect(doc.paths[page.route.split(' ')[1]]).toBeUndefined();
    }
    for (const row of routeTable(t).filter((r) => !r.page)) {
      const [method, path] = row.route.split(' ');
      const openApiPath = path.replace(/:(\w+)/g, '{$1}');
      expect({ route: row.route, documented: Boolean(doc.paths[openApiPath]?.[method.toLowerCase()]) }).toEqual({
        route: row.route,
        documented: true,
      });
    }
    const ui = await request(t.url).get('/docs').expect(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
  });
});
