import { queryNamed } from '../db/escape-query';
import { Brackets, type DataSource, type SelectQueryBuilder } from 'typeorm';
import type { ApiKeyService } from '../auth/api-key.service';
import { connectionKeyFields, type IssuedKey } from '../auth/api-key.service';
import type { WebhookConnection } from '../connections/connection.entity';
import type { ConnectionService } from '../connections/connection.service';
import { CicdDeployment, CicdDeploymentCommit } from '../deployments/deployment.entity';
import { Incident, Issue } from '../issues/issue.entity';
import { dateOf } from '../db/columns';
import { scopeIdOf } from '../projects/project.service';
import { WebhookConnection as ConnectionEntity } from '../connections/connection.entity';

/** What a connection has received: the answer to "my pipeline got 200, so where is my data?". */
export interface ConnectionCounts {
  deployments: number;
  /** Every issue row of the connection, incidents included (an incident is also an issue). */
  issues: number;
  incidents: number;
  /** The latest `updated_at` over the connection's deployments, issues and incidents. */
  lastDataAt: Date | null;
}

export interface ConnectionSummary extends ConnectionCounts {
  id: number;
  name: string;
  createdAt: Date | null;
  updatedAt: Date | null;
  /** When the connection's API key last authorised a request (null: never, or no key). */
  keyLastUsedAt: Date | null;
}

export interface ArrivedDeployment {
  /** The caller's deployment id (the stored id without its `webhook:<cid>:` prefix). */
  id: string;
  receivedAt: Date | null;
  name: string | null;
  environment: string | null;
  result: string | null;
  displayTitle: string | null;
  startedDate: Date | null;
  finishedDate: Date | null;
  /** What was deployed, as a person recognises it: each commit's repo, sha and ref. */
  commits: ArrivedCommit[];
}

export interface ArrivedCommit {
  repoUrl: string | null;
  commitSha: string;
  refName: string | null;
}

export interface ArrivedIssue {
  issueKey: string;
  receivedAt: Date | null;
  title: string | null;
  type: string | null;
  status: string | null;
  /** True when the issue also has an `incidents` row. */
  incident: boolean;
  resolutionDate: Date | null;
}

export interface ConnectionActivity extends ConnectionCounts {
  connectionId: number;
  deployments: number;
  /** Incidents with a resolution date: the only ones a recovery time can be measured for. */
  resolvedIncidents: number;
  latestDeployments: ArrivedDeployment[];
  latestIssues: ArrivedIssue[];
}

export const DEFAULT_ACTIVITY_LIMIT = 20;
export const MAX_ACTIVITY_LIMIT = 100;

/** `GET /activity`: connections per page by default, and at most. */
export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 500;

/** Which connections `GET /activity` lists: a page of them, optionally those whose name contains `search`. */
export interface ActivityListQuery {
  limit?: number;
  offset?: number;
  /** Case-insensitive part of the name. */
  search?: string;
}

/** A page of connections with their counts, and how many match in all. */
export interface ActivityPage {
  connections: ConnectionSummary[];
  total: number;
  limit: number;
  offset: number;
  search: string | null;
}

type Row = Record<string, unknown>;

