import type { DataSource } from 'typeorm';
import type { WebhookConnection } from '../connections/connection.entity';
import { queryNamed } from '../db/escape-query';
import { NotFoundError } from '../http/errors';
import { Project } from '../projects/project.entity';
import { ProjectService, scopeIdOf } from '../projects/project.service';
import { utcDatetimeText } from '../db/columns';
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
/** Times per IN list: far below every engine's parameter limit. */
const IDS_PER_QUERY = 2000;

/** The greatest of ascending `times` strictly before `at`, by binary search. */
function latestTimeBefore(times: number[], at: number): number | undefined {
  let low = 0;
  let high = times.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (times[mid] < at) low = mid + 1;
    else high = mid;
  }
  return low > 0 ? times[low - 1] : undefined;
}
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
    await doraTablesRefresherOf(this.dataSource).caughtUp();
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
    const [rows, times] = await Promise.all([
      this.incidentRows(scope, query),
      this.deploymentTimesSince(scope.cicdScopes, query.from),
    ]);
    const incidents = new Map<string, { incident: LinkedIncident; named: DeploymentTime | null }>();
    for (const row of rows) {
      const id = String(row.id);
      let entry = incidents.get(id);
      if (!entry) {
        entry = {
          incident: {
            created: dateOf(row.created),
            resolved: dateOf(row.resolved),
            leadTimeMinutes: numberOf(row.lead_time),
            deployment: null,
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
    // DevLake's time rule: the latest counted deployment strictly before creation. Only one at or
    // after `from` can count in the window, so the times since `from` are all it needs.
    const priors = new Map<number, LinkedIncident[]>();
    for (const { incident, named } of incidents.values()) {
      if (named !== null) incident.deployment = named;
      else if (incident.created !== null) {
        const time = latestTimeBefore(times, incident.created.getTime());
        if (time === undefined) continue;
        const list = priors.get(time);
        if (list) list.push(incident);
        else priors.set(time, [incident]);
      }
    }
    // Equal times: the greatest id, as DevLake orders them.
    for (const [time, id] of await this.deploymentIdsAt(scope.cicdScopes, [...priors.keys()])) {
      for (const incident of priors.get(time) ?? []) incident.deployment = { id, time: new Date(time) };
    }
    return [...incidents.values()].map(({ incident }) => incident);
  }

  /**
   * The times (ms, ascending) of the counted deployments since `from`: read off the summary's
   * (scope, time) index alone, which is ordered already (the ids would cost a sort).
   */
  private async deploymentTimesSince(scopes: string[], from: Date): Promise<number[]> {
    if (scopes.length === 0) return [];
    const rows = await this.select(
      `SELECT s.finished_date AS finished FROM ${DEPLOYMENT_SUMMARY_TABLE} s
        WHERE s.cicd_scope_id IN (:...scopes) AND s.finished_date >= :from`,
      { scopes, from },
    );
    const times = rows.map((row) => (dateOf(row.finished) as Date).getTime());
    // In index order already for one scope; several scopes come as several ranges.
    const ascending = times.every((time, i) => i === 0 || times[i - 1] <= time);
    return ascending ? times : times.sort((a, b) => a - b);
  }

  /** The greatest deployment id at each of `times` (ms). */
  private async deploymentIdsAt(scopes: string[], times: number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    for (let start = 0; start < times.length; start += IDS_PER_QUERY) {
      const rows = await this.select(
        `SELECT s.finished_date AS finished, MAX(s.cicd_deployment_id) AS id FROM ${DEPLOYMENT_SUMMARY_TABLE} s
          WHERE s.cicd_scope_id IN (:...scopes) AND s.finished_date IN (:...times)
          GROUP BY s.finished_date`,
        // As stored text: drivers convert a Date parameter, not the Dates of a list.
        { scopes, times: times.slice(start, start + IDS_PER_QUERY).map((time) => utcDatetimeText(new Date(time))) },
      );
      for (const row of rows) out.set((dateOf(row.finished) as Date).getTime(), String(row.id));
    }
    return out;
  }

  /**
   * The incidents of the scope that can touch the window: created in or after it (weekly counts,
   * the time rule), resolved in it (2021 recovery), or naming a counted deployment whose time is
   * at or after `from`. Three index ranges rather than one OR, which would read every incident of
   * the scope: by (scope, created), by (scope, resolved), and from the deployment summary's
   * (scope, time) through the named links. An incident that names a deployment comes once per
   * link; `named_finished` is set when the named deployment is a counted one of the scope.
   */
  private async incidentRows(scope: DoraScopeIds, query: DoraQuery): Promise<Row[]> {
    const columns = `i.id AS id, i.created_date AS created, i.resolution_date AS resolved,
              i.lead_time_minutes AS lead_time, s.cicd_deployment_id AS named, s.finished_date AS named_finished`;
    const named = `LEFT JOIN _tool_webhook_incident_deployments l ON l.issue_id = i.id
         LEFT JOIN ${DEPLOYMENT_SUMMARY_TABLE} s
           ON s.cicd_deployment_id = l.cicd_deployment_id AND s.cicd_scope_id IN (:...scopes)`;
    const resolvedInWindow = 'i.resolution_date >= :from AND i.resolution_date < :to';
    // From the window's deployments to the incidents naming them: MariaDB would walk every
    // incident of the board created before the window instead.
    const join = dialectOf(this.dataSource).orderedJoin;
    return this.select(
      `SELECT ${columns} FROM incidents i ${named}
        WHERE i.scope_id IN (:...boards) AND i.created_date >= :from
       UNION ALL
       SELECT ${columns} FROM incidents i ${named}
        WHERE i.scope_id IN (:...boards) AND ${resolvedInWindow}
          AND (i.created_date < :from OR i.created_date IS NULL)
       UNION ALL
       SELECT ${columns} FROM ${DEPLOYMENT_SUMMARY_TABLE} s
         ${join} _tool_webhook_incident_deployments l ON l.cicd_deployment_id = s.cicd_deployment_id
         ${join} incidents i ON i.id = l.issue_id
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
  }
}
