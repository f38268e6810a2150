import type { DataSource } from 'typeorm';
import type { WebhookConnection } from '../connections/connection.entity';
import { escapeQuery } from '../db/escape-query';
import { NotFoundError } from '../http/errors';
import { Project } from '../projects/project.entity';
import { ProjectService, scopeIdOf } from '../projects/project.service';
import {
  computeDora,
  type Benchmark,
  type ChangeOutcome,
  type DeploymentTime,
  type DoraMetrics,
  type IncidentFacts,
} from './dora.calculations';
import type { DoraQuery } from './dora.dto';
import { dateOf, LeadTimeQueries } from './lead-time.queries';

/** The scope ids of each kind of row (docs/dora.md "Scope"). */
export interface DoraScopeIds {
  /** `cicd_deployment_commits.cicd_scope_id` */
  cicdScopes: string[];
  /** `incidents.scope_id` */
  boards: string[];
  /** `pull_requests.base_repo_id` */
  repos: string[];
}

export type DoraScope = { connectionId: number } | { projectName: string };

/** The answer of `GET .../dora`. */
export interface DoraReport extends DoraMetrics {
  scope: DoraScope;
  from: string;
  to: string;
  benchmark: Benchmark;
}

type Row = Record<string, unknown>;

/** What DevLake's DORA counts as a deployment (docs/dora.md "What counts as one deployment"). */
const COUNTED = { environment: 'PRODUCTION', result: 'SUCCESS' };

function numberOf(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/**
 * Computes the four DORA metrics on request (docs/dora.md). The database does the grouping:
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

  /** A project's scope is every row `project_mapping` lists for it (docs/devlake-compatibility.md §8); 404 when unknown. */
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
    const [deployments, incidents, attributed] = await Promise.all([
      this.deploymentsSince(scope, query.from),
      this.incidents(scope, query),
      new LeadTimeQueries(this.dataSource).since(scope, query.from, query.to),
    ]);
    const changes: ChangeOutcome[] = attributed.map((c) => ({
      id: c.id,
      created: c.created,
      merged: c.merged,
      deployed: c.attribution?.deployed ?? null,
      rule: c.attribution?.rule ?? null,
    }));
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
    const [text, values] = escapeQuery(this.dataSource, sql, parameters);
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
