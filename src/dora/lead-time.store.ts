import type { DataSource, EntityManager } from 'typeorm';
import { dialectOf } from '../db/dialect';
import { queryNamed } from '../db/escape-query';
import { upsertValues } from '../db/upsert';
import { DEPLOYMENT_SUMMARY_TABLE } from '../deployments/deployment-summary';
import type { LeadTimeSummary } from './dora.calculations';
import { branchOf, type AttributionRule } from './lead-time.attribution';
import { dateOf } from '../db/columns';
import { branchOfRefs, LeadTimeQueries, type ChangeAttribution, type LeadTimeScope } from './lead-time.queries';

type Runner = DataSource | EntityManager;
type Row = Record<string, unknown>;

/**
 * The lead time of every merged pull request (docs/dora.md "Lead time for changes"): which
 * deployment shipped it, when, by which rule, and its minutes from creation to that deployment.
 * One row per pull request that has a creation and a merge date, whether or not it is deployed
 * yet (`coverage` counts those without one).
 *
 * Derived from DevLake's rows only, like the deployment summary: the background refresh keeps
 * it current after each write (`DoraTablesRefresher`), `rebuildLeadTimes` recomputes it. DORA
 * then reads counts and a median off two short index ranges instead of attributing every pull
 * request of the window on each call, which at 100,000 changes took seconds.
 *
 * A pull request is attributed among the counted deployments of its own repository's scope (its
 * `base_repo_id`, which is the `cicd_scope_id` of the same connection's deployments).
 */
export const LEAD_TIME_TABLE = '_tool_webhook_pull_request_lead_times';

const COLUMNS = [
  'pull_request_id',
  'repo_id',
  'created_date',
  'merged_date',
  'cicd_deployment_id',
  'deployed_date',
  'attributed_by',
  'lead_time_minutes',
];

const MINUTE_MS = 60_000;
const BATCH = 500;

/** The scope a repository's pull requests are attributed in: its own deployments. */
function ownScope(repo: string): LeadTimeScope {
  return { cicdScopes: [repo], repos: [repo] };
}

function rowOf(change: ChangeAttribution): unknown[] {
  const a = change.attribution;
  return [
    change.id,
    change.repo,
    change.created,
    change.merged,
    a?.deploymentId ?? null,
    a?.deployed ?? null,
    a?.rule ?? null,
    // As `GET .../dora` has always counted it: whole minutes rounded up.
    a ? Math.ceil((a.deployed.getTime() - change.created.getTime()) / MINUTE_MS) : null,
  ];
}

async function write(manager: EntityManager, changes: ChangeAttribution[], gone: string[]): Promise<void> {
  for (let start = 0; start < gone.length; start += BATCH) {
    await queryNamed(manager, `DELETE FROM ${LEAD_TIME_TABLE} WHERE pull_request_id IN (:...ids)`, {
      ids: gone.slice(start, start + BATCH),
    });
  }
  await upsertValues(manager, LEAD_TIME_TABLE, COLUMNS, ['pull_request_id'], changes.map(rowOf), 250);
}

/** Pull requests of one repository were written: their rows (none for those not merged). */
export async function refreshLeadTimesOfPullRequests(
  manager: EntityManager,
  repo: string,
  ids: string[],
): Promise<void> {
  if (ids.length === 0) return;
  const changes = await new LeadTimeQueries(manager).ofPullRequests(ownScope(repo), ids);
  const kept = new Set(changes.map((change) => change.id));
  await write(
    manager,
    changes,
    ids.filter((id) => !kept.has(id)),
  );
}

/**
 * Deployments of one scope were written or changed, the earliest start among their new rows at
 * `since`. A deployment starting at `since` can only take pull requests
 * merged or deployed at or after it, so those are recomputed (the window form of the rules from
 * `since` on), and with them every row that pointed at one of these deployments (it may have
 * stopped counting, or moved later), and the pull requests still waiting for a deployment that
 * one of these takes.
 */
