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
  type DoraAggregates,
  type DoraMetrics,
  type LinkedIncident,
} from './dora.calculations';
import type { DoraQuery } from './dora.dto';
import { dateOf } from '../db/columns';
import { leadTimeFigures } from './lead-time.store';

const DAY_MS = 86_400_000;
/** Times per IN list: far below every engine's parameter limit. */
const IDS_PER_QUERY = 2000;

/** The index of the last of ascending `times` strictly before `at` (-1: none), by binary search. */
function latestBefore(times: number[], at: number): number {
  let low = 0;
  let high = times.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (times[mid] < at) low = mid + 1;
    else high = mid;
  }
  return low - 1;
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
    // The deployment summary and lead times are kept by the background refresh: what this
    // process wrote is in before reading.
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
   * from the deployment summary's (scope, time) through the named links (`incidentRows`). A named
   * deployment counts when it is a counted one of the scope (else DevLake's time rule); both are
   * matched against the window's counted deployments, read once in (time, id) order.
   */
  private async incidents(scope: DoraScopeIds, query: DoraQuery): Promise<LinkedIncident[]> {
    if (scope.boards.length === 0) return [];
    const [rows, window] = await Promise.all([
      this.incidentRows(scope, query),
      this.deploymentsSince(scope.cicdScopes, query.from),
    ]);
    const incidents = new Map<string, { incident: LinkedIncident; named: string | null }>();
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
      // An incident names one deployment at most (the link's key is the incident).
      if (row.named !== null && row.named !== undefined) entry.named = String(row.named);
    }
    // The deployments named that are not among the window's: counted ones before it, or ones
    // that do not count (which leave the incident to the time rule). Few: read by id.
    const byId = new Map(window.ids.map((id, i) => [id, window.times[i]]));
    const outside = [
      ...new Set([...incidents.values()].flatMap(({ named }) => (named && !byId.has(named) ? [named] : []))),
    ];
    for (const [id, time] of await this.countedDeploymentTimes(scope.cicdScopes, outside)) byId.set(id, time);
    for (const { incident, named } of incidents.values()) {
      const namedTime = named === null ? undefined : byId.get(named);
      if (named !== null && namedTime !== undefined) {
        incident.deployment = { id: named, time: new Date(namedTime) };
      } else if (incident.created !== null) {
        // DevLake's time rule: the latest counted deployment strictly before creation (equal
        // times: the greatest id). Only one at or after `from` can count in the window.
        const at = latestBefore(window.times, incident.created.getTime());
        if (at >= 0) incident.deployment = { id: window.ids[at], time: new Date(window.times[at]) };
      }
    }
    return [...incidents.values()].map(({ incident }) => incident);
  }

  /**
   * The counted deployments since `from`, ordered by time then id, as two parallel lists: off
   * the summary's (scope, time, id) index, in that order already for one scope.
   */
  private async deploymentsSince(scopes: string[], from: Date): Promise<{ ids: string[]; times: number[] }> {
    if (scopes.length === 0) return { ids: [], times: [] };
    const rows = await this.select(
      `SELECT s.cicd_deployment_id AS id, s.finished_date AS finished FROM ${DEPLOYMENT_SUMMARY_TABLE} s
        WHERE s.cicd_scope_id IN (:...scopes) AND s.finished_date >= :from`,
      { scopes, from },
    );
    let list = rows.map((row) => ({ id: String(row.id), time: (dateOf(row.finished) as Date).getTime() }));
    const before = (a: { id: string; time: number }, b: { id: string; time: number }) =>
      a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    // Several scopes come as several ranges, and a planner may pick another index.
    if (!list.every((item, i) => i === 0 || before(list[i - 1], item) <= 0)) list = list.sort(before);
    return { ids: list.map((item) => item.id), times: list.map((item) => item.time) };
  }

  /** The times (ms) of those of `ids` that are counted deployments of the scopes. */
  private async countedDeploymentTimes(scopes: string[], ids: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let start = 0; start < ids.length && scopes.length > 0; start += IDS_PER_QUERY) {
      const rows = await this.select(
        `SELECT s.cicd_deployment_id AS id, s.finished_date AS finished FROM ${DEPLOYMENT_SUMMARY_TABLE} s
          WHERE s.cicd_deployment_id IN (:...ids) AND s.cicd_scope_id IN (:...scopes)`,
        { ids: ids.slice(start, start + IDS_PER_QUERY), scopes },
      );
      for (const row of rows) out.set(String(row.id), (dateOf(row.finished) as Date).getTime());
    }
    return out;
  }

  /**
   * The incidents of the scope that can touch the window: created in or after it (weekly counts,
   * the time rule), resolved in it (2021 recovery), or naming a counted deployment whose time is
   * at or after `from`. Three index ranges rather than one OR, which would read every incident of
   * the scope: by (scope, created), by (scope, resolved), and from the deployment summary's
   * (scope, time) through the named links. `named` is the deployment an incident names, counted
   * or not: the caller matches it with the counted ones (no lookup per incident here, which cost a
   * random read each once the summary outgrew memory).
   */
  private async incidentRows(scope: DoraScopeIds, query: DoraQuery): Promise<Row[]> {
    const columns = `i.id AS id, i.created_date AS created, i.resolution_date AS resolved,
              i.lead_time_minutes AS lead_time, l.cicd_deployment_id AS named`;
    const named = 'LEFT JOIN _tool_webhook_incident_deployments l ON l.issue_id = i.id';
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
