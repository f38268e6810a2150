import type { DataSource, EntityManager } from 'typeorm';
import { dialectOf } from '../db/dialect';
import { dateOf, utcDatetimeText } from '../db/columns';
import { queryNamed } from '../db/escape-query';
import { withTransaction } from '../db/transaction';
import type { Logger } from '../logger';
import { outsideRequest } from '../http/request-context';
import { refreshLeadTimesAfterDeployments, refreshLeadTimesOfPullRequests } from './lead-time.store';
import {
  DEPLOYMENT_SUMMARY_TABLE,
  refreshDeploymentSummaries,
  summarisedCommitOf,
  summaryRowsOf,
  type SummaryRow,
} from '../deployments/deployment-summary';
import { ProjectPrMetricsService } from './project-pr-metrics.service';

/**
 * The tables DevLake's Grafana DORA dashboard reads besides the webhook's rows, which DevLake's
 * `dora` plugin fills only when a project's pipeline runs (the README's "Compatibility with DevLake"):
 *
 * - `cicd_deployment_commits.prev_success_deployment_commit_id`: each successful deployment
 *   commit row points at the previous successful one of the same scope, repo and environment;
 * - `project_incident_deployment_relationships`: each incident of a project is linked to the
 *   deployment that caused it.
 *
 * Here they are kept current as data arrives (`DoraTablesRefresher`, right after the write
 * commits) and when a connection joins or leaves a project; so the dashboard needs no DevLake
 * running. Each refresh touches only what a write can change: a few indexed statements.
 */

type Row = Record<string, unknown>;

/** What DevLake counts as a deployment in its DORA SQL. */
const SUCCESS = 'SUCCESS';
const PRODUCTION = 'PRODUCTION';

/** IN lists and multi-row statements stay far below SQLite's and MySQL's parameter limits. */
const BATCH = 500;

/** Links per INSERT: nine parameters each. */
const LINK_BATCH = 200;

/** The rows of one chain: DevLake groups by scope, repo and environment (named parameters). */
const IN_CHAIN =
  'cicd_scope_id = :scope AND environment = :environment AND result = :result AND repo_url = :repoUrl AND finished_date IS NOT NULL';

/** Spans of one chain read per statement: three index ranges each. */
const SPANS_PER_READ = 50;

/** Rows per chain UPDATE: three parameters each. */
const CHAIN_BATCH = 250;

/** One chain of `prev_success_deployment_commit_id`: DevLake groups by scope, repo and environment. */
export interface ChainTouch {
  /** The commit row (`cicd_deployment_commits.id`). */
  id: string;
  repoUrl: string;
  environment: string | null;
  /** The finish of a row a write put or removed in this chain. */
  finishedDate: Date | null;
  /** A row written that is in no chain now (not a success, or no finish): its pointer goes. */
  leftChains?: boolean;
}

/**
 * The pointers that change when `rows` (in chain order) follow the row `previous` ('' when they
 * start the chain): each points at the one before it.
 */
function pointerChanges(previous: string, rows: Row[]): [string, string][] {
  const changes: [string, string][] = [];
  let before = previous;
  for (const row of rows) {
    const id = String(row.id);
    if ((row.prev ?? '') !== before || row.prev === null) changes.push([id, before]);
    before = id;
  }
  return changes;
}

/** A stored `cicd_deployment_commits` row (its column names) as the place it holds in a chain. */
export function storedChainTouch(row: Record<string, unknown>): ChainTouch {
  return {
    id: String(row.id),
    repoUrl: row.repo_url === null || row.repo_url === undefined ? '' : String(row.repo_url),
    environment: row.environment === null || row.environment === undefined ? null : String(row.environment),
    finishedDate: dateOf(row.finished_date),
  };
}

function batches<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(items.slice(i, i + BATCH));
  return out;
}

/** The `_raw_data_params` DevLake's dora plugin writes: `{"ProjectName":"<name>"}`. */
export function doraRawDataParams(projectName: string): string {
  return JSON.stringify({ ProjectName: projectName });
}

