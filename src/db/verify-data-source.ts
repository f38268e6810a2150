import type { DataSource } from 'typeorm';
import { webhookEntities } from '../entities';
import { webhookMigrations } from '../migrations';
import { ConfigurationError } from '../options';
import { dialectOf, isSupportedType, SUPPORTED_TYPES } from './dialect';

const OUR_TARGETS = new Set<unknown>(webhookEntities);

/** Our migrations that the DataSource's migrations table does not list as run. */
async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const ours = webhookMigrations.map((migration) => new migration().name);
  const table = dataSource.driver.escape(dataSource.options.migrationsTableName ?? 'migrations');
  let ran: Set<string>;
  try {
    const rows: { name: string }[] = await dataSource.query(`SELECT name FROM ${table}`);
    ran = new Set(rows.map((row) => row.name));
  } catch {
    ran = new Set();
  }
  return ours.filter((name) => !ran.has(name));
}

/**
 * Start-up checks that turn silent data corruption into a clear message:
 * - the DataSource is initialised and our migrations have run;
 * - on MySQL, the driver speaks UTC (`timezone: 'Z'`), or every stored time would shift;
 * - no host entity maps one of our tables with another shape.
 */
export async function verifyDataSource(dataSource: DataSource): Promise<void> {
  if (!dataSource.isInitialized) {
    throw new ConfigurationError(
      'dataSource',
      'is not initialised: call dataSource.initialize() before mounting the router',
    );
  }
  const type = dataSource.options.type;
  if (!isSupportedType(type)) {
    throw new ConfigurationError('dataSource.type', `"${type}" is not supported: use ${SUPPORTED_TYPES.join(', ')}`);
  }
  if (dialectOf(dataSource).engine === 'mysql') {
    const timezone = (dataSource.options as { timezone?: string }).timezone;
    if (timezone !== 'Z' && timezone !== '+00:00') {
      throw new ConfigurationError(
        'dataSource.timezone',
        "must be 'Z' on MySQL/MariaDB so that DevLake's UTC times are stored as sent",
      );
    }
  }
  for (const ours of webhookEntities) {
    const metadata = dataSource.entityMetadatas.find((m) => m.target === ours);
    if (!metadata) {
      throw new ConfigurationError('dataSource.entities', `does not include ${ours.name}: add ...webhookEntities`);
    }
    const theirs = dataSource.entityMetadatas.filter(
      (m) => m.tableName === metadata.tableName && !OUR_TARGETS.has(m.target),
    );
    const ourColumns = new Set(metadata.columns.map((c) => c.databaseName));
    for (const other of theirs) {
      const differs = other.columns.some((c) => !ourColumns.has(c.databaseName));
      if (differs) {
        throw new ConfigurationError(
          'dataSource.entities',
          `the host entity ${String((other.target as { name?: string }).name ?? other.target)} maps table ${metadata.tableName} with columns the plugin does not know`,
        );
      }
    }
  }
  const pending = await pendingMigrations(dataSource);
  if (pending.length > 0) {
    throw new ConfigurationError(
      'dataSource.migrations',
      `${pending.join(', ')} not applied: add ...webhookMigrations and run dataSource.runMigrations() at start-up`,
    );
  }
}
