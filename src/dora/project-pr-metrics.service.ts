import { LRUCache } from 'lru-cache';
import type { DataSource, EntityManager } from 'typeorm';
import { dialectOf } from '../db/dialect';
import { queryNamed } from '../db/escape-query';
import { withTransaction } from '../db/transaction';
import { upsertRows } from '../db/upsert';
import { ProjectMapping } from '../projects/project.entity';
import { ProjectPrMetric } from './lead-time.entity';
import { dateOf } from '../db/columns';
import { LeadTimeQueries, type ChangeAttribution, type LeadTimeScope } from './lead-time.queries';

type Runner = DataSource | EntityManager;
type Row = Record<string, unknown>;

const MINUTE_MS = 60_000;
const BATCH = 500;
const ROWS_PER_STATEMENT = 200;

/** How long a connection's project is remembered; as long as a connection is (CONNECTION_CACHE_MS). */
const PROJECT_CACHE_MS = 2_000;
const projectCaches = new WeakMap<DataSource, LRUCache<string, { projectName: string | null }>>();

function projectCacheOf(dataSource: DataSource): LRUCache<string, { projectName: string | null }> {
  let cache = projectCaches.get(dataSource);
  if (!cache) {
    cache = new LRUCache({ max: 1000, ttl: PROJECT_CACHE_MS });
    projectCaches.set(dataSource, cache);
  }
  return cache;
}

/** DevLake's span: whole minutes rounded up, null when a side is missing or it is negative. */
function span(start: Date | null, end: Date | null): number | null {
  if (!start || !end) return null;
  const minutes = Math.ceil((end.getTime() - start.getTime()) / MINUTE_MS);
  return minutes < 0 ? null : minutes;
}

/** `LIKE ... ESCAPE '!'` text matching `prefix` literally (one escape character on every engine). */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

/**
 * Keeps DevLake's `project_pr_metrics` current for projects that connections are linked to, with
 * the lead time attribution of docs/dora.md, so DevLake's DORA dashboard shows lead time without a
 * pipeline run. DevLake rebuilds a project's rows after each run; here rows change as data
 * arrives: a pull request updates its own row, a deployment the rows whose deployment it may
 * change, and linking or unlinking a connection rebuilds the projects concerned.
 */
export class ProjectPrMetricsService {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The project a connection's repo is linked to. Asked on every deployment and pull request, so
   * the answer is kept for a moment (PROJECT_CACHE_MS); linking or unlinking rebuilds the
   * projects concerned and forgets it at once in this process.
   */
  private async projectOfScope(db: Runner, scopeId: string): Promise<string | null> {
    const cache = projectCacheOf(this.dataSource);
    const hit = cache.get(scopeId);
    if (hit !== undefined) return hit.projectName;
    const row = await db.getRepository(ProjectMapping).findOneBy({ table: 'repos', rowId: scopeId });
    const projectName = row?.projectName ?? null;
    cache.set(scopeId, { projectName });
    return projectName;
  }

  private async scopeOf(db: Runner, projectName: string): Promise<LeadTimeScope> {
    const rows = await db.getRepository(ProjectMapping).findBy({ projectName });
    const of = (table: string) => rows.filter((row) => row.table === table).map((row) => row.rowId);
    return { cicdScopes: of('cicd_scopes'), repos: of('repos') };
  }

  private async query(db: Runner, sql: string, parameters: Record<string, unknown>): Promise<Row[]> {
    return queryNamed(db, sql, parameters);
  }

  /**
   * Pull requests arrived: their rows, when their repository is in a project. Runs in the
   * background refresh's transaction (`manager`), after the pull requests committed.
   */
  async afterPullRequests(manager: EntityManager, scopeId: string, pullRequestIds: string[]): Promise<void> {
    const projectName = await this.projectOfScope(manager, scopeId);
    if (!projectName) return;
    const scope = await this.scopeOf(manager, projectName);
    const changes = await new LeadTimeQueries(manager).ofPullRequests(scope, pullRequestIds);
    const merged = new Set(changes.map((change) => change.id));
    const unmerged = pullRequestIds.filter((id) => !merged.has(id));
    // Not (or no longer) merged: no row, as DevLake writes rows for merged pull requests only.
    for (let start = 0; start < unmerged.length; start += BATCH) {
      const slice = unmerged.slice(start, start + BATCH);
      await manager.query(
        dialectOf(manager).sql(
          `DELETE FROM project_pr_metrics WHERE project_name = ? AND id IN (${slice.map(() => '?').join(', ')})`,
        ),
        [projectName, ...slice],
      );
    }
    await this.write(manager, projectName, changes);
  }

  /**
   * Deployments arrived (or changed): every pull request they may now ship or no longer ship. A
   * deployment starting at `since` can only take pull requests deployed at or after `since` or not
   * yet deployed, so those are recomputed (the window form of the rules, from `since` on), and
   * with them every row that pointed at one of these deployments. Runs in the background
   * refresh's transaction (`manager`), after the deployment summary of the writes.
   */
  async afterDeployment(manager: EntityManager, scopeId: string, deploymentIds: string[], since: Date): Promise<void> {
    const projectName = await this.projectOfScope(manager, scopeId);
    if (!projectName) return;
    const scope = await this.scopeOf(manager, projectName);
    const queries = new LeadTimeQueries(manager);
    const changes = await queries.since(scope, since, null);
    const seen = new Set(changes.map((c) => c.id));
    const others = new Set<string>();
    for (const deploymentId of deploymentIds) {
      const stale = await this.query(
        manager,
        `SELECT m.id AS id FROM project_pr_metrics m
          WHERE m.project_name = :projectName
            AND (m.pr_deployed_date >= :since OR m.deployment_commit_id LIKE :prefix ESCAPE '!')`,
        { projectName, since, prefix: likePrefix(`${deploymentId}:`) },
      );
      for (const row of stale) if (!seen.has(String(row.id))) others.add(String(row.id));
    }
    if (others.size > 0) changes.push(...(await queries.ofPullRequests(scope, [...others])));
    await this.write(manager, projectName, changes);
  }