/** Maintains DevLake's DORA tables; every method runs inside the caller's transaction. */
export class DevLakeDoraTables {
  /**
   * Rewalks the chains a deployment write touched, as DevLake's `enrichPrevSuccessDeploymentCommits`
   * walks them: the successful rows of one (scope, repo, environment) with a finish, ordered by
   * finish (then id, so that equal finishes give the same chain on every database); each row
   * points at the one before it, the first at `''`. Only the rows around the touched finishes
   * are read (touches close in time as one span, with its neighbours), and only changed pointers
   * are written.
   * Rows that did not succeed keep `''`, as the webhook writes them.
   */
  async refreshChains(manager: EntityManager, scopeId: string, touched: ChainTouch[]): Promise<void> {
    // A touched row that is in no chain now (not a success, or no finish) points nowhere.
    const ids = [...new Set(touched.filter((touch) => touch.leftChains).map((touch) => touch.id))];
    for (const batch of batches(ids)) {
      await queryNamed<Row>(
        manager,
        `UPDATE cicd_deployment_commits SET prev_success_deployment_commit_id = ''
          WHERE id IN (:...ids) AND prev_success_deployment_commit_id <> ''
            AND NOT (result = :result AND finished_date IS NOT NULL)`,
        { ids: batch, result: SUCCESS },
      );
    }
    // Per chain, the finishes a write put or removed. A row's pointer depends only on the row
    // before it, so around each of them only the rows at that finish and the first row after
    // it can change. (A row without a finish is in no chain: its touch changes nothing.)
    const chains = new Map<string, { repoUrl: string; environment: string; finishes: number[] }>();
    for (const touch of touched) {
      if (!touch.repoUrl || !touch.environment || !touch.finishedDate) continue;
      const key = JSON.stringify([touch.repoUrl, touch.environment]);
      const chain = chains.get(key);
      if (chain) chain.finishes.push(touch.finishedDate.getTime());
      else
        chains.set(key, {
          repoUrl: touch.repoUrl,
          environment: touch.environment,
          finishes: [touch.finishedDate.getTime()],
        });
    }
    for (const chain of chains.values()) await this.rewalkSpans(manager, scopeId, chain, spansOf(chain.finishes));
  }

  /**
   * Rewalks one chain around `spans` (touched finishes, see `spansOf`): for each span the rows
   * in it, the row before it and the first row after it, read for up to SPANS_PER_READ spans in
   * one statement (a UNION ALL of index ranges), then the pointers that changed are written.
   */
  private async rewalkSpans(
    manager: EntityManager,
    scopeId: string,
    chain: { repoUrl: string; environment: string | null },
    spans: { from: Date; to: Date }[],
  ): Promise<void> {
    const group = { scope: scopeId, repoUrl: chain.repoUrl, environment: chain.environment, result: SUCCESS };
    const changes: [string, string][] = [];
    for (let first = 0; first < spans.length; first += SPANS_PER_READ) {
      const part = spans.slice(first, first + SPANS_PER_READ);
      const parameters: Record<string, unknown> = { ...group };
      const selects = part.flatMap((span, i) => {
        parameters[`from${i}`] = span.from;
        parameters[`to${i}`] = span.to;
        const columns = 'id, prev_success_deployment_commit_id AS prev, finished_date AS finished';
        // The neighbours in derived tables: SQLite takes no ORDER BY or LIMIT in a UNION's parts.
        return [
          `SELECT ${i} AS span, 0 AS part, id, prev, finished FROM (SELECT ${columns} FROM cicd_deployment_commits
             WHERE ${IN_CHAIN} AND finished_date < :from${i} ORDER BY finished_date DESC, id DESC LIMIT 1) AS before${i}`,
          `SELECT ${i} AS span, 1 AS part, ${columns} FROM cicd_deployment_commits
             WHERE ${IN_CHAIN} AND finished_date >= :from${i} AND finished_date <= :to${i}`,
          `SELECT ${i} AS span, 2 AS part, id, prev, finished FROM (SELECT ${columns} FROM cicd_deployment_commits
             WHERE ${IN_CHAIN} AND finished_date > :to${i} ORDER BY finished_date, id LIMIT 1) AS after${i}`,
        ];
      });
      // In chain order per span (the database orders ties by id as its own walk does).
      const rows = await queryNamed<Row>(
        manager,
        `${selects.join('\n UNION ALL ')}\n ORDER BY span, part, finished, id`,
        parameters,
      );
      const bySpan = new Map<number, Row[]>();
      for (const row of rows) {
        const list = bySpan.get(Number(row.span));
        if (list) list.push(row);
        else bySpan.set(Number(row.span), [row]);
      }
      for (const list of bySpan.values()) {
        const before = Number(list[0].part) === 0 ? String(list[0].id) : '';
        changes.push(...pointerChanges(before, Number(list[0].part) === 0 ? list.slice(1) : list));
      }
    }
    await this.writePointers(manager, changes);
  }

