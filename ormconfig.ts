import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './src/database/data-source-options';
import { ENTITIES } from './src/entities';

/**
 * The data source for TypeORM's own CLI (`npx typeorm-ts-node-commonjs -d ormconfig.ts ...`), which
 * needs DATABASE_URL. `npm run migration:*` also works without it, against the embedded database.
 */
if (!process.env.DATABASE_URL) throw new Error('ormconfig.ts: set DATABASE_URL (or use npm run migration:run)');
export default new DataSource(dataSourceOptions(process.env.DATABASE_URL, ENTITIES));
