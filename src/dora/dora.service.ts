import type { DataSource } from 'typeorm';
import type { WebhookConnection } from '../connections/connection.entity';
import { queryNamed } from '../db/escape-query';
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
import { DEPLOYMENT_SUMMARY_TABLE } from '../deployments/deployment-summary';

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
    const leadTime = new LeadTimeQueries(this.dataSource);
    // Independent queries run side by side (separate pool connections on MySQL); lead time
    // reuses the window's deployments rather than reading them twice.
    const [counted, incidents] = await Promise.all([
      leadTime.deploymentsSince(scope.cicdScopes, query.from),
      this.incidents(scope, query),
    ]);
    const attributed = await leadTime.since(scope, query.from, query.to, counted);
    const deployments: DeploymentTime[] = counted.map((d) => ({ id: d.id, time: d.time }));
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
    return queryNamed(this.dataSource, sql, parameters);
  }

  /**
   * The incidents of the scope that can touch the window: created in or after it (weekly counts,
   * the time rule), resolved in it (2021 recovery), or naming a counted deployment whose time is
   * at or after `from`. Three index ranges rather than one OR, which would read every incident of
   * the scope: by (scope, created), by (scope, resolved), and from the deployment summary's
   * (scope, time) through the named links. An incident that names a deployment comes once per
   * link; `named_finished` is set when the named deployment is a counted one of the scope.
   */
  private async incidents(scope: DoraScopeIds, query: DoraQuery): Promise<IncidentFacts[]> {
    if (scope.boards.length === 0) return [];
    const columns = `i.id AS id, i.created_date AS created, i.resolution_date AS resolved,
              i.lead_time_minutes AS lead_time, s.cicd_deployment_id AS named, s.finished_date AS named_finished`;
    const named = `LEFT JOIN _tool_webhook_incident_deployments l ON l.issue_id = i.id
         LEFT JOIN ${DEPLOYMENT_SUMMARY_TABLE} s
           ON s.cicd_deployment_id = l.cicd_deployment_id AND s.cicd_scope_id IN (:...scopes)`;
    const resolvedInWindow = 'i.resolution_date >= :from AND i.resolution_date < :to';
    const rows = await this.select(
      `SELECT ${columns} FROM incidents i ${named}
        WHERE i.scope_id IN (:...boards) AND i.created_date >= :from
       UNION ALL
       SELECT ${columns} FROM incidents i ${named}
        WHERE i.scope_id IN (:...boards) AND ${resolvedInWindow}
          AND (i.created_date < :from OR i.created_date IS NULL)
       UNION ALL
       SELECT ${columns} FROM ${DEPLOYMENT_SUMMARY_TABLE} s
         JOIN _tool_webhook_incident_deployments l ON l.cicd_deployment_id = s.cicd_deployment_id
         JOIN incidents i ON i.id = l.issue_id
        WHERE s.cicd_scope_id IN (:...scopes) AND s.finished_date >= :from AND i.scope_id IN (:...boards)
          AND (i.created_date < :from OR i.created_date IS NULL)
          AND NOT (i.resolution_date IS NOT NULL AND ${resolvedInWindow})`,
      {
        scopes: scope.cicdScopes.length > 0 ? scope.cicdScopes : [''],
        boards: scope.boards,
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