  /** Rewalks one chain whole (the rebuild). */
  private async rewalkChain(
    manager: EntityManager,
    scopeId: string,
    chain: { repoUrl: string; environment: string | null },
  ): Promise<void> {
    const group = { scope: scopeId, repoUrl: chain.repoUrl, environment: chain.environment, result: SUCCESS };
    const rows = await queryNamed<Row>(
      manager,
      `SELECT id, prev_success_deployment_commit_id AS prev FROM cicd_deployment_commits
        WHERE ${IN_CHAIN} ORDER BY finished_date, id`,
      group,
    );
    await this.writePointers(manager, pointerChanges('', rows));
  }

  /** One statement per batch of changed rows: a deployment of many commits changes them all. */
  private async writePointers(manager: EntityManager, changes: [string, string][]): Promise<void> {
    const unique = [...new Map(changes).entries()];
    for (let start = 0; start < unique.length; start += CHAIN_BATCH) {
      const batch = unique.slice(start, start + CHAIN_BATCH);
      await manager.query(
        dialectOf(manager).sql(
          `UPDATE cicd_deployment_commits SET prev_success_deployment_commit_id = CASE id ${batch
            .map(() => 'WHEN ? THEN ?')
            .join(' ')} END WHERE id IN (${batch.map(() => '?').join(', ')})`,
        ),
        [...batch.flat(), ...batch.map(([id]) => id)],
      );
    }
  }

  /** Every project that maps one of DevLake's scope tables to this row (a connection's scope or board). */
  async projectsOf(manager: EntityManager, table: 'cicd_scopes' | 'boards', rowId: string): Promise<string[]> {
    const rows = await queryNamed<Row>(
      manager,
      `SELECT project_name FROM project_mapping WHERE ${manager.connection.driver.escape('table')} = :table AND row_id = :rowId`,
      { table, rowId },
    );
    return rows.map((row) => String(row.project_name));
  }

  /**
   * After a deployment write: the incidents whose link can change are those of the projects of
   * its scope created after the earliest finish the write put or removed (DevLake's rule only
   * looks back from an incident's creation).
   */
  async refreshLinksAfterDeployment(manager: EntityManager, scopeId: string, since: Date | null): Promise<void> {
    for (const projectName of await this.projectsOf(manager, 'cicd_scopes', scopeId)) {
      await this.relink(manager, projectName, since ? { createdAfter: since } : {});
    }
  }

  /** After an issue write: its incident's link in each project of its board, or no link when it is not one. */
  async refreshLinksOfIncident(manager: EntityManager, incidentId: string, boardId: string): Promise<void> {
    await manager.query(dialectOf(manager).sql('DELETE FROM project_incident_deployment_relationships WHERE id = ?'), [
      incidentId,
    ]);
    for (const projectName of await this.projectsOf(manager, 'boards', boardId)) {
      await this.relink(manager, projectName, { incidentId });
    }
  }

  /** Every link of a project, from scratch (a connection joined or left it). */
  async rebuildProject(manager: EntityManager, projectName: string): Promise<void> {
    await this.relink(manager, projectName, {});
  }

  /** Every project's links and every webhook scope's chains: the first fill of an existing database. */
  async rebuildAll(manager: EntityManager): Promise<void> {
    const projects = await queryNamed<Row>(manager, 'SELECT DISTINCT project_name FROM project_mapping', {});
    for (const row of projects) await this.rebuildProject(manager, String(row.project_name));
    const groups = await queryNamed<Row>(
      manager,
      `SELECT DISTINCT cicd_scope_id, repo_url, environment FROM cicd_deployment_commits
        WHERE cicd_scope_id LIKE :prefix AND result = :result`,
      { prefix: 'webhook:%', result: SUCCESS },
    );
    for (const group of groups) {
      await this.rewalkChain(manager, String(group.cicd_scope_id), {
        repoUrl: String(group.repo_url ?? ''),
        environment: group.environment === null ? null : String(group.environment),
      });
    }
  }

