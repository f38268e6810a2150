import { In, type DataSource, type EntityManager } from 'typeorm';
import { WebhookConnection } from '../connections/connection.entity';
import { NO_RAW_DATA } from '../db/columns';
import { withTransaction } from '../db/transaction';
import { DevLakeDoraTables } from '../dora/devlake-dora-tables';
import { upsertRows } from '../db/upsert';
import { ProjectPrMetricsService } from '../dora/project-pr-metrics.service';
import { Board } from '../issues/issue.entity';
import { CicdScope, Project, ProjectMapping, Repo } from './project.entity';

/** `webhook:<cid>`: the id of a connection's scope, board and repo (docs/devlake-compatibility.md §8). */
export function scopeIdOf(connectionId: number): string {
  return `webhook:${connectionId}`;
}

/** DevLake's provenance columns: a row DevLake made keeps its own. */
const RAW_COLUMNS = ['_raw_data_params', '_raw_data_table', '_raw_data_id', '_raw_data_remark'] as const;

const KEPT_REPO_COLUMNS = [
  ...RAW_COLUMNS,
  'created_at',
  'url',
  'description',
  'owner_id',
  'language',
  'forked_from',
  'created_date',
  'updated_date',
  'deleted',
] as const;

/** A project and the connections linked to it, as `GET /projects` lists them. */
export interface ProjectListing {
  name: string;
  connections: { id: number; name: string }[];
}

/** The DevLake tables a project maps to a connection's `webhook:<cid>` rows. */
export const MAPPED_TABLES = ['cicd_scopes', 'boards', 'repos'] as const;

/**
 * Projects link connections into DevLake's `project_mapping` at once (docs/devlake-compatibility.md §8, §9):
 * DevLake only writes those rows when a project pipeline runs, which is why its webhook data
 * so often "arrives with 200 but never shows on the dashboard".
 */
export class ProjectService {
  private readonly prMetrics: ProjectPrMetricsService;
  private readonly doraTables = new DevLakeDoraTables();

  constructor(private readonly dataSource: DataSource) {
    this.prMetrics = new ProjectPrMetricsService(dataSource);
  }

  /** True when DevLake (or a link) made the project. */
  async exists(projectName: string): Promise<boolean> {
    return this.dataSource.getRepository(Project).existsBy({ name: projectName });
  }

  /** The project a connection belongs to, or null. */
  async projectOf(connectionId: number): Promise<string | null> {
    return (await this.projectsOf([connectionId])).get(connectionId) ?? null;
  }

  async projectsOf(connectionIds: number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    if (connectionIds.length === 0) return out;
    const rows = await this.dataSource
      .getRepository(ProjectMapping)
      .createQueryBuilder('m')
      .where('m.table = :table', { table: 'cicd_scopes' })
      .andWhere('m.row_id IN (:...ids)', { ids: connectionIds.map(scopeIdOf) })
      .getMany();
    for (const row of rows) out.set(Number(row.rowId.slice('webhook:'.length)), row.projectName);
    return out;
  }

  /** Links (or, with null, unlinks) a connection; a connection is in at most one project. */
  async setProject(connection: WebhookConnection, projectName: string | null): Promise<void> {
    if (projectName) await this.link(connection, projectName);
    else await withTransaction(this.dataSource, (manager) => this.unlinkAll(connection.id, manager));
  }

