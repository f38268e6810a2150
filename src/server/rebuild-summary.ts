import { rebuildDeploymentSummaries } from '../deployments/deployment-summary';
import { withTransaction } from '../db/transaction';
import { DevLakeDoraTables } from '../dora/devlake-dora-tables';
import { rebuildLeadTimes } from '../dora/lead-time.store';
import { ConfigurationError } from '../options';
import { DEFAULT_DB_URL, describeDatabase, parseDbUrl } from './config';
import { createDataSource } from './data-source';

/**
 * `npm run rebuild-summary`: recomputes what is derived from DevLake's rows, for a database that
 * DevLake itself (or anything besides this plugin) also writes, or after a crash between a write
 * and its background refresh: the deployment summary and the pull requests' lead times that DORA
 * reads, then DevLake's DORA dashboard tables (every project's incident links, every webhook
 * scope's chain of successful deployments). Reads `DB_URL` as the server does; runs pending migrations first, so the tables
 * exist. Safe to run while the server runs: one transaction each.
 */
export async function rebuildSummary(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const database = parseDbUrl(env.DB_URL ?? DEFAULT_DB_URL);
  const dataSource = createDataSource(database, { poolSize: 1 });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
    const started = Date.now();
    const count = await rebuildDeploymentSummaries(dataSource);
    process.stdout.write(
      `deployment summary rebuilt on ${describeDatabase(database)}: ${count} counted deployment(s) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    const leadStarted = Date.now();
    const changes = await withTransaction(dataSource, (manager) => rebuildLeadTimes(manager));
    process.stdout.write(
      `lead times rebuilt: ${changes} merged pull request(s) in ${((Date.now() - leadStarted) / 1000).toFixed(1)} s\n`,
    );
    const tablesStarted = Date.now();
    await withTransaction(dataSource, (manager) => new DevLakeDoraTables().rebuildAll(manager));
    process.stdout.write(
      `DevLake's DORA tables rebuilt (incident links, previous successful deployments) in ${((Date.now() - tablesStarted) / 1000).toFixed(1)} s\n`,
    );
    return count;
  } finally {
    await dataSource.destroy();
  }
}

if (require.main === module) {
  rebuildSummary().catch((error: unknown) => {
    const message = error instanceof ConfigurationError || error instanceof Error ? error.message : String(error);
    process.stderr.write(`rebuild-summary: ${message}\n`);
    process.exit(1);
  });
}
