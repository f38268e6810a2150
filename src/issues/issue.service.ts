import { LRUCache } from 'lru-cache';
import type { DataSource, EntityManager } from 'typeorm';
import type { WebhookConnection } from '../connections/connection.entity';
import { dialectOf } from '../db/dialect';
import { NO_RAW_DATA } from '../db/columns';
import { withTransaction } from '../db/transaction';
import { existingIds, insertMissingRows, tableRows, upsertRowExisted, upsertRows } from '../db/upsert';
import type { RawDataRef } from '../events/event-log.service';
import { InputError, NotFoundError, type FieldCause } from '../http/errors';
import { summarizeCauses } from '../http/validate-body';
import { scopeIdOf } from '../projects/project.service';
import { doraTablesRefresherOf, type DoraTablesRefresher } from '../dora/devlake-dora-tables';
import type { IssueDto } from './issue.dto';
import {
  Board,
  BoardIssue,
  Incident,
  IncidentAssignee,
  IncidentDeploymentLink,
  Issue,
  IssueAssignee,
} from './issue.entity';

/** What ingestion answers with: the stored ids (docs/devlake-compatibility.md §4 allows `data` to carry them). */
export interface IssueIds {
  issueId: string;
  /** The incident row's id (the issue id) when the issue is an INCIDENT, else null. */
  incidentId: string | null;
  /** What was stored although it looks wrong (resolved before created); absent when nothing. */
  warnings?: FieldCause[];
}

/** DevLake's id columns are varchar(255). */
const ID_MAX = 255;

/** `webhook:<cid>:<key>`: DevLake's form of every id (docs/devlake-compatibility.md §6) the webhook derives from a caller's key. */
export function prefixedIdOf(connectionId: number, key: string): string {
  return `${scopeIdOf(connectionId)}:${key}`;
}

/**
 * The key as the id column compares it. MySQL's `utf8mb4_bin` is a PAD SPACE collation, so
 * `DLK-1` and `DLK-1 ` are one primary key there (as in DevLake) but two on SQLite; dropping
 * trailing spaces makes both databases agree.
 */
export function issueKeyOf(sent: string): string {
  return sent.replace(/ +$/, '');
}

function characters(value: string): number {
  return [...value].length;
}

/** Whole minutes from created to resolved; never negative (the column is unsigned). */
function minutesBetween(from: Date, to: Date): number {
  return Math.max(0, Math.floor((to.getTime() - from.getTime()) / 60_000));
}

/**
 * The lead time DevLake's dashboards read (docs/devlake-compatibility.md §6): what was sent, unless it is unset
 * (absent or 0) and both dates are known, then the whole minutes between them.
 */
function leadTimeOf(sent: number | null | undefined, created: Date | null, resolved: Date | null): number | null {
  if (sent) return sent;
  if (created && resolved) return minutesBetween(created, resolved);
  return sent ?? null;
}

/** INCIDENT in any case (docs/devlake-compatibility.md §9: DevLake needs it exact and misses `incident`). */
function isIncidentType(type: string): boolean {
  return type.trim().toUpperCase() === 'INCIDENT';
}

/** The rows one issue POST writes, built without touching the database. */
export interface IssueWrite {
  ids: IssueIds;
  board: Partial<Board>;
  issue: Partial<Issue>;
  boardIssue: Partial<BoardIssue>;
  issueAssignee: Partial<IssueAssignee> | null;
  incident: Partial<Incident> | null;
  incidentAssignee: Partial<IncidentAssignee> | null;
  /** The deployment the issue names, or null: a re-post without one removes the link. */
  deploymentLink: Partial<IncidentDeploymentLink> | null;
}

/** Boards known to exist, per DataSource: the board row is only ever inserted when missing. */
const BOARD_MEMO_MS = 60_000;
const knownBoards = new WeakMap<DataSource, LRUCache<string, true>>();

function knownBoardsOf(dataSource: DataSource): LRUCache<string, true> {
  let memo = knownBoards.get(dataSource);
  if (!memo) {
    memo = new LRUCache({ max: 10_000, ttl: BOARD_MEMO_MS });
    knownBoards.set(dataSource, memo);
  }
  return memo;
}

