import type { DataSource } from 'typeorm';
import type { WebhookConnection } from '../connections/connection.entity';
import { queryNamed } from '../db/escape-query';
import { NotFoundError } from '../http/errors';
import { Project } from '../projects/project.entity';
import { ProjectService, scopeIdOf } from '../projects/project.service';
import { dialectOf } from '../db/dialect';
import { doraTablesRefresherOf } from './devlake-dora-tables';
import {
  doraOf,
  type Benchmark,
  type DeploymentTime,
  type DoraAggregates,
  type DoraMetrics,
  type LinkedIncident,
} from './dora.calculations';
import type { DoraQuery } from './dora.dto';
import { dateOf } from './lead-time.queries';
import { leadTimeFigures } from './lead-time.store';

const DAY_MS = 86_400_000;
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
 * Computes the four DORA metrics on request (docs/dora.md). The database does the grouping, off
 * the derived tables kept as data arrives (the deployment summary, the pull requests' lead
 * times): deployments per day, lead-time counts and median, and the incidents that can touch the
 * window with their deployments. Weeks, months and levels are calendar arithmetic on those in
 * `dora.calculations.ts`, the same on every engine. Cost follows the window's days and
 * incidents, not its deployments and pull requests: nothing per deployment leaves the database.
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

  /**
   * The metrics of any set of scope ids, from three kinds of grouping query whose answers stay
   * small whatever the history: deployments per day, the lead-time counts and median, and the
   * incidents that can touch the window with their deployments.
   */
  async metrics(scope: DoraScopeIds, query: DoraQuery): Promise<DoraMetrics> {
    // Lead times are kept by the background refresh: what this process wrote is in before reading.
    await doraTablesRefresherOf(this.dataSource).settled();
    // Lead time reads the repositories whose deployments are in scope: a pull request is
    // attributed among its own repository's deployments.
    const cicd = new Set(scope.cicdScopes);
    const [deploymentDays, leadTime, incidents] = await Promise.all([
      this.deploymentDays(scope.cicdScopes, query),
      leadTimeFigures(
        this.dataSource,
        scope.repos.filter((repo) => cicd.has(repo)),
        query.from,
        query.to,
      ),
      this.incidents(scope, query),
    ]);
    return doraOf(query, { deploymentDays, leadTime, incidents });
  }

  /** Counted deployments whose time is in the window, per UTC day, off the summary's (scope, time) index. */
  private async deploymentDays(scopes: string[], query: DoraQuery): Promise<DoraAggregates['deploymentDays']> {
    if (scopes.length === 0) return [];
    const day = dialectOf(this.dataSource).utcDay('s.finished_date');
    const rows = await this.select(
      `SELECT ${day} AS day, COUNT(*) AS n FROM ${DEPLOYMENT_SUMMARY_TABLE} s
        WHERE s.cicd_scope_id IN (:...scopes) AND s.finished_date >= :from AND s.finished_date < :to
        GROUP BY ${day}`,
      { scopes, from: query.from, to: query.to },
    );
    return rows.map((row) => ({
      day: Math.round(Date.parse(`${String(row.day)}T00:00:00Z`) / DAY_MS),
      deployments: Number(row.n),
    }));
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
   * The incidents of the scope that can touch the window, each with its deployment: created in
   * or after it (weekly counts, the time rule), resolved in it (2021 recovery), or naming a
   * counted deployment whose time is at or after `from`. Three index ranges rather than one OR,
   * which would read every incident of the scope: by (scope, created), by (scope, resolved), and
   * from the deployment summary's (scope, time) through the named links. An incident that names
   * a deployment comes once per link; `named_finished` is set when the named deployment is a
   * counted one of the scope. For the time rule, each deployment scope's latest counted
   * deployment before the incident is one backward step on the summary's (scope, time, id) index.
   */
  private async incidents(scope: DoraScopeIds, query: DoraQuery): Promise<LinkedIncident[]> {
    if (scope.boards.length === 0) return [];
    const priors = scope.cicdScopes.map((_, k) => {
      const latest = (column: string) => `(SELECT p.${column} FROM ${DEPLOYMENT_SUMMARY_TABLE} p
          WHERE p.cicd_scope_id = :scope${k} AND p.finished_date < i.created_date
          ORDER BY p.finished_date DESC, p.cicd_deployment_id DESC LIMIT 1)`;
      return `, ${latest('cicd_deployment_id')} AS prior_id_${k}, ${latest('finished_date')} AS prior_time_${k}`;
    });
    const columns = `i.id AS id, i.created_date AS created, i.resolution_date AS resolved,
              i.lead_time_minutes AS lead_time, s.cicd_deployment_id AS named, s.finished_date AS named_finished
              ${priors.join('')}`;
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
        ...Object.fromEntries(scope.cicdScopes.map((id, k) => [`scope${k}`, id])),
        boards: scope.boards,
        from: query.from,
        to: query.to,
      },
    );
    const incidents = new Map<string, { incident: LinkedIncident; named: DeploymentTime | null }>();
    for (const row of rows) {
      const id = String(row.id);
      let entry = incidents.get(id);
      if (!entry) {
        // DevLake's time rule: the latest counted deployment strictly before creation, over every
        // deployment scope (equal times: the greatest id, as on one scope's index).
        let prior: DeploymentTime | null = null;
        scope.cicdScopes.forEach((_, k) => {
          const time = dateOf(row[`prior_time_${k}`]);
          if (time === null) return;
          const candidate = { id: String(row[`prior_id_${k}`]), time };
          const diff = prior === null ? 1 : time.getTime() - prior.time.getTime();
          if (prior === null || diff > 0 || (diff === 0 && candidate.id > prior.id)) prior = candidate;
        });
        entry = {
          incident: {
            created: dateOf(row.created),
            resolved: dateOf(row.resolved),
            leadTimeMinutes: numberOf(row.lead_time),
            deployment: prior,
          },
          named: null,
        };
        incidents.set(id, entry);
      }
      // Only a counted row makes the named deployment count (else DevLake's time rule, §3). An
      // incident names one deployment at most (the link's key is the incident).
      const namedTime = dateOf(row.named_finished);
      if (namedTime !== null) entry.named = { id: String(row.named), time: namedTime };
    }
    return [...incidents.values()].map(({ incident, named }) =>
      named === null ? incident : { ...incident, deployment: named },
    );
  }
}