  /**
   * DevLake's `ConnectIncidentToDeployment` for some of a project's incidents: the incident's
   * deployment is the one it names (`deploymentId`, ours), else the deployment of the latest
   * successful production commit row of the project that finished strictly before the incident
   * was created (ties: the greatest deployment id, so every database picks the same). No such
   * deployment: no row. One DELETE and one INSERT ... SELECT.
   */
  private async relink(
    manager: EntityManager,
    projectName: string,
    only: { incidentId?: string; createdAfter?: Date },
  ): Promise<void> {
    const q = (name: string) => manager.connection.driver.escape(name);
    const filters: string[] = [];
    if (only.incidentId !== undefined) filters.push('i.id = :incidentId');
    if (only.createdAfter !== undefined) filters.push('i.created_date > :createdAfter');
    const where = filters.length > 0 ? `AND ${filters.join(' AND ')}` : '';
    const incidentsOfProject = `FROM incidents i
        JOIN project_mapping pm ON pm.row_id = i.scope_id AND pm.${q('table')} = i.${q('table')} AND pm.project_name = :projectName
       WHERE 1 = 1 ${where}`;
    const parameters = {
      projectName,
      incidentId: only.incidentId,
      createdAfter: only.createdAfter,
      result: SUCCESS,
      environment: PRODUCTION,
      now: new Date(),
      rawParams: doraRawDataParams(projectName),
    };
    if (filters.length === 0) {
      // From scratch, as DevLake's subtask: also drops the links of incidents that left the project.
      await manager.query(
        dialectOf(manager).sql('DELETE FROM project_incident_deployment_relationships WHERE project_name = ?'),
        [projectName],
      );
    } else {
      const ids = await queryNamed<Row>(manager, `SELECT i.id AS id ${incidentsOfProject}`, parameters);
      if (ids.length === 0) return;
      await this.deleteLinks(
        manager,
        projectName,
        ids.map((row) => String(row.id)),
      );
    }
    // Read first, then insert: an INSERT ... SELECT would hold shared locks on the deployment
    // rows it reads (InnoDB), so concurrent deployments would queue and deadlock behind it.
    const links = await queryNamed<Row>(
      manager,
      `SELECT i.id AS id, COALESCE(i._raw_data_id, 0) AS raw_id,
              COALESCE(
                (SELECT l.cicd_deployment_id FROM _tool_webhook_incident_deployments l WHERE l.issue_id = i.id),
                (SELECT c.cicd_deployment_id
                   FROM cicd_deployment_commits c
                   JOIN project_mapping cm ON cm.row_id = c.cicd_scope_id
                        AND cm.${q('table')} = 'cicd_scopes' AND cm.project_name = :projectName
                  WHERE c.result = :result AND c.environment = :environment
                    AND c.finished_date < i.created_date
                  ORDER BY c.finished_date DESC, c.cicd_deployment_id DESC
                  LIMIT 1)) AS deployment_id
         ${incidentsOfProject}`,
      parameters,
    );
    const rows = links.filter((row) => row.deployment_id !== null && row.deployment_id !== undefined);
    const dialect = dialectOf(manager);
    const columns = [
      'id',
      'project_name',
      'deployment_id',
      'created_at',
      'updated_at',
      '_raw_data_params',
      '_raw_data_table',
      '_raw_data_id',
      '_raw_data_remark',
    ];
    const { head, tail } = dialect.upsert(
      'project_incident_deployment_relationships',
      columns,
      ['id', 'project_name'],
      columns.slice(2),
    );
    const now = utcDatetimeText(new Date());
    for (let start = 0; start < rows.length; start += LINK_BATCH) {
      const batch = rows.slice(start, start + LINK_BATCH);
      const values = batch.flatMap((row) => [
        String(row.id),
        projectName,
        String(row.deployment_id),
        now,
        now,
        parameters.rawParams,
        'incidents',
        Number(row.raw_id),
        '',
      ]);
      const marks = batch.map(
        (_, i) => `(${columns.map((__, j) => dialect.placeholder(i * columns.length + j + 1)).join(', ')})`,
      );
      await manager.query(`${head}${marks.join(', ')}${tail}`, values);
    }
  }

  private async deleteLinks(manager: EntityManager, projectName: string, ids: string[]): Promise<void> {
    for (const batch of batches(ids)) {
      await queryNamed<Row>(
        manager,
        'DELETE FROM project_incident_deployment_relationships WHERE project_name = :projectName AND id IN (:...ids)',
        { projectName, ids: batch },
      );
    }
  }
}

/** What is waiting to be refreshed: chains by scope, repo and environment; links by scope and incident. */
interface PendingRefresh {
  /** Deployments written, whose DORA summary rows are refreshed from their committed rows. */
  summaries: Set<string>;
  chains: Map<string, ChainTouch[]>;
  /** Scopes whose deployments changed, with the earliest finish put or removed (null: all). */
  deploymentScopes: Map<string, Date | null>;
  /** Incidents written, with their board. */
  incidents: Map<string, string>;
  /** Lead times: per scope, the deployments written and the earliest start among their rows. */
  leadTimeDeployments: Map<string, { since: Date; ids: Set<string> }>;
  /** Lead times: per repository scope, the pull requests written. */
  leadTimePullRequests: Map<string, Set<string>>;
}

function nothingPending(): PendingRefresh {
  return {
    summaries: new Set(),
    chains: new Map(),
    deploymentScopes: new Map(),
    incidents: new Map(),
    leadTimeDeployments: new Map(),
    leadTimePullRequests: new Map(),
  };
}

