import { markTracingEnabled } from './route-template';

export interface Tracing {
  endpoint: string;
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry tracing when the standard OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, and does nothing at all otherwise: the SDK is not even
 * loaded. It must run before http, pg and Nest are required, which it patches (main.ts imports
 * start-tracing.ts before anything else).
 */
export function startTracing(env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!endpoint || env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const protocol = (
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ??
    env.OTEL_EXPORTER_OTLP_PROTOCOL ??
    'http/protobuf'
  ).trim();
  if (protocol !== 'http/protobuf') {
    process.stderr.write(
      `OTEL_EXPORTER_OTLP_PROTOCOL=${protocol}: traces are sent as OTLP over HTTP with protobuf (http/protobuf) only\n`,
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the SDK is loaded only when tracing is on
  const { startSdk } = require('./otel') as typeof import('./otel');
  const { sdk, fastifyPlugin } = startSdk();
  markTracingEnabled(fastifyPlugin);
  return { endpoint, shutdown: () => sdk.shutdown() };
}
