import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.factory';
import { AppConfig, loadConfig, RATE_LIMITS_OFF } from '../../src/config/config';
import { SmtpCatcher } from './smtp-catcher';

export const ADMIN_EMAIL = 'admin@test.example.org';
export const ADMIN_PASSWORD = 'Adm1n-Correct-Horse';
export const TEST_JWT_SECRET = 'e2e-only-jwt-key-0123456789abcdefghijklmnop';

/** Each Jest worker has a database of its own on the run's PostgreSQL server. */
export function workerDatabaseUrl(): string {
  const base = process.env.TEST_DATABASE_URL;
  if (!base)
    throw new Error('TEST_DATABASE_URL is not set: run the tests through jest (globalSetup starts PostgreSQL)');
  const url = new URL(base);
  url.pathname = `/identity_w${process.env.JEST_WORKER_ID ?? '1'}`;
  return url.toString();
}

export async function prepareDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const c = new Client({ connectionString: admin.toString() });
  await c.connect();
  try {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await c.query(`CREATE DATABASE "${name}"`);
  } finally {
    await c.end();
  }
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    const { rows } = await db.query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations'`,
    );
    if (rows.length)
      await db.query(`TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(', ')} RESTART IDENTITY CASCADE`);
  } finally {
    await db.end();
  }
}

/** Collects the structured log so that tests can assert on it (and on what it must never contain). */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    cb();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  config: AppConfig;
  smtp: SmtpCatcher;
  logs: LogCapture;
  db: DataSource;
  dataDir: string;
  /** Stops the service and starts it again on the same database and configuration. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

async function listen(config: AppConfig, logs: LogCapture, wanted: number) {
  const app = await createApp(config, { logStream: logs });
  await app.listen({ port: wanted, host: '127.0.0.1' });
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}`, db: app.get(DataSource) };
}

/**
 * The real AppModule on the worker's database (tables emptied first), a real SMTP server, and the
 * service listening on a loopback port. Rate limits are off unless a suite turns one on.
 */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const { KEEP_DATABASE: keep, ...rest } = env;
  env = rest;
  // A loopback port of the caller's choosing, when its configuration must name its own origin
  // (PORTAL_URL, WEBAUTHN_ORIGINS: the browser suite); otherwise any free one.
  const port = env.PORT ? Number(env.PORT) : 0;
  const databaseUrl = workerDatabaseUrl();
  // A second instance on the same database (KEEP_DATABASE) must not empty the first one's tables.
  if (!keep) await prepareDatabase(databaseUrl);
  const smtp = new SmtpCatcher();
  await smtp.start();
  const dataDir = mkdtempSync(join(tmpdir(), 'identity-e2e-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    JWT_SECRET: TEST_JWT_SECRET,
    SMTP_URL: smtp.url,
    MAIL_FROM: 'Identity <no-reply@test.example.org>',
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    LOG_LEVEL: 'info',
    ...RATE_LIMITS_OFF,
    ...env,
  });
  const logs = new LogCapture();
  const t: TestApp = {
    ...(await listen(config, logs, port)),
    config,
    smtp,
    logs,
    dataDir,
    restart: async () => {
      await t.app.close();
      Object.assign(t, await listen(config, logs, port));
    },
    close: async () => {
      await t.app.close();
      await smtp.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}
