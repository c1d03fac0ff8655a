import FastifyOtelInstrumentation from '@fastify/otel';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK, resources, tracing } from '@opentelemetry/sdk-node';
import type { IncomingMessage } from 'node:http';
import { Attributes, redactAttributes } from './redact';
import { ROUTE_TEMPLATE } from './route-template';

/**
 * Loaded only when OTEL_EXPORTER_OTLP_ENDPOINT is set (tracing.ts). The OpenTelemetry Node SDK with the
 * HTTP, Fastify (@fastify/otel: the request, its hooks and the handler) and pg instrumentations, exporting OTLP over HTTP (protobuf, the protocol's default) to
 * the standard variables' endpoint; every span passes through redaction on its way out.
 */

type ReadableSpan = tracing.ReadableSpan;
type ExportDone = Parameters<tracing.SpanExporter['export']>[1];

/** A span as exported: the same span, with its attributes (and those of its events) redacted. */
function redactSpan(span: ReadableSpan): ReadableSpan {
  const route = typeof span.attributes['http.route'] === 'string' ? span.attributes['http.route'] : undefined;
  return Object.create(span, {
    attributes: { value: redactAttributes(span.attributes as Attributes, route) },
    events: {
      value: span.events.map((e) => ({
        ...e,
        attributes: e.attributes && redactAttributes(e.attributes as Attributes),
      })),
    },
  }) as ReadableSpan;
}

class RedactingExporter implements tracing.SpanExporter {
  constructor(private readonly inner: tracing.SpanExporter) {}
  export(spans: ReadableSpan[], done: ExportDone): void {
    this.inner.export(spans.map(redactSpan), done);
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * The Nest instrumentation of OpenTelemetry stops at NestJS 11 (`>=4 <12`), so the layer above HTTP is
 * traced by Fastify's own, @fastify/otel, registered as a plugin on the application's Fastify instance
 * (app.factory.ts) rather than by hooking `require('fastify')`, which Nest 12 (an ES module) does not call.
 */
export function startSdk(): { sdk: NodeSDK; fastifyPlugin: unknown } {
  const fastify = new FastifyOtelInstrumentation({
    ignorePaths: (route) => /^\/api\/health(\/|$)/.test(route.url),
  });
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME ?? 'identity-service',
    // The resource says which service and host; the process detector would add the command line.
    resourceDetectors: [resources.envDetector, resources.hostDetector],
    // Batched (OTEL_BSP_* tune it); the exporter reads OTEL_EXPORTER_OTLP_* itself.
    spanProcessors: [new tracing.BatchSpanProcessor(new RedactingExporter(new OTLPTraceExporter()))],
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes would be most of the traffic and tell nothing.
        ignoreIncomingRequestHook: (req) => /^\/api\/health(\/|$|\?)/.test(req.url ?? ''),
        // The service calls out only to SMTP, SMS webhooks and identity providers: no span for the
        // collector's own requests either (the exporter suppresses those).
        applyCustomAttributesOnSpan: (span, request) => {
          const route = (request as IncomingMessage & { [ROUTE_TEMPLATE]?: string })[ROUTE_TEMPLATE];
          if (!route) return;
          span.updateName(`${(request as IncomingMessage).method ?? 'GET'} ${route}`);
          span.setAttribute('http.route', route);
        },
      }),
      fastify,
      // Statements only (with their $1 placeholders), never the values bound to them.
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
    ],
  });
  sdk.start();
  return { sdk, fastifyPlugin: fastify.plugin() };
}
