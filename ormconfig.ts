/**
 * The TypeORM CLI's DataSource for this repository, built exactly as the standalone server
 * builds it from DB_URL, e.g.:
 *   DB_URL=mysql://root@127.0.0.1:3306/devlake npx typeorm-ts-node-commonjs migration:show -d ormconfig.ts
 */
import 'reflect-metadata';
import { loadConfig } from './src/server/config';
import { createDataSource } from './src/server/data-source';

export default createDataSource(loadConfig().database);
