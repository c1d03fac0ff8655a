import './runtime';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig } from './config/config';
import { createApp } from './app.factory';

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
  // Our own handlers rather than Nest's shutdown hooks, which re-raise the signal after closing and so
  // end with 143 instead of 0. In-flight requests finish; new connections are refused meanwhile.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: finishing in-flight requests and shutting down`);
    // HTTP first: Fastify stops accepting, lets the requests in flight finish, and only then do the
    // modules (the database pool among them) shut down. Nest's own close would do it the other way round.
    app
      .getHttpAdapter()
      .getInstance()
      .close()
      .then(() => app.close())
      .then(() => process.exit(0))
      .catch((e: unknown) => {
        process.stderr.write(`shutdown failed: ${(e as Error)?.stack ?? String(e)}\n`);
        process.exit(1);
      });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
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