  /**
   * Links a connection to a project (moving it from another). DevLake's `project_pr_metrics` of
   * both projects is rebuilt: a merge commit may be deployed by another connection of a project.
   */
  async link(connection: WebhookConnection, projectName: string): Promise<void> {
    const scopeId = scopeIdOf(connection.id);
    const now = new Date();
    const previous = await this.projectOf(connection.id);
    await withTransaction(this.dataSource, async (manager) => {
      const before = await this.doraTables.projectsOf(manager, 'cicd_scopes', scopeId);
      await this.unmap(connection.id, manager);
      await manager
        .createQueryBuilder()
        .insert()
        .into(Project)
        .values({ name: projectName, description: null, createdAt: now, updatedAt: now })
        .orIgnore()
        .updateEntity(false)
        .execute();
      await upsertRows(
        manager,
        ProjectMapping,
        MAPPED_TABLES.map((table) => ({ projectName, table, rowId: scopeId, createdAt: now, updatedAt: now })),
      );
      // Only the name follows the connection: columns DevLake or a user filled on an existing
      // scope, repo or board are left alone.
      // New rows get DevLake's empty values ('', false), not NULL.
      const named = { id: scopeId, name: connection.name, createdAt: now, updatedAt: now, ...NO_RAW_DATA };
      const blank = { description: '', url: '' };
      await upsertRows(
        manager,
        CicdScope,
        [{ ...named, ...blank }],
        [...RAW_COLUMNS, 'created_at', 'description', 'url', 'created_date', 'updated_date'],
      );
      await upsertRows(
        manager,
        Repo,
        [{ ...named, ...blank, ownerId: '', language: '', forkedFrom: '', deleted: false }],
        [...KEPT_REPO_COLUMNS],
      );
      await upsertRows(
        manager,
        Board,
        [{ ...named, ...blank, type: '' }],
        [...RAW_COLUMNS, 'created_at', 'description', 'url', 'created_date', 'type'],
      );
      // DevLake's incident links of the projects the connection left and joined.
      for (const project of new Set([...before, projectName])) await this.doraTables.rebuildProject(manager, project);
    });
    if (previous && previous !== projectName) await this.prMetrics.rebuild(previous);
    await this.prMetrics.rebuild(projectName);
  }

  private async unmap(connectionId: number, manager: EntityManager): Promise<void> {
    await manager
      .createQueryBuilder()
      .delete()
      .from(ProjectMapping)
      .where('row_id = :rowId', { rowId: scopeIdOf(connectionId) })
      .andWhere(`${manager.connection.driver.escape('table')} IN (:...tables)`, { tables: [...MAPPED_TABLES] })
      .execute();
  }

  /** Removes the connection's project mapping and the scope and repo rows linking wrote. */
  async unlinkAll(connectionId: number, manager: EntityManager): Promise<void> {
    const before = await this.doraTables.projectsOf(manager, 'cicd_scopes', scopeIdOf(connectionId));
    await this.unmap(connectionId, manager);
    // Its pull requests leave the project's project_pr_metrics; the others are recomputed. The
    // project's incident links no longer see this connection's deployments and incidents.
    for (const project of before) {
      await this.prMetrics.rebuild(project, manager);
      await this.doraTables.rebuildProject(manager, project);
    }
    await manager.getRepository(CicdScope).delete({ id: scopeIdOf(connectionId) });
    await manager.getRepository(Repo).delete({ id: scopeIdOf(connectionId) });
  }

  /** Every project with its connections' ids. */
  async list(): Promise<{ name: string; connectionIds: number[] }[]> {
    const projects = await this.dataSource.getRepository(Project).find({ order: { name: 'ASC' } });
    const mappings = await this.dataSource
      .getRepository(ProjectMapping)
      .createQueryBuilder('m')
      .where('m.table = :table', { table: 'cicd_scopes' })
      .andWhere('m.row_id LIKE :prefix', { prefix: 'webhook:%' })
      .getMany();
    return projects.map((project) => ({
      name: project.name,
      connectionIds: mappings
        .filter((m) => m.projectName === project.name)
        .map((m) => Number(m.rowId.slice('webhook:'.length)))
        .sort((a, b) => a - b),
    }));
  }

  /** Every project with its connections' ids and names (`GET /projects`). */
  async listWithConnections(): Promise<ProjectListing[]> {
    const projects = await this.list();
    const ids = [...new Set(projects.flatMap((p) => p.connectionIds))];
    const connections =
      ids.length === 0 ? [] : await this.dataSource.getRepository(WebhookConnection).findBy({ id: In(ids) });
    const names = new Map(connections.map((c) => [c.id, c.name]));
    return projects.map((project) => ({
      name: project.name,
      // A mapping row whose connection is gone (deleted outside the API) is not listed.
      connections: project.connectionIds
        .filter((id) => names.has(id))
        .map((id) => ({ id, name: names.get(id) as string })),
    }));
  }

  /** The scope ids (`webhook:<cid>`) a project's mapping lists for one DevLake table. */
  async scopeIds(projectName: string, table: (typeof MAPPED_TABLES)[number]): Promise<string[]> {
    const rows = await this.dataSource.getRepository(ProjectMapping).findBy({ projectName, table });
    return rows.map((row) => row.rowId);
  }
}
