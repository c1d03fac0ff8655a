/**
 * The route template of a request, put on the raw request by a Fastify hook while tracing is on, so that
 * the HTTP server span (which only sees node's request) is named `POST /api/users/:id`, never by the path.
 */
export const ROUTE_TEMPLATE = Symbol.for('identity-service.routeTemplate');

let tracing = false;
/** @fastify/otel's plugin, registered on the application's Fastify before its routes (app.factory.ts). */
let fastifyPlugin: unknown;

export function tracingEnabled(): boolean {
  return tracing;
}

export function markTracingEnabled(plugin?: unknown): void {
  tracing = true;
  fastifyPlugin = plugin;
}

export function tracingFastifyPlugin(): unknown {
  return fastifyPlugin;
}