/** Adds deployments (and their earliest start) to what waits for a lead-time refresh. */
function addLeadTimeDeployments(pending: PendingRefresh, scopeId: string, ids: Iterable<string>, since: Date): void {
  const entry = pending.leadTimeDeployments.get(scopeId);
  if (!entry) pending.leadTimeDeployments.set(scopeId, { since, ids: new Set(ids) });
  else {
    for (const id of ids) entry.ids.add(id);
    if (since < entry.since) entry.since = since;
  }
}

function addLeadTimePullRequests(pending: PendingRefresh, scopeId: string, ids: Iterable<string>): void {
  const set = pending.leadTimePullRequests.get(scopeId) ?? new Set<string>();
  for (const id of ids) set.add(id);
  pending.leadTimePullRequests.set(scopeId, set);
}

/** A summary row as text, to compare what is stored with what the rows give. */
function summaryText(row: SummaryRow): string {
  return JSON.stringify([row.scopeId, row.finished.getTime(), row.started.getTime(), row.refLow, row.refHigh]);
}

/** Touched finishes closer than this are always one span. */
const SPAN_GAP_MS = 1_000;

/** A gap this many times the usual one between a chain's touched finishes splits its spans. */
const SPAN_GAP_FACTOR = 10;

/**
 * Touched finishes (ms) as spans to rewalk, each read whole with its neighbours. Sorted, and
 * split where two are much further apart than the touches usually are (more than
 * SPAN_GAP_FACTOR times the median gap, and more than SPAN_GAP_MS): a burst of deployments is
 * one span however it interleaves with older rows, while a re-post that moves one old deployment
 * to now, among many new ones, is read at its two places rather than over everything between.
 */
export function spansOf(finishes: number[]): { from: Date; to: Date }[] {
  const sorted = [...new Set(finishes)].sort((a, b) => a - b);
  const gaps = sorted.slice(1).map((finish, i) => finish - sorted[i]);
  const usual = [...gaps].sort((a, b) => a - b)[Math.floor((gaps.length - 1) / 2)] ?? 0;
  const split = Math.max(SPAN_GAP_MS, SPAN_GAP_FACTOR * usual);
  const spans: { from: Date; to: Date }[] = [];
  let start = sorted[0];
  for (let i = 1; i <= sorted.length; i += 1) {
    if (i === sorted.length || sorted[i] - sorted[i - 1] > split) {
      spans.push({ from: new Date(start), to: new Date(sorted[i - 1]) });
      start = sorted[i];
    }
  }
  return spans;
}

/** The earlier of two starting points, where null means from the beginning. */
function earlier(a: Date | null, b: Date | null): Date | null {
  return a === null || b === null ? null : a < b ? a : b;
}

const refreshers = new WeakMap<DataSource, DoraTablesRefresher>();

/**
 * The refresher of a DataSource: one per database, shared by every service that writes to it,
 * so that refreshes never run side by side. `logger` (the plugin's) is where failures go.
 */
export function doraTablesRefresherOf(dataSource: DataSource, logger?: Logger): DoraTablesRefresher {
  let refresher = refreshers.get(dataSource);
  if (!refresher) {
    refresher = new DoraTablesRefresher(dataSource);
    refreshers.set(dataSource, refresher);
  }
  if (logger) refresher.logger = logger;
  return refresher;
}

/**
 * How far back the plugin checks, when it starts, that the deployments written have their
 * summary (`catchUp`): a restart after a crash or a kill repairs what the stopped process left
 * undone. After a crash followed by a longer outage: `npm run rebuild-summary`.
 */
export const CATCH_UP_MS = 60 * 60 * 1000;

/** Beyond this many deployment commit rows written in the last hour, the catch-up leaves them (and says so). */
const CATCH_UP_MAX_ROWS = 50_000;

/** How long a failed refresh waits before it is tried again (the database may be restarting). */
const RETRY_MS = 1_000;

/**
 * How long work waits for more before its refresh starts, after a quiet period and after each
 * refresh: under steady writes each refresh then takes a few hundred of them, not a few, and
 * its statements and transaction cost that much less per write (the ingestion requests
 * themselves never wait; a reader that waits for the refresh starts it at once).
 */
const GATHER_MS = 100;