  /** Rebuilds a project's rows from scratch, as DevLake does after a pipeline run. */
  async rebuild(projectName: string, db: Runner = this.dataSource): Promise<void> {
    projectCacheOf(this.dataSource).clear();
    const run = async (manager: EntityManager) => {
      const scope = await this.scopeOf(manager, projectName);
      const ids: string[] = [];
      for (const repo of scope.repos) {
        const rows = await manager.query(
          dialectOf(manager).sql('SELECT id FROM pull_requests WHERE base_repo_id = ? AND merged_date IS NOT NULL'),
          [repo],
        );
        ids.push(...(rows as Row[]).map((row) => String(row.id)));
      }
      const changes = ids.length > 0 ? await new LeadTimeQueries(manager).ofPullRequests(scope, ids) : [];
      await manager.query(dialectOf(manager).sql('DELETE FROM project_pr_metrics WHERE project_name = ?'), [
        projectName,
      ]);
      await this.write(manager, projectName, changes);
    };
    if ('driver' in db) await withTransaction(db, run);
    else await run(db);
  }

  /** The deployment commit row each attributed pull request points at, and writes the rows. */
  private async write(manager: EntityManager, projectName: string, changes: ChangeAttribution[]): Promise<void> {
    if (changes.length === 0) return;
    const deploymentIds = [...new Set(changes.flatMap((c) => (c.attribution ? [c.attribution.deploymentId] : [])))];
    // Per deployment: its latest counted row, and its row of each commit.
    const latest = new Map<string, { id: string; finished: number }>();
    const bySha = new Map<string, string>();
    for (let i = 0; i < deploymentIds.length; i += BATCH) {
      const rows = await this.query(
        manager,
        `SELECT c.id AS id, c.cicd_deployment_id AS deployment, c.commit_sha AS sha, c.finished_date AS finished
           FROM cicd_deployment_commits c
          WHERE c.cicd_deployment_id IN (:...ids) AND c.environment = 'PRODUCTION' AND c.result = 'SUCCESS'`,
        { ids: deploymentIds.slice(i, i + BATCH) },
      );
      for (const row of rows) {
        const deployment = String(row.deployment);
        const finished = dateOf(row.finished)?.getTime() ?? -Infinity;
        const current = latest.get(deployment);
        if (!current || finished > current.finished || (finished === current.finished && String(row.id) < current.id))
          latest.set(deployment, { id: String(row.id), finished });
        bySha.set(JSON.stringify([deployment, String(row.sha)]), String(row.id));
      }
    }
    const shas = new Map<string, string | null>();
    if (changes.some((c) => c.attribution?.rule === 'mergeCommit')) {
      const ids = changes.filter((c) => c.attribution?.rule === 'mergeCommit').map((c) => c.id);
      for (let i = 0; i < ids.length; i += BATCH) {
        const rows = await this.query(
          manager,
          'SELECT id, merge_commit_sha AS sha FROM pull_requests WHERE id IN (:...ids)',
          {
            ids: ids.slice(i, i + BATCH),
          },
        );
        for (const row of rows) shas.set(String(row.id), row.sha === null ? null : String(row.sha));
      }
    }

    const now = new Date();
    const rawParams = JSON.stringify({ ProjectName: projectName });
    const rows: Partial<ProjectPrMetric>[] = changes.map((c) => {
      const a = c.attribution;
      const exactRow =
        a && a.rule === 'mergeCommit' ? bySha.get(JSON.stringify([a.deploymentId, shas.get(c.id)])) : undefined;
      const deployed = a ? a.deployed : null;
      const review = span(c.created, c.merged);
      const deploy = span(c.merged, deployed);
      return {
        id: c.id,
        projectName,
        createdAt: now,
        updatedAt: now,
        rawDataParams: rawParams,
        rawDataTable: 'pull_requests',
        rawDataId: 0,
        rawDataRemark: '',
        firstCommitSha: null,
        prCodingTime: null,
        firstReviewId: null,
        prPickupTime: null,
        prReviewTime: null,
        deploymentCommitId: a ? (exactRow ?? latest.get(a.deploymentId)?.id ?? null) : null,
        prDeployTime: deploy,
        // DevLake's cycle time: the sum of the legs it knows (coding time is unknown here).
        prCycleTime: (review ?? 0) + (deploy ?? 0),
        firstCommitAuthoredDate: null,
        firstCommentDate: null,
        prCreatedDate: c.created,
        prMergedDate: c.merged,
        prDeployedDate: deployed,
      };
    });
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      await upsertRows(manager, ProjectPrMetric, rows.slice(i, i + ROWS_PER_STATEMENT), ['created_at']);
    }
  }
}