/**
 * Writes issues and incidents into DevLake's tables (docs/devlake-compatibility.md §6, §9). Everything one request
 * writes happens in one transaction.
 */
export class IssueService {
  private readonly doraTables: DoraTablesRefresher;

  constructor(readonly dataSource: DataSource) {
    this.doraTables = doraTablesRefresherOf(dataSource);
  }

  /**
   * The rows of an issue POST, checked as `save` checks them, written nowhere (dry runs and
   * batches build with it).
   */
  plan(connection: WebhookConnection, sent: IssueDto, now: Date = new Date(), raw?: RawDataRef): IssueWrite {
    const cid = connection.id;
    const input = sent;
    const warnings = this.checkInput(cid, input);
    const id = prefixedIdOf(cid, issueKeyOf(input.issueKey));
    const boardId = scopeIdOf(cid);
    const prefixed = (key: string | undefined) => (key === undefined ? '' : prefixedIdOf(cid, key));
    const type = input.type ?? '';
    const resolutionDate = input.resolutionDate ?? null;
    const stamps = { createdAt: now, updatedAt: now, ...NO_RAW_DATA, ...raw };

    // Every column is given, so a re-post replaces the issue entirely, as DevLake's does; a
    // field not sent is stored as DevLake stores it ('', 0, false), since DevLake's dashboards
    // filter and group on these columns with NOT IN and GROUP BY, where NULL drops out.
    const issue: Partial<Issue> = {
      id,
      ...stamps,
      url: input.url ?? '',
      iconUrl: '',
      issueKey: issueKeyOf(input.issueKey),
      title: input.title,
      description: input.description ?? '',
      epicKey: input.epicKey ?? '',
      // As DevLake: the type as sent, and `original_type` left empty by its webhook.
      type,
      originalType: '',
      status: input.status,
      originalStatus: input.originalStatus,
      storyPoint: input.storyPoint ?? 0,
      resolutionDate,
      createdDate: input.createdDate,
      updatedDate: input.updatedDate ?? null,
      leadTimeMinutes: leadTimeOf(input.leadTimeMinutes, input.createdDate, resolutionDate) ?? 0,
      originalEstimateMinutes: input.originalEstimateMinutes ?? 0,
      timeSpentMinutes: input.timeSpentMinutes ?? 0,
      timeRemainingMinutes: input.timeRemainingMinutes ?? 0,
      creatorId: prefixed(input.creatorId),
      creatorName: input.creatorName ?? '',
      assigneeId: prefixed(input.assigneeId),
      assigneeName: input.assigneeName ?? '',
      parentIssueId: prefixed(input.parentIssueKey),
      priority: input.priority ?? '',
      severity: input.severity ?? '',
      urgency: input.urgency ?? '',
      component: input.component ?? '',
      originalProject: input.boardKey ?? '',
      isSubtask: false,
      dueDate: null,
      fixVersions: '',
    };
    const incident = isIncidentType(type);
    const assignee = issue.assigneeId
      ? { assigneeId: issue.assigneeId, assigneeName: issue.assigneeName, ...stamps }
      : null;
    return {
      ids: { issueId: id, incidentId: incident ? id : null, ...(warnings.length > 0 ? { warnings } : {}) },
      // The board is named after the connection (docs/devlake-compatibility.md §9).
      board: { id: boardId, name: connection.name, description: '', url: '', type: '', ...stamps },
      issue,
      boardIssue: { boardId, issueId: id, ...stamps },
      issueAssignee: assignee ? { issueId: id, ...assignee } : null,
      incident: incident ? this.incidentOf(issue, boardId) : null,
      incidentAssignee: incident && assignee ? { incidentId: id, ...assignee } : null,
      deploymentLink:
        input.deploymentId === undefined
          ? null
          : { issueId: id, deploymentKey: input.deploymentId, cicdDeploymentId: prefixedIdOf(cid, input.deploymentId) },
    };
  }

