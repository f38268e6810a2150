import type { DataSource, EntityManager } from 'typeorm';
import { dialectOf } from '../db/dialect';
import { withTransaction } from '../db/transaction';

/**
 * The deployment summary: one row per deployment that DORA counts (docs/dora.md
 * "Definitions": a deployment id with at least one `cicd_deployment_commits` row that is
 * `SUCCESS` in `PRODUCTION` and has a finish), with what DORA reads of it:
 *
 * - `finished_date`: its time, the latest `finished_date` of those rows;
 * - `started_date`: its start, the earliest `started_date` of those rows (a row without one: its
 *   `finished_date`);
 * - `ref_low` / `ref_high`: the smallest and largest `ref_name` of those rows, from which lead
 *   time reads its branch (one branch, or none).
 *
 * It is derived from DevLake's rows only, never the other way round, so it can always be
 * rebuilt: the plugin refreshes a deployment's row in the transaction that writes the
 * deployment, and `rebuildDeploymentSummaries` recomputes every row for a database that DevLake
 * (or anything else) also writes. Deleting or renaming a connection and linking it to projects
 * change no deployment row, so they leave the summary as it is: it is keyed by scope
 * (`webhook:<id>`), and projects are resolved through `project_mapping` when DORA is asked.
 */
export const DEPLOYMENT_SUMMARY_TABLE = '_tool_webhook_deployment_summaries';

/** What DORA counts: the same literals as the DORA queries. */
const COUNTED_ROW = `c.environment = 'PRODUCTION' AND c.result = 'SUCCESS' AND c.finished_date IS NOT NULL`;

const INSERT_SUMMARY = `INSERT INTO ${DEPLOYMENT_SUMMARY_TABLE}
    (cicd_deployment_id, cicd_scope_id, finished_date, started_date, ref_low, ref_high)
  SELECT c.cicd_deployment_id, MIN(c.cicd_scope_id), MAX(c.finished_date),
         MIN(COALESCE(c.started_date, c.finished_date)), MIN(c.ref_name), MAX(c.ref_name)
    FROM cicd_deployment_commits c
   WHERE ${COUNTED_ROW}`;

/** IN lists stay far below SQLite's and MySQL's parameter limits. */
const BATCH = 500;

type Runner = DataSource | EntityManager;

/**
 * Recomputes the summary rows of the given deployments (`cicd_deployments.id`) from their
 * commit rows. Call it inside the transaction that wrote those rows, so that readers never see
 * a deployment without its summary or the other way round. Two statements per 500 ids.
 */
export async function refreshDeploymentSummaries(manager: EntityManager, deploymentIds: string[]): Promise<void> {
  const ids = [...new Set(deploymentIds)];
  for (let start = 0; start < ids.length; start += BATCH) {
    const batch = ids.slice(start, start + BATCH);
    const marks = batch.map(() => '?').join(', ');
    const dialect = dialectOf(manager);
    await manager.query(
      dialect.sql(`DELETE FROM ${DEPLOYMENT_SUMMARY_TABLE} WHERE cicd_deployment_id IN (${marks})`),
      batch,
    );
    await manager.query(
      dialect.sql(`${INSERT_SUMMARY} AND c.cicd_deployment_id IN (${marks}) GROUP BY c.cicd_deployment_id`),
      batch,
    );
  }
}

/**
 * Recomputes the whole summary from `cicd_deployment_commits`, in one transaction: for a
 * database that DevLake itself also writes (its pipelines rewrite deployment rows without
 * telling the plugin), after a restore, or after editing rows by hand. Readers see the old
 * summary until it commits. Returns the number of summarised deployments.
 *
 * Run it with `npm run rebuild-summary` (which reads `DB_URL` like the server), or call it from
 * a host with the host's DataSource after a DevLake pipeline run.
 */
export async function rebuildDeploymentSummaries(db: Runner): Promise<number> {
  const run = async (manager: EntityManager) => {
    await manager.query(`DELETE FROM ${DEPLOYMENT_SUMMARY_TABLE}`);
    await manager.query(`${INSERT_SUMMARY} GROUP BY c.cicd_deployment_id`);
    const rows = (await manager.query(`SELECT COUNT(*) AS n FROM ${DEPLOYMENT_SUMMARY_TABLE}`)) as { n: unknown }[];
    return Number(rows[0]?.n ?? 0);
  };
  return 'driver' in db ? withTransaction(db, run) : run(db);
}
