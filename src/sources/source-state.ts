import type { DataSource } from 'typeorm';
import { Issue } from '../issues/issue.entity';
import { issueKeyOf, prefixedIdOf } from '../issues/issue.service';
import { PullRequest } from '../pull-requests/pull-request.entity';
import { pullRequestIdOf } from '../pull-requests/pull-request.service';

/**
 * Reads what is stored, so that a delivery arriving late (after a newer one) never undoes a
 * final state: a merged pull request stays merged, a closed one is reopened only by a newer
 * change, and an incident changes only by an event newer than the one stored. Reads only: the
 * services write.
 */
export class SourceState {
  constructor(private readonly dataSource: DataSource) {}

  /** Why an incident's delivery is older than what is stored, or undefined when it is not. */
  async staleIssue(connectionId: number, issueKey: string, changedAt: string | undefined): Promise<string | undefined> {
    const at = changedAt ? new Date(changedAt) : undefined;
    if (!at || Number.isNaN(at.getTime())) return undefined;
    const stored = await this.dataSource.getRepository(Issue).findOne({
      where: { id: prefixedIdOf(connectionId, issueKeyOf(issueKey)) },
      select: { id: true, updatedDate: true },
    });
    if (stored?.updatedDate && stored.updatedDate.getTime() > at.getTime()) {
      return `this event (${at.toISOString()}) is older than the stored state (${stored.updatedDate.toISOString()}): ignored`;
    }
    return undefined;
  }

  /** Why a pull request's delivery would undo a merge or a newer close, or undefined. */
  async stalePullRequest(
    connectionId: number,
    pullRequestKey: number,
    status: string,
    changedAt: string | undefined,
  ): Promise<string | undefined> {
    const stored = await this.dataSource.getRepository(PullRequest).findOne({
      where: { id: pullRequestIdOf(connectionId, pullRequestKey) },
      select: { id: true, status: true, closedDate: true, mergedDate: true },
    });
    if (!stored) return undefined;
    if (stored.status === 'MERGED' && status !== 'MERGED')
      return 'the pull request is already merged: a late event never undoes it';
    const closed = stored.closedDate ?? stored.mergedDate;
    const at = changedAt ? new Date(changedAt) : undefined;
    if (stored.status === 'CLOSED' && status === 'OPEN' && closed && at && at.getTime() < closed.getTime()) {
      return 'this event is older than the close stored: ignored';
    }
    return undefined;
  }
}
