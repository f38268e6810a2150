import type { DataSource } from 'typeorm';
import type { WebhookConnection } from '../connections/connection.entity';
import { NotFoundError } from '../http/errors';
import { Project } from '../projects/project.entity';
import { ProjectService, scopeIdOf } from '../projects/project.service';
import {
  computeDora,
  type Benchmark,
  type DeployedChange,
  type DeploymentTime,
  type DoraMetrics,
  type IncidentFacts,
} from './dora.calculations';
import type { DoraQuery } from './dora.dto';

/** The scope ids of each kind of row (dora-metrics.md "Scope"). */
export interface DoraScopeIds {
  /** `cicd_deployment_commits.cicd_scope_id` */
  cicdScopes: string[];
  /** `incidents.scope_id` */
  boards: string[];
  /** `pull_requests.base_repo_id` */
  repos: string[];
}

export type DoraScope = { connectionId: number } | { projectName: string };

/** The answer of `GET .../dora` (issue 8). */
export interface DoraReport extends DoraMetrics {
  scope: DoraScope;
  from: string;
  to: string;
  benchmark: Benchmark;
}

type Row = Record<string, unknown>;

/** IN lists stay well under SQLite's and MySQL's parameter limits. */
const BATCH = 500;

function batches<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(items.slice(i, i + BATCH));
  return out;
}

/** What DevLake's DORA counts as a deployment (dora-metrics.md "What counts as one deployment"). */
const COUNTED = { environment: 'PRODUCTION', result: 'SUCCESS' };
const COUNTED_ROW = 'c.cicd_scope_id IN (:...scopes) AND c.environment = :environment AND c.result = :result';

/** `datetime(3)` as the drivers return it: a Date from mysql2 (timezone 'Z'), UTC text from SQLite. */
function dateOf(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  const text = String(value);
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
}

