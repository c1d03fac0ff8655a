import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { parse as parseQueryString } from 'node:querystring';
import { AppModule, AppModuleOptions } from './app.module';
import { exceedsDepth } from './common/body-depth';
import { DomainError } from './common/errors/domain-error';
import { AppConfig } from './config/config';
import type { FastifyBodyParser, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DialectRegistry } from './common/errors/dialect-registry';
import { apiSecurityHeaders, securityHeaders } from './common/security-headers';
import { renderError } from './common/errors/dialects';
import { normalizeError } from './common/errors/normalize';
import { SUBMIT_BODY_LIMIT } from './assessments/assessment-sessions.controller';
import { createLoggers, logRequests, NestPinoLogger } from './logging';
import { Metrics } from './metrics/metrics';
import { ROUTE_TEMPLATE, tracingEnabled, tracingFastifyPlugin } from './telemetry/route-template';
import { declarePassportRequestFields } from './access/passport';
import { ASSETS_PREFIX, assetSecurityHeaders, isPageUrl, pageSecurityHeaders, webRoot } from './pages/pages';

export const BODY_LIMIT = 1024 * 1024;
let dialects: DialectRegistry | undefined;
/** Assessment results may be large; every other route keeps the 1 MiB limit (API.md section 0). */
const LARGE_BODY_ROUTES = new Map([['/api/submit', SUBMIT_BODY_LIMIT]]);

export function buildOpenApi(app: NestFastifyApplication) {
  const doc = new DocumentBuilder()
    .setTitle('Identity service')
    .setDescription(
      'One identity service, four surfaces: the research portal (`/api/...`, JWT), the clinical app ' +
        '(`/api/login`, `/api/register`, ...), the key:token API (`/users...`, HTTP Basic) and the IAM API ' +
        '(`/v1/...`, `Authorization: Token <key>`). Errors take the shape of the surface that answers.',
    )
    .setVersion('1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .addBasicAuth({ type: 'http', scheme: 'basic', description: 'base64(key:token)' }, 'basic')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'Authorization', description: 'Token <key>' }, 'token')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api-key')
    .addCookieAuth('auth_token')
    .build();
  return SwaggerModule.createDocument(app, doc);
}

/**
 * The two body parsers, registered here rather than by Nest (`bodyParser: false`), so that the JSON one
 * can take an empty body for no body: the NeuroIO SDK sends every DELETE with `Content-Type:
 * application/json` and nothing after it, which Fastify's parser refuses (400, empty JSON body). An
 * empty body reaches the route as no body at all, so a route that needs one still gets its validation
 * error in its surface's words. Anything else goes to Fastify's own secure parser: prototype and
 * constructor poisoning are refused, malformed JSON is a 400. A body of only whitespace is not empty:
 * it stays malformed JSON. Fastify runs a parser only for its content type, so the check costs nothing
 * on the other requests.
 */
function registerBodyParsers(fastify: FastifyInstance, bodyLimit: number): void {
  const secureJson = fastify.getDefaultJsonParser('error', 'error');
  const json: FastifyBodyParser<string> = (req, body, done) => {
    if (body.length === 0) done(null, undefined);
    else void secureJson(req, body, done);
  };
  // As Nest's own: a flat object of strings (arrays for repeated keys), without a prototype.
  const form: FastifyBodyParser<string> = (_req, body, done) => done(null, parseQueryString(body));
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, json);
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit }, form);
}

/**
 * Request counts and latencies by route template (`/api/users/:id`, never the path itself: one series per
 * route, not per user). Nothing is added when metrics are off. A request that matched no route is
 * `unmatched`.
 */
