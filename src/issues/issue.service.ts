import type { DataSource, EntityManager } from 'typeorm';
import type { WebhookConnection } from '../connections/connection.entity';
import { dialectOf } from '../db/dialect';
import { NO_RAW_DATA } from '../db/columns';
import { withTransaction } from '../db/transaction';
import type { RawDataRef } from '../events/event-log.service';
import { insertMissingRows, upsertRows } from '../db/upsert';
import { InputError, NotFoundError, type FieldCause } from '../http/errors';
import { summarizeCauses } from '../http/validate-body';
import { scopeIdOf } from '../projects/project.service';
import { DevLakeDoraTables } from '../dora/devlake-dora-tables';
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

/**
 * Writes issues and incidents into DevLake's tables (docs/devlake-compatibility.md §6, §9). Everything one request
 * writes happens in one transaction.
 */
export class IssueService {
  private readonly doraTables = new DevLakeDoraTables();

  constructor(readonly dataSource: DataSource) {}

  /** Creates or replaces an issue, with its board, assignees, incident and deployment link. */
  /** `raw` names the delivery that wrote the rows (DevLake's `_raw_data_table` / `_raw_data_id`). */
  async save(
    connection: WebhookConnection,
    sent: IssueDto,
    now: Date = new Date(),
    raw?: RawDataRef,
  ): Promise<IssueIds> {
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

    await withTransaction(this.dataSource, async (manager) => {
      const dialect = dialectOf(manager);
      // The board is named after the connection (docs/devlake-compatibility.md §9). It only has to exist here: an
      // insert that leaves an existing board alone takes a shared lock, so the issue POSTs of
      // one connection do not queue behind each other on it; a rename of the
      // connection renames the board (ConnectionService.rename).
      await insertMissingRows(manager, Board, [
        { id: boardId, name: connection.name, description: '', url: '', type: '', ...stamps },
      ]);
      await upsertRows(manager, Issue, [issue]);
      await upsertRows(manager, BoardIssue, [{ boardId, issueId: id, ...stamps }]);

      await manager.query(dialect.sql('DELETE FROM issue_assignees WHERE issue_id = ?'), [id]);
      if (issue.assigneeId) {
        await upsertRows(manager, IssueAssignee, [
          { issueId: id, assigneeId: issue.assigneeId, assigneeName: issue.assigneeName, ...stamps },
        ]);
      }

      // The incident row follows the issue's type in both directions (docs/devlake-compatibility.md §9).
      await manager.query(dialect.sql('DELETE FROM incident_assignees WHERE incident_id = ?'), [id]);
      if (incident) {
        await upsertRows(manager, Incident, [this.incidentOf(issue, boardId)]);
        if (issue.assigneeId) {
          await upsertRows(manager, IncidentAssignee, [
            { incidentId: id, assigneeId: issue.assigneeId, assigneeName: issue.assigneeName, ...stamps },
          ]);
        }
      } else {
        await manager.query(dialect.sql('DELETE FROM incidents WHERE id = ?'), [id]);
      }

      // A re-post without deploymentId removes the link: the payload is the whole issue.
      if (input.deploymentId === undefined) {
        await manager.query(dialect.sql('DELETE FROM _tool_webhook_incident_deployments WHERE issue_id = ?'), [id]);
      } else {
        await upsertRows(
          manager,
          IncidentDeploymentLink,
          [{ issueId: id, deploymentKey: input.deploymentId, cicdDeploymentId: prefixedIdOf(cid, input.deploymentId) }],
          [],
        );
      }
      // DevLake's incident → deployment link, for the projects of the connection's board.
      await this.doraTables.refreshLinksOfIncident(manager, id, boardId);
    });
    return { issueId: id, incidentId: incident ? id : null, ...(warnings.length > 0 ? { warnings } : {}) };
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
    const cid = connection.id;
    const issueKey = issueKeyOf(sentKey);
    this.checkKey(cid, sentKey);
    const id = prefixedIdOf(cid, issueKey);
    return withTransaction(this.dataSource, async (manager) => {
      const issue = await manager.findOneBy(Issue, { id });
      if (!issue) {
        throw new NotFoundError(`issue "${issueKey}" not found in connection ${cid} ("${connection.name}")`);
      }
      const resolutionDate = issue.resolutionDate ?? now;
      const changes = {
        status: 'DONE',
        originalStatus: '',
        resolutionDate,
        leadTimeMinutes: leadTimeOf(issue.leadTimeMinutes, issue.createdDate, resolutionDate),
        updatedAt: now,
        ...raw,
      };
      await manager.update(Issue, { id }, changes);
      const incident = await this.closeIncident(manager, id, changes);
      return { issueId: id, incidentId: incident ? id : null };
    });
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