function numberOf(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/**
 * Computes the four DORA metrics on request (dora-metrics.md). The database does the grouping:
 * three queries return compact rows (one per deployment since `from`, one per pull request
 * deployed in the window, one per incident that can touch the window); weeks, months and medians
 * are calendar arithmetic on those rows in `dora.calculations.ts`, which keeps SQLite and
 * MariaDB (whose date functions differ) giving the same answer.
 */
export class DoraService {
  private readonly projects: ProjectService;

  constructor(readonly dataSource: DataSource) {
    this.projects = new ProjectService(dataSource);
  }

  async forConnection(connection: WebhookConnection, query: DoraQuery): Promise<DoraReport> {
    const id = scopeIdOf(connection.id);
    const metrics = await this.metrics({ cicdScopes: [id], boards: [id], repos: [id] }, query);
    return this.report({ connectionId: connection.id }, query, metrics);
  }

  /** A project's scope is every row `project_mapping` lists for it (contract §8); 404 when unknown. */
  async forProject(projectName: string, query: DoraQuery): Promise<DoraReport> {
    const exists = await this.dataSource.getRepository(Project).existsBy({ name: projectName });
    if (!exists) throw new NotFoundError(`no project named ${projectName}`);
    const [cicdScopes, boards, repos] = await Promise.all([
      this.projects.scopeIds(projectName, 'cicd_scopes'),
      this.projects.scopeIds(projectName, 'boards'),
      this.projects.scopeIds(projectName, 'repos'),
    ]);
    const metrics = await this.metrics({ cicdScopes, boards, repos }, query);
    return this.report({ projectName }, query, metrics);
  }

  /** The metrics of any set of scope ids. */
  async metrics(scope: DoraScopeIds, query: DoraQuery): Promise<DoraMetrics> {
    // Independent queries run side by side (separate pool connections on MySQL).
    const [deployments, incidents, pairs] = await Promise.all([
      this.deploymentsSince(scope, query.from),
      this.incidents(scope, query),
      this.changePairs(scope, query),
    ]);
    const changes = await this.deployedChanges(scope, query, pairs, deployments);
    return computeDora({ ...query, deployments, changes, incidents });
  }

  private report(scope: DoraScope, query: DoraQuery, metrics: DoraMetrics): DoraReport {
    return {
      scope,
      from: query.from.toISOString(),
      to: query.to.toISOString(),
      benchmark: query.benchmark,
      ...metrics,
    };
  }

  private async select(sql: string, parameters: Record<string, unknown>): Promise<Row[]> {
    const [text, values] = this.dataSource.driver.escapeQueryWithParameters(sql, parameters);
    return (await this.dataSource.query(text, values)) as Row[];
  }

  /**
   * One row per counted deployment whose time (its latest counted `finished_date`) is at or after
   * `from`, including those after `to`: the incident rule needs them. Filtering rows at `from`
   * before grouping is exact, because a deployment's latest row is at or after `from` exactly
   * when its time is. The counted test sits in the aggregate rather than the WHERE so that the
   * database walks `idx_webhook_cdc_scope_deployment` (scope, deployment, finished_date) and groups
   * in index order; MariaDB otherwise sorts a temporary table of 255-character keys on disk.
   */
  private async deploymentsSince(scope: DoraScopeIds, from: Date): Promise<DeploymentTime[]> {
    if (scope.cicdScopes.length === 0) return [];
    const latestCounted = `MAX(CASE WHEN c.environment = :environment AND c.result = :result THEN c.finished_date END)`;
    const rows = await this.select(
      `SELECT c.cicd_deployment_id AS id, ${latestCounted} AS finished
         FROM cicd_deployment_commits c
        WHERE c.cicd_scope_id IN (:...scopes) AND c.finished_date >= :from
        GROUP BY c.cicd_deployment_id
       HAVING ${latestCounted} IS NOT NULL`,
      { scopes: scope.cicdScopes, ...COUNTED, from },
    );
    return rows.map((row) => ({ id: String(row.id), time: dateOf(row.finished) as Date }));
  }

  /**
   * The pull requests whose deploying deployment (§2: the earliest counted deployment after the
   * merge with a row for the merge commit) is in the window, in three steps whose size follows
   * the window, not the history:
   *
   * 1. pairs (pull request, deployment) from the commit rows at or after `from` matching a merge
   *    commit: their deployments are all in `deployments` (time at or after `from`), so their
   *    times are known. Joined by `idx_webhook_cdc_dora` and `idx_webhook_pr_merge_commit`.
   * 2. for those merged before `from` only, the other deployments of their merge commits (rows
   *    before `from`; `idx_webhook_cdc_commit_sha`): a first deployment before the window means
   *    the change was shipped earlier and a redeploy in the window does not count it again.
   * 3. the times of those earlier deployments, grouped in the database.
   *
   * Not seen: a merge commit's row that finished before `from` (or before the merge) in a
   * deployment whose other rows finished in the window, i.e. rows of one deployment finishing
   * days apart; the commit's other deployments still count.
   */
  private async changePairs(scope: DoraScopeIds, query: DoraQuery): Promise<Row[]> {
    if (scope.cicdScopes.length === 0 || scope.repos.length === 0) return [];
    return this.select(
      `SELECT p.id AS id, p.created_date AS created, p.merged_date AS merged, p.merge_commit_sha AS sha,
              c.cicd_deployment_id AS deployment
         FROM cicd_deployment_commits c
         JOIN pull_requests p ON p.merge_commit_sha = c.commit_sha
        WHERE ${COUNTED_ROW} AND c.finished_date >= :from
          AND p.base_repo_id IN (:...repos) AND p.merged_date < :to AND p.created_date IS NOT NULL`,
      { scopes: scope.cicdScopes, repos: scope.repos, ...COUNTED, from: query.from, to: query.to },
    );
  }

  /** Steps 2 and 3 of the lead time, and the first deployment after each merge. */
  private async deployedChanges(
    scope: DoraScopeIds,
    query: DoraQuery,
    pairs: Row[],
    deployments: DeploymentTime[],
  ): Promise<DeployedChange[]> {
    if (pairs.length === 0) return [];
    const times = new Map(deployments.map((d) => [d.id, d.time.getTime()]));
    const changes = new Map<string, { created: Date; merged: number; sha: string; candidates: Set<string> }>();
    for (const row of pairs) {
      const id = String(row.id);
      const change = changes.get(id) ?? {
        created: dateOf(row.created) as Date,
        merged: (dateOf(row.merged) as Date).getTime(),
        sha: String(row.sha),
        candidates: new Set<string>(),
      };
      change.candidates.add(String(row.deployment));
      changes.set(id, change);
    }

    // A deployment before `from` can only come first for a change merged before `from`.
    const from = query.from.getTime();
    const shas = [...new Set([...changes.values()].filter((c) => c.merged < from).map((c) => c.sha))];
    const earlier = new Map<string, Set<string>>();
    for (const batch of batches(shas)) {
      const rows = await this.select(
        `SELECT DISTINCT c.commit_sha AS sha, c.cicd_deployment_id AS deployment
           FROM cicd_deployment_commits c
          WHERE c.commit_sha IN (:...shas) AND ${COUNTED_ROW} AND c.finished_date < :from`,
        { shas: batch, scopes: scope.cicdScopes, ...COUNTED, from: query.from },
      );
      for (const row of rows) {
        const set = earlier.get(String(row.sha)) ?? new Set<string>();
        set.add(String(row.deployment));
        earlier.set(String(row.sha), set);
      }
    }
    const unknown = [...new Set([...earlier.values()].flatMap((set) => [...set]))].filter((id) => !times.has(id));
    for (const batch of batches(unknown)) {
      const rows = await this.select(
        `SELECT c.cicd_deployment_id AS deployment, MAX(c.finished_date) AS finished
           FROM cicd_deployment_commits c
          WHERE c.cicd_deployment_id IN (:...ids) AND ${COUNTED_ROW}
          GROUP BY c.cicd_deployment_id`,
        { ids: batch, scopes: scope.cicdScopes, ...COUNTED },
      );
      for (const row of rows) times.set(String(row.deployment), (dateOf(row.finished) as Date).getTime());
    }

    const out: DeployedChange[] = [];
    for (const [id, change] of changes) {
      let first: number | undefined;
      for (const deployment of [...change.candidates, ...(earlier.get(change.sha) ?? [])]) {
        const time = times.get(deployment);
        if (time !== undefined && time > change.merged && (first === undefined || time < first)) first = time;
      }
      if (first !== undefined) out.push({ id, created: change.created, deployed: new Date(first) });
    }
    return out;
  }

  /**
   * The incidents of the scope that can touch the window: created in or after it (weekly counts,
   * the time rule), resolved in it (2021 recovery), or naming a counted deployment whose time is
   * at or after `from`. An incident that names a deployment comes once per row of that deployment
   * (a few), joined on (scope, deployment) by `idx_webhook_cdc_scope_deployment`; `named_finished`
   * is the row's date when the row is counted (so the deployment is a counted one). The
   * counted test sits in the SELECT so that no database picks the (scope, environment, result)
   * index and walks a scope's whole history per incident (SQLite did).
   */
  private async incidents(scope: DoraScopeIds, query: DoraQuery): Promise<IncidentFacts[]> {
    if (scope.boards.length === 0) return [];
    const counted = 'c.environment = :environment AND c.result = :result';
    const rows = await this.select(
      `SELECT i.id AS id, i.created_date AS created, i.resolution_date AS resolved,
              i.lead_time_minutes AS lead_time, c.cicd_deployment_id AS named,
              CASE WHEN ${counted} THEN c.finished_date END AS named_finished
         FROM incidents i
         LEFT JOIN _tool_webhook_incident_deployments l ON l.issue_id = i.id
         LEFT JOIN cicd_deployment_commits c
           ON c.cicd_scope_id IN (:...scopes) AND c.cicd_deployment_id = l.cicd_deployment_id
        WHERE i.scope_id IN (:...boards)
          AND (i.created_date >= :from
               OR (i.resolution_date >= :from AND i.resolution_date < :to)
               OR (${counted} AND c.finished_date >= :from))`,
      {
        scopes: scope.cicdScopes.length > 0 ? scope.cicdScopes : [''],
        boards: scope.boards,
        ...COUNTED,
        from: query.from,
        to: query.to,
      },
    );
    const incidents = new Map<string, IncidentFacts>();
    for (const row of rows) {
      const id = String(row.id);
      const incident = incidents.get(id) ?? {
        id,
        created: dateOf(row.created),
        resolved: dateOf(row.resolved),
        leadTimeMinutes: numberOf(row.lead_time),
        namedDeploymentId: null,
      };
      // Only a counted row makes the named deployment count (else DevLake's time rule, §3); its
      // time is already known from the deployments query when it is at or after `from`.
      if (row.named_finished !== null && row.named_finished !== undefined)
        incident.namedDeploymentId = String(row.named);
      incidents.set(id, incident);
    }
    return [...incidents.values()];
  }
}