/**
 * Brings DevLake's DORA tables up to date in the background, right after the writes that call
 * for it have committed, one refresh at a time.
 *
 * Why after, not inside the write's transaction: a deployment's chain pointer depends on the
 * other deployments of its repo, and two concurrent deployments of one repo would each miss the
 * other's uncommitted row and leave a wrong pointer. Run here, each refresh reads every committed
 * row. Why in the background: the dashboard's tables are not what a sender waits for, so an
 * ingestion request stays at its own few statements; the work that arrives while a refresh runs
 * is merged into the next (a burst of deployments of one repo costs one rewalk, not one each).
 * A refresh that fails is logged and tried again with the work that arrived since.
 *
 * `settled()` resolves once every write so far is reflected (tests, and hosts that read the
 * tables right after writing); `close()` finishes the work pending and stops retrying.
 */
export class DoraTablesRefresher {
  logger: Logger | undefined;
  private readonly tables = new DevLakeDoraTables();
  private pending = nothingPending();
  /** Writes reported so far, and how many of them the refreshes that succeeded covered. */
  private reported = 0;
  private covered = 0;
  private running: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private gatherTimer: NodeJS.Timeout | undefined;
  /** Closing: pending work gets one last try, failures are no longer retried. */
  private closing = false;
  /** The catch-up's reads, while they run: the work they find is not reported yet. */
  private catchingUp: Promise<void> | undefined;

  private readonly projectPrMetrics: ProjectPrMetricsService;

  constructor(private readonly dataSource: DataSource) {
    this.projectPrMetrics = new ProjectPrMetricsService(dataSource);
  }

  /**
   * After deployments of a scope were written: `touched` are the commit rows put and removed,
   * `deploymentIds` the deployments and `since` the earliest start among their new rows (for
   * the lead times of the pull requests they may ship).
   */
  afterDeployments(scopeId: string, touched: ChainTouch[], deploymentIds: string[] = [], since?: Date): void {
    for (const id of deploymentIds) this.pending.summaries.add(id);
    if (deploymentIds.length > 0 && since) addLeadTimeDeployments(this.pending, scopeId, deploymentIds, since);
    this.pending.chains.set(scopeId, [...(this.pending.chains.get(scopeId) ?? []), ...touched]);
    // The earliest finish put or removed; none known: every incident of the scope's projects.
    const times = touched.map((touch) => touch.finishedDate).filter((time): time is Date => time !== null);
    const earliest = times.length === 0 ? null : times.reduce((a, b) => (b < a ? b : a));
    const scopes = this.pending.deploymentScopes;
    scopes.set(scopeId, scopes.has(scopeId) ? earlier(scopes.get(scopeId) ?? null, earliest) : earliest);
    this.soon();
  }

  /** After pull requests of a repository scope were written: their lead times. */
  afterPullRequests(scopeId: string, pullRequestIds: string[]): void {
    if (pullRequestIds.length === 0) return;
    addLeadTimePullRequests(this.pending, scopeId, pullRequestIds);
    this.soon();
  }

  /** After issues were written: their incident links in the projects of their board. */
  afterIssues(issues: { issueId: string; boardId: string }[]): void {
    if (issues.length === 0) return;
    for (const { issueId, boardId } of issues) this.pending.incidents.set(issueId, boardId);
    this.soon();
  }

  /**
   * Repairs what a process that stopped between a deployment's commit and its refresh (a crash,
   * a kill) left undone: the deployments the webhook's connections wrote since `since` whose
   * summary row is not what their committed rows give are refreshed again, as if just written
   * (their summary, DevLake's chains and incident links, lead times, project_pr_metrics). After a
   * clean stop there are none, and nothing is written. The plugin runs it once it is verified,
   * for the last `CATCH_UP_MS`; readers that wait for the refresh wait for it too.
   */
  catchUp(since: Date): Promise<void> {
    const run = outsideRequest(() => this.queueUnsummarisedSince(since));
    const tracked: Promise<void> = run
      .catch(() => undefined)
      .finally(() => {
        if (this.catchingUp === tracked) this.catchingUp = undefined;
      });
    this.catchingUp = tracked;
    return run;
  }

