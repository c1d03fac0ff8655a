import { DynamicModule, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { dataSourceOptions, Entities, runMigrations } from './data-source-options';
import { RunningPostgres, startEmbeddedPostgres } from './embedded-postgres';

/**
 * Resolves where the database is: `DATABASE_URL`, or a PostgreSQL server of our own in `DATA_DIR`
 * that lives and dies with the service.
 */
@Injectable()
export class DatabaseLocator implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private embedded?: RunningPostgres;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly moduleRef: ModuleRef,
  ) {}

  async url(): Promise<string> {
    if (this.config.databaseUrl) return this.config.databaseUrl;
    this.embedded ??= await startEmbeddedPostgres({
      dir: this.config.dataDir,
      database: 'identity',
      log: (m, level = 'info') => (level === 'info' ? this.logger.log(m) : this.logger[level](m)),
    });
    return this.embedded.url;
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.embedded) return;
    // The pool must close before the server it talks to goes away.
    const ds = this.moduleRef.get(DataSource, { strict: false });
    if (ds?.isInitialized) await ds.destroy();
    await this.embedded.stop();
    this.logger.log('embedded PostgreSQL stopped');
    this.embedded = undefined;
  }
}

@Module({ providers: [DatabaseLocator], exports: [DatabaseLocator] })
class DatabaseLocatorModule {}

@Module({})
export class DatabaseModule {
  static forRoot(entities: Entities): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          imports: [DatabaseLocatorModule],
          inject: [DatabaseLocator],
          useFactory: async (locator: DatabaseLocator) => dataSourceOptions(await locator.url(), entities),
          dataSourceFactory: async (options) => {
            const logger = new Logger('Database');
            const ds = await new DataSource(options!).initialize();
            const started = Date.now();
            const applied = await runMigrations(ds, (m) => logger.log(m));
            if (applied.length) {
              logger.log(`applied migrations: ${applied.join(', ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
            }
            return ds;
          },
        }),
      ],
    };
  }
}
