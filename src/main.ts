import './runtime';
// Before anything that OpenTelemetry patches (http, pg, Nest) is loaded; nothing happens unless
// OTEL_EXPORTER_OTLP_ENDPOINT is set.
import { tracing } from './telemetry/start-tracing';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { Server } from 'node:http';
import { ConfigError, loadConfig } from './config/config';
import { createApp } from './app.factory';
import { ReadinessService } from './health/readiness.service';
import { Metrics } from './metrics/metrics';
import { closeMetricsServer, listenForMetrics } from './metrics/metrics-server';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw e;
  }
  const app = await createApp(config);
  const logger = new Logger('Bootstrap');
  let metrics: Server | undefined;
  // Our own handlers rather than Nest's shutdown hooks, which re-raise the signal after closing and so
  // end with 143 instead of 0. In-flight requests finish; new connections are refused meanwhile.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    // Readiness turns 503 first (API.md 13); with SHUTDOWN_DRAIN the API goes on serving meanwhile, so
    // that a load balancer that probes readiness stops sending before the listener closes.
    app.get(ReadinessService).markStopping();
    const drain = config.ops.shutdownDrainMs;
    logger.log(
      drain
        ? `${signal} received: readiness answers 503; serving ${drain} ms more (SHUTDOWN_DRAIN), then finishing in-flight requests`
        : `${signal} received: finishing in-flight requests and shutting down`,
    );
    // HTTP first: Fastify stops accepting, lets the requests in flight finish, and only then do the
    // modules (the database pool among them) shut down. Nest's own close would do it the other way round.
    new Promise((resolve) => setTimeout(resolve, drain))
      .then(() => metrics && closeMetricsServer(metrics))
      .then(() => app.getHttpAdapter().getInstance().close())
      .then(() => app.close())
      .then(() => tracing?.shutdown())
      .then(() => process.exit(0))
      .catch((e: unknown) => {
        process.stderr.write(`shutdown failed: ${(e as Error)?.stack ?? String(e)}\n`);
        process.exit(1);
      });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const { metricsPort, metricsHost } = config.ops;
  if (metricsPort !== null) {
    metrics = await listenForMetrics(app.get(Metrics), metricsPort, metricsHost);
    logger.log(`metrics on http://${metricsHost}:${metricsPort}/metrics`);
  }
  if (tracing) logger.log(`sending traces to ${tracing.endpoint} (OpenTelemetry, OTLP over HTTP)`);
  await app.listen({ port: config.port, host: config.host });
  logger.log(`listening on http://${config.host}:${config.port} (OpenAPI at /docs)`);
}

main().catch((e: unknown) => {
  // Some configuration can only be judged at start (ADMIN_PASSWORD, once the database says whether an
  // admin exists): it fails like the rest of the configuration.
  if (e instanceof ConfigError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`fatal: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