  private async queueUnsummarisedSince(since: Date): Promise<void> {
    const commits = await queryNamed<Row>(
      this.dataSource,
      `SELECT c.cicd_scope_id, c.cicd_deployment_id, c.id, c.repo_url, c.environment, c.result, c.started_date,
              c.finished_date, c.ref_name
         FROM cicd_deployments d JOIN cicd_deployment_commits c ON c.cicd_deployment_id = d.id
        WHERE d.updated_at >= :since AND d.cicd_scope_id LIKE 'webhook:%'
        LIMIT ${CATCH_UP_MAX_ROWS + 1}`,
      { since },
    );
    if (commits.length > CATCH_UP_MAX_ROWS) {
      this.logger?.warn(
        `DORA tables: more than ${CATCH_UP_MAX_ROWS} deployment rows were written in the last hour; not checked at start (if the previous process stopped abruptly, run \`npm run rebuild-summary\`)`,
      );
      return;
    }
    const byDeployment = new Map<string, Row[]>();
    for (const row of commits) {
      const list = byDeployment.get(String(row.cicd_deployment_id));
      if (list) list.push(row);
      else byDeployment.set(String(row.cicd_deployment_id), [row]);
    }
    const expected = new Map(
      summaryRowsOf(commits.map(summarisedCommitOf)).map((row) => [row.deploymentId, summaryText(row)]),
    );
    const stored = new Map<string, string>();
    for (const batch of batches([...byDeployment.keys()])) {
      const rows = await queryNamed<Row>(
        this.dataSource,
        `SELECT cicd_deployment_id AS id, cicd_scope_id AS scope, finished_date AS finished, started_date AS started,
                ref_low AS low, ref_high AS high
           FROM ${DEPLOYMENT_SUMMARY_TABLE} WHERE cicd_deployment_id IN (:...ids)`,
        { ids: batch },
      );
      for (const row of rows) {
        const summary = {
          deploymentId: String(row.id),
          scopeId: String(row.scope),
          finished: dateOf(row.finished) as Date,
          started: dateOf(row.started) as Date,
          refLow: String(row.low ?? ''),
          refHigh: String(row.high ?? ''),
        };
        stored.set(summary.deploymentId, summaryText(summary));
      }
    }
    // Per scope, the rows of the deployments whose summary is missing, stale or should not exist.
    const stale = new Map<string, Row[]>();
    for (const [deploymentId, rows] of byDeployment) {
      if (expected.get(deploymentId) === stored.get(deploymentId)) continue;
      const scopeId = String(rows[0].cicd_scope_id);
      const list = stale.get(scopeId);
      if (list) list.push(...rows);
      else stale.set(scopeId, [...rows]);
    }
    for (const [scopeId, rows] of stale) {
      const touched = rows.map((row) => {
        const touch = storedChainTouch(row);
        return { ...touch, leftChains: row.result !== SUCCESS || touch.finishedDate === null };
      });
      const starts = rows.flatMap((row) => {
        const start = dateOf(row.started_date) ?? dateOf(row.finished_date);
        return start ? [start.getTime()] : [];
      });
      this.afterDeployments(
        scopeId,
        touched,
        [...new Set(rows.map((row) => String(row.cicd_deployment_id)))],
        starts.length > 0 ? new Date(starts.reduce((a, b) => Math.min(a, b))) : undefined,
      );
    }
  }

  /**
   * Resolves when every write so far is reflected in the tables. While the database refuses,
   * it waits for the retries; while closing, a failed last try ends the wait (and is logged).
   */
  async settled(): Promise<void> {
    await this.catchingUp;
    while (await this.waitStep());
  }

  /**
   * Resolves once the writes reported before the call are reflected, however many arrive
   * meanwhile (`settled()` would wait for those too, and under steady writes might not return),
   * or after `maxWaitMs` when the refresh keeps failing: a reader then sees the tables as they
   * are rather than waiting for the database to come back.
   */
  async caughtUp(maxWaitMs = 10_000): Promise<void> {
    const deadline = Date.now() + maxWaitMs;
    // The start-up check counts too, within the same bound (it reads a large table slowly).
    if (this.catchingUp) {
      let timer: NodeJS.Timeout | undefined;
      const bound = Number.isFinite(maxWaitMs)
        ? new Promise<void>((resolve) => {
            timer = setTimeout(resolve, maxWaitMs);
          })
        : undefined;
      await (bound ? Promise.race([this.catchingUp, bound]) : this.catchingUp);
      clearTimeout(timer);
    }
    const target = this.reported;
    while (this.covered < target && Date.now() < deadline && (await this.waitStep()));
  }

  /**
   * One step of waiting for the refresh: starts pending work at once, waits for the running
   * refresh or a moment of the retry pause. False when there is nothing left to wait for.
   */
  private async waitStep(): Promise<boolean> {
    if (this.gatherTimer) {
      // Nobody else is worth waiting for: the caller wants the tables now.
      clearTimeout(this.gatherTimer);
      this.gatherTimer = undefined;
      this.start();
    }
    if (this.running) await this.running;
    else if (this.retryTimer) await new Promise((resolve) => setTimeout(resolve, RETRY_MS / 4));
    else if (this.hasPending() && !this.closing) this.start();
    else return false;
    return true;
  }

