import { Brackets, type DataSource, type SelectQueryBuilder } from 'typeorm';
import type { ApiKeyService } from '../auth/api-key.service';
import { connectionKeyFields, type IssuedKey } from '../auth/api-key.service';
import type { WebhookConnection } from '../connections/connection.entity';
import type { ConnectionService } from '../connections/connection.service';
import { CicdDeployment, CicdDeploymentCommit } from '../deployments/deployment.entity';
import { Incident, Issue } from '../issues/issue.entity';
import { scopeIdOf } from '../projects/project.service';

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

  /** The newest `updated_at` of a query's rows; ordering by the column works the same on both databases. */
  private async newest<T extends { updatedAt: Date | null }>(query: SelectQueryBuilder<T>, alias: string) {
    const row = await query.clone().orderBy(`${alias}.updated_at`, 'DESC').limit(1).getOne();
    return row?.updatedAt ?? null;
  }

  async counts(connectionId: number): Promise<ConnectionCounts> {
    const deployments = this.deploymentsOf(connectionId);
    const issues = this.issuesOf(connectionId);
    const incidents = this.incidentsOf(connectionId);
    return {
      deployments: await deployments.getCount(),
      issues: await issues.getCount(),
      incidents: await incidents.getCount(),
      lastDataAt: latest(
        await this.newest(deployments, 'd'),
        await this.newest(issues, 'i'),
        await this.newest(incidents, 'n'),
      ),
    };
  }

  /** Every connection with its counts, in id order (the page's list). */
  async summary(): Promise<ConnectionSummary[]> {
    const connections = await this.connections.list();
    const keys = await this.apiKeys.findConnectionKeys(connections.map((c) => c.id));
    const lastUsed = await this.apiKeys.lastUsed([...keys.values()].map((k) => k.id));
    const out: ConnectionSummary[] = [];
    // One connection after the other: an admin page lists tens, and SQLite serialises anyway.
    for (const connection of connections) {
      const key = keys.get(connection.id);
      out.push({
        id: connection.id,
        name: connection.name,
        createdAt: connection.createdAt,
        updatedAt: connection.updatedAt,
        keyLastUsedAt: key ? (lastUsed.get(key.id) ?? null) : null,
        ...(await this.counts(connection.id)),
      });
    }
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
