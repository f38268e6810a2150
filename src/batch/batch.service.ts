import type { WebhookConnection } from '../connections/connection.entity';
import { classifyDatabaseError, loggableError } from '../db/database-errors';
import type { DeploymentService, DeploymentWrite } from '../deployments/deployment.service';
import { DeploymentDto } from '../deployments/deployment.dto';
import { InputError, NotFoundError, UnavailableError, type FieldCause } from '../http/errors';
import { causesInSenderWords } from '../http/sender-names';
import { validateBody } from '../http/validate-body';
import { CloseIssueDto, IssueDto } from '../issues/issue.dto';
import { issueKeyOf, prefixedIdOf, type IssueService, type IssueWrite } from '../issues/issue.service';
import type { Logger } from '../logger';
import type { RawDataRef } from '../events/event-log.service';
import { PullRequestDto } from '../pull-requests/pull-request.dto';
import type { PullRequestService, PullRequestWrite } from '../pull-requests/pull-request.service';
import { kindOf, type ParsedRecord, type RecordKind } from './batch-records';

/** The outcome of one record of a batch, in the order sent. */
export interface RecordResult {
  /** 0-based position of the record in the batch. */
  index: number;
  /** The record's line in NDJSON or CSV, when it came from one. */
  line?: number;
  kind?: RecordKind;
  /** 200 written (or, in a dry run, would be), 400 refused, 404 close of an unknown issue, 500 not written. */
  status: number;
  /** The ids, as the single route answers them. */
  ids?: Record<string, unknown>;
  message?: string;
  causes?: FieldCause[];
}

export interface BatchOutcome {
  dryRun: boolean;
  received: number;
  written: number;
  refused: number;
  results: RecordResult[];
}

/** Records per transaction: large enough for multi-row statements to pay, small enough to retry. */
export const RECORDS_PER_TRANSACTION = 1_000;

type Planned =
  | { kind: 'deployment'; index: number; key: string; write: DeploymentWrite }
  | { kind: 'issue'; index: number; key: string; write: IssueWrite }
  | { kind: 'pull_request'; index: number; key: string; write: PullRequestWrite }
  | { kind: 'close'; index: number; key: string; issueKey: string };

interface Services {
  deployments: DeploymentService;
  issues: IssueService;
  pullRequests: PullRequestService;
}

/**
 * Many records of one connection at once (the batch route and the import command). Each record
 * is validated and turned into rows by exactly what its single route uses; consecutive records
 * of one kind are then written together, in transactions of up to RECORDS_PER_TRANSACTION
 * records with multi-row statements. Order is kept: an issue before its close, a deployment
 * sent twice is written twice in turn (the later wins). A record that cannot be stored is
 * answered alone and does not sink the others: a transaction that fails is written again record
 * by record. Ids are those of the single routes, so a batch sent again writes nothing twice.
 */
export class BatchService {
  constructor(
    private readonly services: Services,
    private readonly logger?: Logger,
  ) {}

  async ingest(
    connection: WebhookConnection,
    records: ParsedRecord[],
    options: { dryRun?: boolean; receivedAt?: Date; kind?: RecordKind; raw?: RawDataRef } = {},
  ): Promise<BatchOutcome> {
    const receivedAt = options.receivedAt ?? new Date();
    const dryRun = options.dryRun ?? false;
    const results: RecordResult[] = [];
    const planned: Planned[] = [];
    for (const [index, record] of records.entries()) {
      const result: RecordResult = { index, status: 200, ...(record.line !== undefined ? { line: record.line } : {}) };
      results.push(result);
      const item = await this.plan(connection, record, index, result, receivedAt, options.kind, options.raw);
      if (item) planned.push(item);
    }
    const planIssues = new Set(planned.filter((item) => item.kind === 'issue').map((item) => item.key));
    for (const run of runsOf(planned)) {
      if (dryRun) await this.check(connection, run, results, planIssues, receivedAt);
      else await this.write(connection, run, results, receivedAt);
    }
    const written = results.filter((result) => result.status === 200).length;
    return { dryRun, received: records.length, written, refused: records.length - written, results };
  }