  /** Finishes the pending work (one try) and stops: call before closing the DataSource. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.start(true);
    }
    try {
      await this.settled();
    } finally {
      this.closing = false;
    }
  }

  private hasPending(): boolean {
    const { summaries, chains, deploymentScopes, incidents, leadTimeDeployments, leadTimePullRequests } = this.pending;
    return (
      summaries.size > 0 ||
      chains.size > 0 ||
      deploymentScopes.size > 0 ||
      incidents.size > 0 ||
      leadTimeDeployments.size > 0 ||
      leadTimePullRequests.size > 0
    );
  }

  /** Counts a write and gathers its work for the next refresh. */
  private soon(): void {
    this.reported += 1;
    this.gather();
  }

  /** Starts a refresh of the pending work after `GATHER_MS`, unless one is running, waiting or about to retry. */
  private gather(): void {
    if (this.running || this.retryTimer || this.gatherTimer || !this.hasPending()) return;
    // The refresh is nobody's request: its database time and retries are its own.
    this.gatherTimer = outsideRequest(() =>
      setTimeout(() => {
        this.gatherTimer = undefined;
        this.start();
      }, GATHER_MS),
    );
    this.gatherTimer.unref();
  }

  private start(force = false): void {
    if (this.running || (this.retryTimer && !force) || !this.hasPending()) return;
    const work = this.pending;
    const reported = this.reported;
    this.pending = nothingPending();
    this.running = (async () => {
      let failed = false;
      try {
        await withTransaction(this.dataSource, (manager) => this.apply(manager, work), 8, { readCommitted: true });
        this.covered = Math.max(this.covered, reported);
      } catch (error) {
        failed = true;
        this.requeue(work);
        this.logger?.warn(
          { err: error instanceof Error ? error.message : String(error) },
          this.closing
            ? "DevLake's DORA tables: refresh failed while closing"
            : "DevLake's DORA tables: refresh failed; trying again",
        );
        if (!this.closing) {
          this.retryTimer = outsideRequest(() =>
            setTimeout(() => {
              this.retryTimer = undefined;
              this.start();
            }, RETRY_MS),
          );
          this.retryTimer.unref();
        }
      } finally {
        this.running = undefined;
      }
      // What arrived meanwhile, gathered with what follows; after a failure, the retry takes it.
      if (!failed) this.gather();
    })();
  }

  /** Puts failed work back in front of what arrived since. */
  private requeue(work: PendingRefresh): void {
    for (const id of work.summaries) this.pending.summaries.add(id);
    for (const [scopeId, touches] of work.chains) {
      this.pending.chains.set(scopeId, [...touches, ...(this.pending.chains.get(scopeId) ?? [])]);
    }
    for (const [scopeId, since] of work.deploymentScopes) {
      const scopes = this.pending.deploymentScopes;
      scopes.set(scopeId, scopes.has(scopeId) ? earlier(scopes.get(scopeId) ?? null, since) : since);
    }
    for (const [incidentId, boardId] of work.incidents) {
      if (!this.pending.incidents.has(incidentId)) this.pending.incidents.set(incidentId, boardId);
    }
    for (const [scopeId, { since, ids }] of work.leadTimeDeployments) {
      addLeadTimeDeployments(this.pending, scopeId, ids, since);
    }
    for (const [scopeId, ids] of work.leadTimePullRequests) addLeadTimePullRequests(this.pending, scopeId, ids);
  }

  private async apply(manager: EntityManager, work: PendingRefresh): Promise<void> {
    // The summary first: the lead-time refreshes below read it.
    await refreshDeploymentSummaries(manager, [...work.summaries]);
    for (const [scopeId, touches] of work.chains) await this.tables.refreshChains(manager, scopeId, touches);
    for (const [scopeId, since] of work.deploymentScopes) {
      await this.tables.refreshLinksAfterDeployment(manager, scopeId, since);
    }
    for (const [incidentId, boardId] of work.incidents) {
      await this.tables.refreshLinksOfIncident(manager, incidentId, boardId);
    }
    // Pull requests first: a deployment's refresh then sees their rows.
    for (const [scopeId, ids] of work.leadTimePullRequests) {
      await refreshLeadTimesOfPullRequests(manager, scopeId, [...ids]);
    }
    for (const [scopeId, { since, ids }] of work.leadTimeDeployments) {
      await refreshLeadTimesAfterDeployments(manager, scopeId, [...ids], since);
    }
    // DevLake's project_pr_metrics, for the connections in a project, from the same writes.
    for (const [scopeId, ids] of work.leadTimePullRequests) {
      await this.projectPrMetrics.afterPullRequests(manager, scopeId, [...ids]);
    }
    for (const [scopeId, { since, ids }] of work.leadTimeDeployments) {
      await this.projectPrMetrics.afterDeployment(manager, scopeId, [...ids], since);
    }
  }
}