  /** A planned issue's rows for a dry run's answer, by DevLake table. */
  tables(write: IssueWrite): Record<string, unknown[]> {
    const ds = this.dataSource;
    const present = <T>(row: T | null): T[] => (row ? [row] : []);
    return {
      ...tableRows(ds, Board, [write.board]),
      ...tableRows(ds, Issue, [write.issue]),
      ...tableRows(ds, BoardIssue, [write.boardIssue]),
      ...tableRows(ds, IssueAssignee, present(write.issueAssignee)),
      ...tableRows(ds, Incident, present(write.incident)),
      ...tableRows(ds, IncidentAssignee, present(write.incidentAssignee)),
      ...tableRows(ds, IncidentDeploymentLink, present(write.deploymentLink)),
    };
  }

  /**
   * Creates or replaces an issue, with its board, assignees, incident and deployment link. The
   * hot path: an issue seen for the first time is BEGIN, the issue, its board_issues row (and
   * the rows its fields call for), COMMIT; a re-post also removes what it no longer lists.
   */
  async save(
    connection: WebhookConnection,
    sent: IssueDto,
    now: Date = new Date(),
    raw?: RawDataRef,
  ): Promise<IssueIds> {
    const write = this.plan(connection, sent, now, raw);
    let existing = new Set<string>();
    const boards = await withTransaction(this.dataSource, async (manager) => {
      const inserted = await this.ensureBoards(manager, [write]);
      const existed = await upsertRowExisted(manager, Issue, write.issue);
      existing = existed ? new Set([write.ids.issueId]) : new Set();
      await this.writeDependants(manager, [write], existing, false);
      return inserted;
    });
    this.rememberBoards(boards);
    this.afterWrite([write], existing);
    return write.ids;
  }

  /**
   * Stores many issues of one connection in one transaction with multi-row statements (the batch
   * route and the import command): the same rows as `save` for each. An issue listed twice must
   * not be in the same call (the caller splits there).
   */
  async saveMany(writes: IssueWrite[]): Promise<IssueIds[]> {
    if (writes.length === 0) return [];
    let existing = new Set<string>();
    const boards = await withTransaction(this.dataSource, async (manager) => {
      const inserted = await this.ensureBoards(manager, writes);
      existing = await existingIds(
        manager,
        Issue,
        writes.map((write) => write.ids.issueId),
      );
      await this.writeDependants(manager, writes, existing, true);
      return inserted;
    });
    this.rememberBoards(boards);
    this.afterWrite(writes, existing);
    return writes.map((write) => write.ids);
  }

  /**
   * Once committed: DevLake's incident → deployment links, for the projects of each issue's
   * board. Only incidents have one, and an issue that existed may have stopped being one.
   */
  private afterWrite(writes: IssueWrite[], existing: Set<string>): void {
    this.doraTables.afterIssues(
      writes
        .filter((write) => write.incident !== null || existing.has(write.ids.issueId))
        .map((write) => ({ issueId: write.ids.issueId, boardId: write.board.id as string })),
    );
  }

  /**
   * The board only has to exist: an insert that leaves an existing board alone takes a shared
   * lock, so the issue POSTs of one connection do not queue behind each other on it, and once
   * seen it is not asked again for a while (a rename of the connection renames the board:
   * ConnectionService.rename).
   */
  private async ensureBoards(manager: EntityManager, writes: IssueWrite[]): Promise<string[]> {
    const memo = knownBoardsOf(this.dataSource);
    const boards = new Map<string, Partial<Board>>();
    for (const write of writes)
      if (!memo.has(write.board.id as string)) boards.set(write.board.id as string, write.board);
    if (boards.size > 0) await insertMissingRows(manager, Board, [...boards.values()]);
    return [...boards.keys()];
  }

  /** Remembered once committed: a rolled-back insert must not be taken for an existing board. */
  private rememberBoards(ids: string[]): void {
    const memo = knownBoardsOf(this.dataSource);
    for (const id of ids) memo.set(id, true);
  }