export async function refreshLeadTimesAfterDeployments(
  manager: EntityManager,
  repo: string,
  deploymentIds: string[],
  since: Date,
): Promise<void> {
  // Many senders push deployments and incidents only: without a merged pull request in the
  // repository there is no lead time to recompute (and no row to release).
  const anyMerged = await queryNamed<Row>(
    manager,
    `SELECT id FROM pull_requests WHERE base_repo_id = :repo AND merged_date IS NOT NULL LIMIT 1`,
    { repo },
  );
  if (anyMerged.length === 0) return;
  // The pull requests the deployments may take or release: those the window form of the rules
  // reads from `since` on, those pointing at one of the deployments, and those deployed since.
  const ids = new Set((await new LeadTimeQueries(manager).since(ownScope(repo), since, null)).map((c) => c.id));
  for (let start = 0; start < deploymentIds.length; start += BATCH) {
    const rows = await queryNamed<Row>(
      manager,
      `SELECT pull_request_id AS id FROM ${LEAD_TIME_TABLE} WHERE cicd_deployment_id IN (:...ids)`,
      { ids: deploymentIds.slice(start, start + BATCH) },
    );
    for (const row of rows) ids.add(String(row.id));
  }
  const deployedSince = await queryNamed<Row>(
    manager,
    `SELECT pull_request_id AS id FROM ${LEAD_TIME_TABLE} WHERE repo_id = :repo AND deployed_date >= :since`,
    { repo, since },
  );
  for (const row of deployedSince) ids.add(String(row.id));
  for (const id of await undeployedTakenBy(manager, repo, deploymentIds)) ids.add(id);
  // Each recomputed whole, as a rebuild would: the same answer however the work was split.
  await refreshLeadTimesOfPullRequests(manager, repo, [...ids]);
}

/**
 * The pull requests without a deployment that one of these deployments may ship by the time
 * rule: merged before it started, into its branch (or either names none). The window form of the
 * rules does not read merges older than the latest deployment before `since`, which misses a
 * branch deployed for the first time; pull requests without a deployment are few (they wait
 * for one), so all of them are checked here.
 */
async function undeployedTakenBy(manager: EntityManager, repo: string, deploymentIds: string[]): Promise<string[]> {
  const deployments: { started: number; branch: string | null }[] = [];
  for (let start = 0; start < deploymentIds.length; start += BATCH) {
    const rows = await queryNamed<Row>(
      manager,
      `SELECT s.started_date AS started, s.ref_low AS ref_low, s.ref_high AS ref_high
         FROM ${DEPLOYMENT_SUMMARY_TABLE} s WHERE s.cicd_deployment_id IN (:...ids)`,
      { ids: deploymentIds.slice(start, start + BATCH) },
    );
    for (const row of rows) {
      deployments.push({
        started: (dateOf(row.started) as Date).getTime(),
        branch: branchOfRefs(row.ref_low, row.ref_high),
      });
    }
  }
  if (deployments.length === 0) return [];
  const waiting = await queryNamed<Row>(
    manager,
    `SELECT t.pull_request_id AS id, t.merged_date AS merged, p.base_ref AS base_ref
       FROM ${LEAD_TIME_TABLE} t JOIN pull_requests p ON p.id = t.pull_request_id
      WHERE t.repo_id = :repo AND t.deployed_date IS NULL`,
    { repo },
  );
  return waiting
    .filter((row) => {
      const merged = (dateOf(row.merged) as Date).getTime();
      const branch = branchOf(row.base_ref === null || row.base_ref === undefined ? null : String(row.base_ref));
      return deployments.some(
        (d) => d.started >= merged && (d.branch === null || branch === null || d.branch === branch),
      );
    })
    .map((row) => String(row.id));
}

/** Recomputes one repository's rows from its pull requests and deployments. */
async function rebuildLeadTimesOfRepo(manager: EntityManager, repo: string): Promise<number> {
  const rows = await queryNamed<Row>(
    manager,
    'SELECT id FROM pull_requests WHERE base_repo_id = :repo AND merged_date IS NOT NULL AND created_date IS NOT NULL',
    { repo },
  );
  const ids = rows.map((row) => String(row.id));
  const changes = ids.length > 0 ? await new LeadTimeQueries(manager).ofPullRequests(ownScope(repo), ids) : [];
  await queryNamed(manager, `DELETE FROM ${LEAD_TIME_TABLE} WHERE repo_id = :repo`, { repo });
  await write(manager, changes, []);
  return changes.length;
}

/**
 * Recomputes every row, for a database that DevLake (or anything besides the plugin) also
 * writes: run by `npm run rebuild-summary` and by the migration that creates the table. Returns
 * the number of merged pull requests.
 */
export async function rebuildLeadTimes(manager: EntityManager): Promise<number> {
  await manager.query(`DELETE FROM ${LEAD_TIME_TABLE}`);
  const repos = (await manager.query(
    'SELECT DISTINCT base_repo_id AS repo FROM pull_requests WHERE merged_date IS NOT NULL AND created_date IS NOT NULL',
  )) as Row[];
  let count = 0;
  for (const row of repos) {
    if (row.repo === null || row.repo === undefined) continue;
    count += await rebuildLeadTimesOfRepo(manager, String(row.repo));
  }
  return count;
}

