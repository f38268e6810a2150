import type { DataSource, EntityManager } from 'typeorm';
import { dialectOf } from '../db/dialect';
import { withTransaction } from '../db/transaction';
import { upsertValues } from '../db/upsert';
import { dateOf } from '../db/columns';

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
 * rebuilt: the plugin refreshes a deployment's row right after the write commits, in the
 * background refresh that also keeps DevLake's DORA tables (`refreshDeploymentSummaries`; DORA
 * waits for it before it reads), and `rebuildDeploymentSummaries` recomputes every row for a
 * database that DevLake (or anything else) also writes. Deleting or renaming a connection and linking it to projects
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

/** What the summary needs of one commit row (a `cicd_deployment_commits` row as written). */
export interface SummarisedCommit {
  cicdDeploymentId?: string | null;
  cicdScopeId?: string | null;
  environment?: string | null;
  result?: string | null;
  startedDate?: Date | null;
  finishedDate?: Date | null;
  refName?: string | null;
}

/** One summary row, as `INSERT_SUMMARY` would compute it. */
export interface SummaryRow {
  deploymentId: string;
  scopeId: string;
  finished: Date;
  started: Date;
  refLow: string;
  refHigh: string;
}

/**
 * The summary rows of deployments whose complete commit sets are `commits`, computed the way
 * `INSERT_SUMMARY` computes them in SQL. The write path knows each deployment's commit set (a
 * POST replaces it), so it needs no read of the table it just wrote.
 */
export function summaryRowsOf(commits: SummarisedCommit[]): SummaryRow[] {
  const byDeployment = new Map<string, SummaryRow>();
  for (const commit of commits) {
    const finished = commit.finishedDate;
    if (commit.environment !== 'PRODUCTION' || commit.result !== 'SUCCESS' || !finished) continue;
    const id = commit.cicdDeploymentId as string;
    const started = commit.startedDate ?? finished;
    const ref = commit.refName ?? '';
    const row = byDeployment.get(id);
    if (!row) {
      byDeployment.set(id, {
        deploymentId: id,
        scopeId: commit.cicdScopeId as string,
        finished,
        started,
        refLow: ref,
        refHigh: ref,
      });
      continue;
    }
    if (finished > row.finished) row.finished = finished;
    if (started < row.started) row.started = started;
    if (ref < row.refLow) row.refLow = ref;
    if (ref > row.refHigh) row.refHigh = ref;
  }
  return [...byDeployment.values()];
}

/** A `cicd_deployment_commits` row as read (its column names) in the shape the summary reads. */
export function summarisedCommitOf(row: Record<string, unknown>): SummarisedCommit {
  return {
    cicdDeploymentId: row.cicd_deployment_id as string,
    cicdScopeId: row.cicd_scope_id as string,
    environment: row.environment as string | null,
    result: row.result as string | null,
    startedDate: dateOf(row.started_date),
    finishedDate: dateOf(row.finished_date),
    refName: row.ref_name as string | null,
  };
}

/**
 * Writes the summary of deployments whose complete commit sets are `commits` (every commit row
 * of `deploymentIds`); a deployment among them no longer counted loses its row.
 */
async function writeDeploymentSummaries(
  manager: EntityManager,
  deploymentIds: string[],
  commits: SummarisedCommit[],
): Promise<void> {
  const dialect = dialectOf(manager);
  const rows = summaryRowsOf(commits);
  const summarised = new Set(rows.map((row) => row.deploymentId));
  const gone = [...new Set(deploymentIds)].filter((id) => !summarised.has(id));
  for (let start = 0; start < gone.length; start += BATCH) {
    const batch = gone.slice(start, start + BATCH);
    await manager.query(
      dialect.sql(
        `DELETE FROM ${DEPLOYMENT_SUMMARY_TABLE} WHERE cicd_deployment_id IN (${batch.map(() => '?').join(', ')})`,
      ),
      batch,
    );
  }
  await upsertValues(
    manager,
    DEPLOYMENT_SUMMARY_TABLE,
    ['cicd_deployment_id', 'cicd_scope_id', 'finished_date', 'started_date', 'ref_low', 'ref_high'],
    ['cicd_deployment_id'],
    rows.map((row) => [row.deploymentId, row.scopeId, row.finished, row.started, row.refLow, row.refHigh]),
  );
}

/**
 * Brings the summary rows of `deploymentIds` in line with their committed commit rows: read,
 * computed here, upserted (and removed where a deployment is no longer counted). Run by the
 * background refresh right after the writes commit, so a deployment costs its request no
 * statement for the summary and a burst of deployments costs one read and one upsert.
 *
 * The commit rows are read, not taken from the requests that wrote them: two re-posts of one
 * deployment, in this process or another, may commit in either order, and only what committed
 * last is the truth. Computed in code rather than with `INSERT ... SELECT`, whose read of the
 * commit index takes shared locks on InnoDB (under the refresh's READ COMMITTED it is a plain
 * consistent read either way, but the upsert then only locks its own keys).
 */
export async function refreshDeploymentSummaries(manager: EntityManager, deploymentIds: string[]): Promise<void> {
  const dialect = dialectOf(manager);
  const ids = [...new Set(deploymentIds)];
  for (let start = 0; start < ids.length; start += BATCH) {
    const batch = ids.slice(start, start + BATCH);
    const rows = (await manager.query(
      dialect.sql(
        `SELECT c.cicd_deployment_id, c.cicd_scope_id, c.environment, c.result, c.started_date, c.finished_date, c.ref_name
           FROM cicd_deployment_commits c
          WHERE c.cicd_deployment_id IN (${batch.map(() => '?').join(', ')})`,
      ),
      batch,
    )) as Record<string, unknown>[];
    await writeDeploymentSummaries(manager, batch, rows.map(summarisedCommitOf));
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