  /** Everything but the board; for issues that existed, the rows the new post no longer calls for go. */
  private async writeDependants(
    manager: EntityManager,
    writes: IssueWrite[],
    existing: Set<string>,
    includeIssues: boolean,
  ): Promise<void> {
    if (includeIssues) {
      await upsertRows(
        manager,
        Issue,
        writes.map((write) => write.issue),
      );
    }
    await upsertRows(
      manager,
      BoardIssue,
      writes.map((write) => write.boardIssue),
    );
    const dialect = dialectOf(manager);
    const updated = writes.filter((write) => existing.has(write.ids.issueId));
    for (let start = 0; start < updated.length; start += 500) {
      const group = updated.slice(start, start + 500);
      const ids = group.map((write) => write.ids.issueId);
      const list = ids.map(() => '?').join(', ');
      await manager.query(dialect.sql(`DELETE FROM issue_assignees WHERE issue_id IN (${list})`), ids);
      // The incident row follows the issue's type in both directions (docs/devlake-compatibility.md §9).
      await manager.query(dialect.sql(`DELETE FROM incident_assignees WHERE incident_id IN (${list})`), ids);
      const notIncidents = group.filter((write) => !write.incident).map((write) => write.ids.issueId);
      if (notIncidents.length > 0) {
        await manager.query(
          dialect.sql(`DELETE FROM incidents WHERE id IN (${notIncidents.map(() => '?').join(', ')})`),
          notIncidents,
        );
      }
      // A re-post without deploymentId removes the link: the payload is the whole issue.
      const unlinked = group.filter((write) => !write.deploymentLink).map((write) => write.ids.issueId);
      if (unlinked.length > 0) {
        await manager.query(
          dialect.sql(
            `DELETE FROM _tool_webhook_incident_deployments WHERE issue_id IN (${unlinked.map(() => '?').join(', ')})`,
          ),
          unlinked,
        );
      }
    }
    const present = <T>(rows: (T | null)[]): T[] => rows.filter((row): row is T => row !== null);
    await upsertRows(manager, IssueAssignee, present(writes.map((write) => write.issueAssignee)));
    await upsertRows(manager, Incident, present(writes.map((write) => write.incident)));
    await upsertRows(manager, IncidentAssignee, present(writes.map((write) => write.incidentAssignee)));
    await upsertRows(manager, IncidentDeploymentLink, present(writes.map((write) => write.deploymentLink)), []);
  }

  /**
   * Closes an issue and its incident: status DONE and `original_status` blanked, as DevLake
   * does; `resolution_date` now when empty (DevLake leaves it empty, so recovery time is never
   * measured: docs/devlake-compatibility.md §9), `lead_time_minutes` when unset. Closing twice changes nothing but
   * `updated_at`.
   */
  async close(
    connection: WebhookConnection,
    sentKey: string,
    now: Date = new Date(),
    raw?: RawDataRef,
  ): Promise<IssueIds> {
    return withTransaction(this.dataSource, (manager) => this.closeIn(manager, connection, sentKey, now, raw));
  }

  /** A close in the caller's transaction (batches close many in one). */
  async closeIn(
    manager: EntityManager,
    connection: WebhookConnection,
    sentKey: string,
    now: Date,
    raw?: RawDataRef,
  ): Promise<IssueIds> {
    const { id, changes } = await this.closeChanges(manager, connection, sentKey, now);
    Object.assign(changes, raw);
    await manager.update(Issue, { id }, changes);
    const incident = await this.closeIncident(manager, id, changes);
    return { issueId: id, incidentId: incident ? id : null };
  }

  /** What a close would change, read but not written (a dry run's answer, by DevLake table). */
  async planClose(
    connection: WebhookConnection,
    sentKey: string,
    now: Date = new Date(),
  ): Promise<{ ids: IssueIds; tables: Record<string, unknown[]> }> {
    const manager = this.dataSource.manager;
    const { id, changes } = await this.closeChanges(manager, connection, sentKey, now);
    const incident = await manager.existsBy(Incident, { id });
    const columns = (target: typeof Issue | typeof Incident) => {
      const metadata = this.dataSource.getMetadata(target);
      const row: Record<string, unknown> = { id };
      for (const [property, value] of Object.entries(changes)) {
        row[metadata.findColumnWithPropertyName(property)?.databaseName ?? property] = value;
      }
      return row;
    };
    return {
      ids: { issueId: id, incidentId: incident ? id : null },
      tables: { issues: [columns(Issue)], ...(incident ? { incidents: [columns(Incident)] } : {}) },
    };
  }