/**
 * The lead-time figures of a window for the pull requests of `repos`: counts by rule and the
 * lower median off the (repo, deployed) index, coverage off the (repo, merged) index. Only counts
 * leave the database.
 */
export async function leadTimeFigures(db: Runner, repos: string[], from: Date, to: Date): Promise<LeadTimeSummary> {
  const byRule: Record<AttributionRule, number> = { link: 0, mergeCommit: 0, time: 0 };
  if (repos.length === 0) return { changes: 0, medianMinutes: null, byRule, mergedPullRequests: 0, withLeadTime: 0 };
  const window = { repos, from, to };
  const deployed = `FROM ${LEAD_TIME_TABLE} t
    WHERE t.repo_id IN (:...repos) AND t.deployed_date >= :from AND t.deployed_date < :to`;
  const [rules, coverage] = await Promise.all([
    queryNamed<Row>(db, `SELECT t.attributed_by AS rule, COUNT(*) AS n ${deployed} GROUP BY t.attributed_by`, window),
    queryNamed<Row>(
      db,
      `SELECT COUNT(*) AS merged, COUNT(t.deployed_date) AS deployed FROM ${LEAD_TIME_TABLE} t
        WHERE t.repo_id IN (:...repos) AND t.merged_date >= :from AND t.merged_date < :to`,
      window,
    ),
  ]);
  let changes = 0;
  for (const row of rules) {
    const n = Number(row.n);
    changes += n;
    if (row.rule === 'link' || row.rule === 'mergeCommit' || row.rule === 'time') byRule[row.rule] += n;
  }
  const medianMinutes = changes > 0 ? await lowerMedianMinutes(db, deployed, window, changes) : null;
  return {
    changes,
    medianMinutes,
    byRule,
    mergedPullRequests: Number(coverage[0]?.merged ?? 0),
    withLeadTime: Number(coverage[0]?.deployed ?? 0),
  };
}

/** Lead-time minutes per first-pass bucket: a year of minutes is about 500 buckets. */
const BUCKET = 1024;

/**
 * The lower median of the window's lead times, `sorted[floor((n - 1) / 2)]`, found from counts:
 * per bucket of 1,024 minutes, then per minute inside the bucket that holds it. Grouping reads
 * the covering index only and returns a few hundred rows; `ORDER BY ... LIMIT 1 OFFSET k` made
 * MariaDB fetch rows from the table and took seconds once it no longer fitted in memory.
 */
async function lowerMedianMinutes(
  db: Runner,
  deployed: string,
  window: Record<string, unknown>,
  count: number,
): Promise<number | null> {
  const bucketOf = dialectOf(db).intDiv('t.lead_time_minutes', BUCKET);
  const buckets = await queryNamed<Row>(
    db,
    `SELECT ${bucketOf} AS bucket, COUNT(*) AS n ${deployed} GROUP BY ${bucketOf}`,
    window,
  );
  const position = Math.floor((count - 1) / 2);
  const inBucket = nthByCount(
    buckets.map((row) => ({ value: Number(row.bucket), n: Number(row.n) })),
    position,
  );
  if (!inBucket) return null;
  const minutes = await queryNamed<Row>(
    db,
    `SELECT t.lead_time_minutes AS value, COUNT(*) AS n ${deployed} AND ${bucketOf} = :bucket
      GROUP BY t.lead_time_minutes`,
    { ...window, bucket: inBucket.value },
  );
  return (
    nthByCount(
      minutes.map((row) => ({ value: Number(row.value), n: Number(row.n) })),
      inBucket.rest,
    )?.value ?? null
  );
}

/** The value at 0-based `position` of a sorted list given as counts per value, and its place among its equals. */
function nthByCount(
  counts: { value: number; n: number }[],
  position: number,
): { value: number; rest: number } | undefined {
  let before = 0;
  for (const { value, n } of [...counts].sort((a, b) => a.value - b.value)) {
    if (position < before + n) return { value, rest: position - before };
    before += n;
  }
  return undefined;
}

/** For tests and diagnostics: every row, in key order. */
export async function leadTimeRows(db: Runner): Promise<Row[]> {
  const rows = await db.query(
    dialectOf(db).sql(`SELECT ${COLUMNS.join(', ')} FROM ${LEAD_TIME_TABLE} ORDER BY pull_request_id`),
  );
  return rows as Row[];
}