function countRequests(fastify: FastifyInstance, metrics: Metrics): void {
  if (!metrics.enabled) return;
  fastify.addHook('onResponse', (req, reply, done) => {
    metrics.httpRequest(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

/** Builds the application exactly as production runs it; tests use the same function. */
export async function createApp(config: AppConfig, options: AppModuleOptions = {}): Promise<NestFastifyApplication> {
  // The server-wide limit is the largest; each route gets its own below (a route's limit takes precedence).
  const bodyLimit = Math.max(BODY_LIMIT, ...LARGE_BODY_ROUTES.values());
  const adapter = new FastifyAdapter({
    bodyLimit,
    trustProxy: config.trustProxy,
    // Ids and keys in paths are at most a few dozen characters; anything longer is no route.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    // No Nest middleware is used (logging, CORS and headers are Fastify hooks), so middie, which would run
    // on every request, is not registered.
    skipMiddie: true,
    // Malformed URLs (bad percent-encoding, over-long ids) are refused before routing; they still get
    // the surface's error shape.
    frameworkErrors: ((error: Error, req: FastifyRequest, reply: FastifyReply) => {
      const e = normalizeError(error);
      const dialect = dialects?.resolve(undefined, req.url) ?? 'portal';
      void reply
        .status(e.status)
        .header('Content-Type', 'application/json; charset=utf-8')
        .send(renderError(dialect, e));
    }) as never,
  });
  const loggers = createLoggers(config, options.logStream);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config), adapter, {
    // The logger from the first line on (not `bufferLogs`, whose lines all carry the time of their
    // flush at the end of start-up): each line carries the time of its event.
    logger: new NestPinoLogger(loggers.app),
    abortOnError: false,
    bodyParser: false,
  });
  dialects = app.get(DialectRegistry);
  // Bodies are JSON or forms. Fastify would also parse text/plain, a content type that browsers send
  // cross-site without a CORS preflight; refusing it (415) closes that door.
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeContentTypeParser('text/plain');
  declarePassportRequestFields(fastify);
  registerBodyParsers(fastify, bodyLimit);
  logRequests(fastify, loggers);
  countRequests(fastify, app.get(Metrics));
  if (tracingEnabled()) {
    // Spans of the request's lifecycle, its hooks and its handler, under the HTTP span; before the routes.
    await app.register(tracingFastifyPlugin() as never);
    // The HTTP span is named by this template when it ends (src/telemetry/otel.ts).
    fastify.addHook('onRequest', (req, _reply, done) => {
      (req.raw as typeof req.raw & { [ROUTE_TEMPLATE]?: string })[ROUTE_TEMPLATE] = req.routeOptions.url ?? 'unmatched';
      done();
    });
  }
  fastify.addHook('preValidation', (req, _reply, done) => {
    done(
      req.body !== undefined && exceedsDepth(req.body)
        ? new DomainError('BAD_REQUEST', 'Request body is nested too deeply')
        : undefined,
    );
  });
  fastify.addHook('onRoute', (route) => {
    route.bodyLimit = LARGE_BODY_ROUTES.get(route.url.replace(/\/+$/, '')) ?? BODY_LIMIT;
  });
  await app.register(fastifyCookie);
  const hsts = config.env === 'production';
  const apiHeaders = apiSecurityHeaders(hsts);
  // Swagger UI is an HTML page with its own scripts and styles: it gets helmet's set for pages.
  const docsHeaders = securityHeaders({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: [`'self'`],
        styleSrc: [`'self'`, `'unsafe-inline'`],
        imgSrc: [`'self'`, 'data:', 'validator.swagger.io'],
        scriptSrc: [`'self'`],
      },
    },
    strictTransportSecurity: hsts,
  });
  // The pages of API.md 9 and their assets: a strict policy of their own (src/pages/pages.ts).
  const pageHeaders = pageSecurityHeaders(hsts);
  const assetHeaders = assetSecurityHeaders(hsts);
  fastify.addHook('onRequest', (req, reply, done) => {
    const url = req.url;
    reply.headers(
      url.startsWith('/api/')
        ? apiHeaders
        : url.startsWith('/docs')
          ? docsHeaders
          : url.startsWith(ASSETS_PREFIX)
            ? assetHeaders
            : isPageUrl(url)
              ? pageHeaders
              : apiHeaders,
    );
    done();
  });
  const web = webRoot();
  if (web) {
    // One route per built file (no wildcard): any other path under /assets/ is the API's ordinary 404.
    await app.register(fastifyStatic as never, {
      root: join(web, 'assets'),
      prefix: ASSETS_PREFIX,
      wildcard: false,
      index: false,
      decorateReply: false,
      cacheControl: false,
    });
  }
  if (config.corsOrigins.length) {
    app.enableCors({
      origin: config.corsOrigins,
      credentials: true,
      allowedHeaders: ['Authorization', 'Content-Type', 'X-API-Key', 'X-Session-ID', 'X-CSRF-Token'],
      exposedHeaders: [
        'Retry-After',
        'X-RateLimit-Limit',
        'X-RateLimit-Remaining',
        'X-RateLimit-Reset',
        'WWW-Authenticate',
      ],
    });
  }
  SwaggerModule.setup('docs', app, () => buildOpenApi(app), { jsonDocumentUrl: 'docs-json' });
  await app.init();
  return app;
}