  private async closeChanges(
    manager: EntityManager,
    connection: WebhookConnection,
    sentKey: string,
    now: Date,
  ): Promise<{ id: string; changes: Partial<Issue> }> {
    const cid = connection.id;
    const issueKey = issueKeyOf(sentKey);
    this.checkKey(cid, sentKey);
    const id = prefixedIdOf(cid, issueKey);
    const issue = await manager.findOneBy(Issue, { id });
    if (!issue) {
      throw new NotFoundError(`issue "${issueKey}" not found in connection ${cid} ("${connection.name}")`);
    }
    const resolutionDate = issue.resolutionDate ?? now;
    const changes = {
      status: 'DONE',
      // As DevLake: the sender's word for the old status no longer describes a closed issue.
      originalStatus: '',
      resolutionDate,
      leadTimeMinutes: leadTimeOf(issue.leadTimeMinutes, issue.createdDate, resolutionDate),
      updatedAt: now,
    };
    return { id, changes };
  }

  private async closeIncident(manager: EntityManager, id: string, changes: Partial<Incident>): Promise<boolean> {
    const result = await manager.update(Incident, { id }, changes);
    return (result.affected ?? 0) > 0;
  }

  /** DevLake's `issue.ToIncident(boardId)`: the same id and fields, scoped to the connection's board. */
  private incidentOf(issue: Partial<Issue>, boardId: string): Partial<Incident> {
    return {
      id: issue.id,
      createdAt: issue.createdAt,
      updatedAt: issue.updatedAt,
      ...NO_RAW_DATA,
      rawDataTable: issue.rawDataTable,
      rawDataId: issue.rawDataId,
      url: issue.url,
      incidentKey: issue.issueKey,
      title: issue.title,
      description: issue.description,
      status: issue.status,
      originalStatus: issue.originalStatus,
      resolutionDate: issue.resolutionDate,
      createdDate: issue.createdDate,
      updatedDate: issue.updatedDate,
      leadTimeMinutes: issue.leadTimeMinutes,
      originalEstimateMinutes: issue.originalEstimateMinutes,
      timeSpentMinutes: issue.timeSpentMinutes,
      timeRemainingMinutes: issue.timeRemainingMinutes,
      creatorId: issue.creatorId,
      creatorName: issue.creatorName,
      parentIncidentId: issue.parentIssueId,
      priority: issue.priority,
      severity: issue.severity,
      urgency: issue.urgency,
      component: issue.component,
      originalProject: issue.originalProject,
      table: 'boards',
      scopeId: boardId,
      assigneeId: issue.assigneeId,
      assigneeName: issue.assigneeName,
    };
  }

  /**
   * Rules the DTO cannot check alone: they need the connection id or two fields at once. Answers
   * the warnings: what is stored although it looks wrong.
   */
  private checkInput(cid: number, input: IssueDto): FieldCause[] {
    const causes: FieldCause[] = [];
    causes.push(
      ...this.idLengthCauses(cid, [
        ['issueKey', input.issueKey],
        ['parentIssueKey', input.parentIssueKey],
        ['creatorId', input.creatorId],
        ['assigneeId', input.assigneeId],
        ['deploymentId', input.deploymentId],
      ]),
    );
    if (causes.length > 0) throw new InputError(summarizeCauses(causes), causes);
    // DevLake stores it; refusing would lose the issue to a clock skew.
    if (input.resolutionDate && input.resolutionDate.getTime() < input.createdDate.getTime()) {
      return [{ field: 'resolutionDate', message: 'resolutionDate is before createdDate: stored as sent' }];
    }
    return [];
  }

  private checkKey(cid: number, issueKey: string): void {
    const causes = this.idLengthCauses(cid, [['issueKey', issueKey]]);
    if (causes.length > 0) throw new InputError(summarizeCauses(causes), causes);
  }

  /** Ids are `webhook:<cid>:<key>` in varchar(255) columns: the key must leave room for the prefix. */
  private idLengthCauses(cid: number, fields: [string, string | undefined][]): FieldCause[] {
    const room = ID_MAX - characters(prefixedIdOf(cid, ''));
    return fields
      .filter(([, value]) => value !== undefined && characters(value) > room)
      .map(([field]) => ({
        field,
        message: `${field} is longer than ${room} characters: with the prefix "${prefixedIdOf(cid, '')}" it would not fit DevLake's 255-character id column`,
      }));
  }
}