/** `LIKE ... ESCAPE '!'` text matching `text` literally anywhere (one escape character on every engine). */
function likeContaining(text: string): string {
  return `%${text.replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

function latest(...dates: (Date | null | undefined)[]): Date | null {
  let out: Date | null = null;
  for (const date of dates) if (date && (!out || date.getTime() > out.getTime())) out = date;
  return out;
}

/** `webhook:5:abc` -> `abc`: the id the caller sent (docs/devlake-compatibility.md §9 prefixes it). */
function callerId(storedId: string, connectionId: number): string {
  const prefix = `${scopeIdOf(connectionId)}:`;
  return storedId.startsWith(prefix) ? storedId.slice(prefix.length) : storedId;
}

/**
 * Reads what each connection received, for the admin page. Rows are found the way the
 * ingestion services write them (docs/devlake-compatibility.md §5, §6): deployments by `cicd_scope_id`, issues by
 * their board (`board_issues`) or their `webhook:<cid>:` id prefix, incidents by `scope_id`.
 */
export class ActivityService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly connections: ConnectionService,
    private readonly apiKeys: ApiKeyService,
  ) {}

  private deploymentsOf(connectionId: number): SelectQueryBuilder<CicdDeployment> {
    return this.dataSource
      .getRepository(CicdDeployment)
      .createQueryBuilder('d')
      .where('d.cicd_scope_id = :scope', { scope: scopeIdOf(connectionId) });
  }

  private issuesOf(connectionId: number): SelectQueryBuilder<Issue> {
    const scope = scopeIdOf(connectionId);
    // The id prefix also finds issues whose board row is missing (e.g. rows written by an
    // older DevLake); the connection id is digits only, so `%` and `_` cannot appear in it.
    return this.dataSource
      .getRepository(Issue)
      .createQueryBuilder('i')
      .where(
        new Brackets((where) =>
          where
            .where('i.id LIKE :prefix', { prefix: `${scope}:%` })
            .orWhere('i.id IN (SELECT bi.issue_id FROM board_issues bi WHERE bi.board_id = :board)', { board: scope }),
        ),
      );
  }

  private incidentsOf(connectionId: number): SelectQueryBuilder<Incident> {
    return this.dataSource
      .getRepository(Incident)
      .createQueryBuilder('n')
      .where('n.scope_id = :scope', { scope: scopeIdOf(connectionId) });
  }

  /**
   * Issue counts as `issuesOf` finds issues: those on the connection's board (grouped, one
   * statement), plus those found by their id prefix alone (one UNION ALL statement per 100
   * connections, SQLite allowing 500 parts; each part an index range on the id).
   */
  private async issueCounts(connectionIds: number[]): Promise<Row[]> {
    const scopes = connectionIds.map(scopeIdOf);
    const out = await this.select(
      `SELECT bi.board_id AS scope, COUNT(*) AS n, MAX(i.updated_at) AS last
         FROM board_issues bi JOIN issues i ON i.id = bi.issue_id
        WHERE bi.board_id IN (:...scopes) GROUP BY bi.board_id`,
      { scopes },
    );
    for (let start = 0; start < connectionIds.length; start += 100) {
      const parts: string[] = [];
      const parameters: Record<string, unknown> = {};
      connectionIds.slice(start, start + 100).forEach((id, k) => {
        parts.push(
          `SELECT :board${k} AS scope, COUNT(*) AS n, MAX(i.updated_at) AS last FROM issues i
            WHERE i.id LIKE :prefix${k}
              AND NOT EXISTS (SELECT 1 FROM board_issues bi WHERE bi.board_id = :board${k} AND bi.issue_id = i.id)`,
        );
        // The connection id is digits only, so `%` and `_` cannot appear in the prefix.
        Object.assign(parameters, { [`prefix${k}`]: `${scopeIdOf(id)}:%`, [`board${k}`]: scopeIdOf(id) });
      });
      out.push(...(await this.select(parts.join(' UNION ALL '), parameters)));
    }
    return out;
  }

  async counts(connectionId: number): Promise<ConnectionCounts> {
    return (await this.countsOf([connectionId])).get(connectionId) as ConnectionCounts;
  }

  /**
   * A page of connections in id order, with their counts: the admin page's list. The counts of
   * the whole page come from a statement or two per kind of row (deployments, issues, incidents),
   * not from statements per connection, so a page costs the same whatever the number of webhooks.
   */
  async page(query: ActivityListQuery = {}): Promise<ActivityPage> {
    const limit = query.limit ?? DEFAULT_LIST_LIMIT;
    const offset = query.offset ?? 0;
    const search = query.search?.trim() ? query.search.trim() : null;
    const base = this.dataSource.getRepository(ConnectionEntity).createQueryBuilder('c');
    if (search) {
      base.where("LOWER(c.name) LIKE :pattern ESCAPE '!'", { pattern: likeContaining(search.toLowerCase()) });
    }
    const [connections, total] = await base.orderBy('c.id', 'ASC').skip(offset).take(limit).getManyAndCount();
    const ids = connections.map((c) => c.id);
    const [keys, counts] = await Promise.all([this.apiKeys.findConnectionKeys(ids), this.countsOf(ids)]);
    const lastUsed = await this.apiKeys.lastUsed([...keys.values()].map((k) => k.id));
    return {
      connections: connections.map((connection) => {
        const key = keys.get(connection.id);
        return {
          id: connection.id,
          name: connection.name,
          createdAt: connection.createdAt,
          updatedAt: connection.updatedAt,
          keyLastUsedAt: key ? (lastUsed.get(key.id) ?? null) : null,
          ...(counts.get(connection.id) as ConnectionCounts),
        };
      }),
      total,
      limit,
      offset,
      search,
    };
  }

  private async select(sql: string, parameters: Record<string, unknown>): Promise<Row[]> {
    return queryNamed(this.dataSource, sql, parameters);
  }

  /**
   * The counts of many connections at once. Deployments and incidents are grouped by scope;
   * issues are found as `issuesOf` finds them (board or id prefix), one part per connection in a
   * single UNION ALL statement.
   */
  async countsOf(connectionIds: number[]): Promise<Map<number, ConnectionCounts>> {
    const out = new Map<number, ConnectionCounts>();
    for (const id of connectionIds) out.set(id, { deployments: 0, issues: 0, incidents: 0, lastDataAt: null });
    if (connectionIds.length === 0) return out;
    const scopes = connectionIds.map(scopeIdOf);
    const byScope = new Map(connectionIds.map((id) => [scopeIdOf(id), id]));
    const [deployments, incidents, issues] = await Promise.all([
      this.select(
        `SELECT d.cicd_scope_id AS scope, COUNT(*) AS n, MAX(d.updated_at) AS last FROM cicd_deployments d
          WHERE d.cicd_scope_id IN (:...scopes) GROUP BY d.cicd_scope_id`,
        { scopes },
      ),
      this.select(
        `SELECT n.scope_id AS scope, COUNT(*) AS n, MAX(n.updated_at) AS last FROM incidents n
          WHERE n.scope_id IN (:...scopes) GROUP BY n.scope_id`,
        { scopes },
      ),
      this.issueCounts(connectionIds),
    ]);
    const add = (field: 'deployments' | 'issues' | 'incidents', row: Row) => {
      const id = byScope.get(String(row.scope));
      const counts = id === undefined ? undefined : out.get(id);
      if (!counts) return;
      counts[field] += Number(row.n);
      counts.lastDataAt = latest(counts.lastDataAt, dateOf(row.last));
    };
    for (const row of deployments) add('deployments', row);
    for (const row of incidents) add('incidents', row);
    for (const row of issues) add('issues', row);
    return out;
  }

  /** A connection's counts and the latest deployments and issues it received, newest first. */
  async ofConnection(connection: WebhookConnection, limit = DEFAULT_ACTIVITY_LIMIT): Promise<ConnectionActivity> {
    const cid = connection.id;
    const deployments = await this.deploymentsOf(cid)
      .orderBy('d.updated_at', 'DESC')
      .addOrderBy('d.id', 'DESC')
      .limit(limit)
      .getMany();
    const issues = await this.issuesOf(cid)
      .orderBy('i.updated_at', 'DESC')
      .addOrderBy('i.id', 'DESC')
      .limit(limit)
      .getMany();
    const incidentIds = new Set<string>();
    if (issues.length > 0) {
      const rows = await this.incidentsOf(cid)
        .andWhere('n.id IN (:...ids)', { ids: issues.map((issue) => issue.id) })
        .select(['n.id'])
        .getMany();
      for (const row of rows) incidentIds.add(row.id);
    }
    const commitsOf = new Map<string, ArrivedCommit[]>();
    if (deployments.length > 0) {
      const rows = await this.dataSource
        .getRepository(CicdDeploymentCommit)
        .createQueryBuilder('c')
        .where('c.cicd_deployment_id IN (:...ids)', { ids: deployments.map((d) => d.id) })
        .select(['c.cicdDeploymentId', 'c.repoUrl', 'c.commitSha', 'c.refName'])
        .orderBy('c.repo_url')
        .addOrderBy('c.commit_sha')
        .getMany();
      for (const row of rows) {
        const list = commitsOf.get(row.cicdDeploymentId ?? '') ?? [];
        list.push({ repoUrl: row.repoUrl ?? null, commitSha: row.commitSha, refName: row.refName || null });
        commitsOf.set(row.cicdDeploymentId ?? '', list);
      }
    }
    const resolvedIncidents = await this.incidentsOf(cid).andWhere('n.resolution_date IS NOT NULL').getCount();
    return {
      connectionId: cid,
      ...(await this.counts(cid)),
      resolvedIncidents,
      latestDeployments: deployments.map((d) => ({
        id: callerId(d.id, cid),
        receivedAt: d.updatedAt,
        name: d.name,
        environment: d.environment,
        result: d.result,
        displayTitle: d.displayTitle || null,
        startedDate: d.startedDate,
        finishedDate: d.finishedDate,
        commits: commitsOf.get(d.id) ?? [],
      })),
      latestIssues: issues.map((i) => ({
        issueKey: i.issueKey ?? callerId(i.id, cid),
        receivedAt: i.updatedAt,
        title: i.title,
        type: i.type,
        status: i.status,
        incident: incidentIds.has(i.id),
        resolutionDate: i.resolutionDate,
      })),
    };
  }

  /**
   * Renews a connection's key: a new plaintext, shown once; the old key stops working at once.
   * A connection without a key (one a DevLake installation made before keys existed) gets one.
   */
  async rotateKey(connection: WebhookConnection, updater: string | null): Promise<IssuedKey> {
    const key = await this.apiKeys.findConnectionKey(connection.id);
    if (!key) return this.apiKeys.issue({ ...connectionKeyFields(connection.id), creator: updater });
    return this.apiKeys.rotate(key.id, updater);
  }
}
