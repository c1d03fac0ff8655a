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
  await app.listen({ port: config.port, host: config.host });
  new Logger('Bootstrap').log(`listening on http://${config.host}:${config.port} (OpenAPI at /docs)`);
}

main().catch((e: unknown) => {
  process.stderr.write(`fatal: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
