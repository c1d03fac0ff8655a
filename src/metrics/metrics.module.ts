import { DynamicModule, Global, Module } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/config';
import { Metrics, PoolState } from './metrics';

interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options: { max: number };
}

/** The pool that TypeORM's PostgreSQL driver keeps, read at scrape time. */
function poolState(moduleRef: ModuleRef): PoolState | undefined {
  let ds: DataSource | undefined;
  try {
    ds = moduleRef.get(DataSource, { strict: false });
  } catch {
    return undefined;
  }
  const pool = (ds?.driver as unknown as { master?: PgPool } | undefined)?.master;
  if (!pool) return undefined;
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max };
}

/**
 * `Metrics` for every module: the counting one with METRICS_PORT set, else the base class that counts
 * nothing. prom-client is required only in the first case.
 */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: MetricsModule,
      providers: [
        {
          provide: Metrics,
          inject: [ModuleRef],
          useFactory: (moduleRef: ModuleRef): Metrics => {
            if (config.ops.metricsPort === null) return new Metrics();
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when metrics are on
            const { PrometheusMetrics } = require('./prometheus') as typeof import('./prometheus');
            return new PrometheusMetrics(() => poolState(moduleRef));
          },
        },
      ],
      exports: [Metrics],
    };
  }
}