  /** Validation and rows of one record; a refusal is written into its result. */
  private async plan(
    connection: WebhookConnection,
    record: ParsedRecord,
    index: number,
    result: RecordResult,
    receivedAt: Date,
    fallback: RecordKind | undefined,
    raw: RawDataRef | undefined,
  ): Promise<Planned | undefined> {
    if (record.error !== undefined) {
      refuse(result, 400, record.error);
      return undefined;
    }
    const kind = kindOf(record.value, fallback);
    if (typeof kind !== 'string') {
      refuse(result, 400, kind.error, [{ field: 'kind', message: kind.error }]);
      return undefined;
    }
    result.kind = kind;
    try {
      switch (kind) {
        case 'deployment': {
          const dto = await validateBody(DeploymentDto, record.value);
          const { recorded, write } = this.services.deployments.plan(connection.id, dto, receivedAt, raw);
          result.ids = { ...recorded };
          return { kind, index, key: recorded.deploymentId, write };
        }
        case 'issue': {
          const write = this.services.issues.plan(
            connection,
            await validateBody(IssueDto, record.value),
            receivedAt,
            raw,
          );
          result.ids = { ...write.ids };
          return { kind, index, key: write.ids.issueId, write };
        }
        case 'pull_request': {
          const dto = await validateBody(PullRequestDto, record.value);
          const write = this.services.pullRequests.plan(connection, dto, receivedAt, raw);
          result.ids = { ...write.ids };
          return { kind, index, key: write.ids.pullRequestId, write };
        }
        case 'close': {
          const dto = await validateBody(CloseIssueDto, record.value);
          return { kind, index, key: `close:${dto.issueKey}`, issueKey: dto.issueKey };
        }
      }
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      // Named as the sender wrote the fields, as the single routes answer.
      const causes = error.causes ? causesInSenderWords(record.value, error.causes) : undefined;
      refuse(result, 400, error.message, causes);
      return undefined;
    }
  }

  /** A dry run: closes must name an issue that exists or comes earlier in the batch. */
  private async check(
    connection: WebhookConnection,
    run: Planned[],
    results: RecordResult[],
    planIssues: Set<string>,
    receivedAt: Date,
  ): Promise<void> {
    for (const item of run) {
      if (item.kind !== 'close') continue;
      try {
        results[item.index].ids = {
          ...(await this.services.issues.planClose(connection, item.issueKey, receivedAt)).ids,
        };
      } catch (error) {
        const issueId = prefixedIdOf(connection.id, issueKeyOf(item.issueKey));
        if (error instanceof NotFoundError && planIssues.has(issueId)) {
          results[item.index].ids = { issueId };
          continue;
        }
        this.fail(results[item.index], error);
      }
    }
  }

  private async write(
    connection: WebhookConnection,
    run: Planned[],
    results: RecordResult[],
    receivedAt: Date,
  ): Promise<void> {
    try {
      await this.writeRun(connection, run, results, receivedAt);
    } catch (error) {
      if (run.length === 1) {
        this.fail(results[run[0].index], error);
        return;
      }
      if (classifyDatabaseError(error) instanceof UnavailableError) throw error;
      // One record spoiled the transaction: each is written alone, so only it is refused.
      for (const item of run) await this.write(connection, [item], results, receivedAt);
    }
  }

  private async writeRun(
    connection: WebhookConnection,
    run: Planned[],
    results: RecordResult[],
    receivedAt: Date,
  ): Promise<void> {
    const { deployments, issues, pullRequests } = this.services;
    switch (run[0].kind) {
      case 'deployment':
        await deployments.recordMany(
          connection.id,
          run.map((item) => (item as { write: DeploymentWrite }).write),
        );
        return;
      case 'issue':
        await issues.saveMany(run.map((item) => (item as { write: IssueWrite }).write));
        return;
      case 'pull_request':
        await pullRequests.saveMany(
          connection,
          run.map((item) => (item as { write: PullRequestWrite }).write),
        );
        return;
      case 'close': {
        // Closes read the issue first; each is its own short transaction.
        const item = run[0] as { index: number; issueKey: string };
        results[item.index].ids = { ...(await issues.close(connection, item.issueKey, receivedAt)) };
        return;
      }
    }
  }

  /** The answer of a record that could not be written, in the single route's words. */
  private fail(result: RecordResult, error: unknown): void {
    const typed = error instanceof InputError || error instanceof NotFoundError ? error : classifyDatabaseError(error);
    if (typed instanceof UnavailableError) throw error;
    if (typed instanceof NotFoundError) refuse(result, 404, typed.message);
    else if (typed instanceof InputError) refuse(result, 400, typed.message, typed.causes ?? undefined);
    else {
      this.logger?.error({ err: loggableError(error) }, 'a batch record could not be written');
      refuse(result, 500, 'the record could not be written: the server logged the details');
    }
  }
}

function refuse(result: RecordResult, status: number, message: string, causes?: FieldCause[]): void {
  result.status = status;
  result.message = message;
  if (causes) result.causes = causes;
  delete result.ids;
}

/**
 * Consecutive records of one kind, cut at RECORDS_PER_TRANSACTION and before a record whose row
 * is already in the run (its rows must replace the earlier ones, not meet them in one statement).
 * Closes go one by one.
 */
function runsOf(planned: Planned[]): Planned[][] {
  const runs: Planned[][] = [];
  let current: Planned[] = [];
  let keys = new Set<string>();
  for (const item of planned) {
    const cut =
      current.length > 0 &&
      (current[0].kind !== item.kind ||
        item.kind === 'close' ||
        current.length >= RECORDS_PER_TRANSACTION ||
        keys.has(item.key));
    if (cut) {
      runs.push(current);
      current = [];
      keys = new Set();
    }
    current.push(item);
    keys.add(item.key);
  }
  if (current.length > 0) runs.push(current);
  return runs;
}
