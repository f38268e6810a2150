import type { DataSource } from 'typeorm';
import { withStatement, withTransaction } from '../db/transaction';
import { upsertRows } from '../db/upsert';
import type { FieldCause } from '../http/errors';
import type { Logger } from '../logger';
import { RAW_EVENTS_TABLE, RawWebhookEvent } from './raw-event.entity';

/** Where a domain row came from, for DevLake's `_raw_data_table` / `_raw_data_id` columns. */
export interface RawDataRef {
  rawDataTable: string;
  rawDataId: number;
}

/** The lineage stamp of an event id (none when the event log is off). */
export function rawDataOf(eventId: number | undefined): RawDataRef | undefined {
  return eventId === undefined ? undefined : { rawDataTable: RAW_EVENTS_TABLE, rawDataId: eventId };
}

/** What became of a delivery: `accepted` (2xx), `refused` (4xx), `failed` (5xx). */
export type EventOutcome = 'accepted' | 'refused' | 'failed';

export function outcomeOf(status: number): EventOutcome {
  return status < 400 ? 'accepted' : status < 500 ? 'refused' : 'failed';
}

/** Retention of the event log; 0 means no limit of that kind. */
export interface EventLogSettings {
  retentionDays: number;
  retentionRows: number;
  pruneIntervalMs: number;
}

/** A delivery as the API shows it (the body only on request). */
export interface EventView {
  id: number;
  connectionId: number | null;
  connectionName: string | null;
  method: string | null;
  route: string | null;
  path: string | null;
  requestId: string | null;
  sender: string | null;
  receivedAt: Date;
  durationMs: number | null;
  status: number | null;
  outcome: string | null;
  message: string | null;
  causes: FieldCause[] | null;
  written: unknown;
  contentType: string | null;
  userAgent: string | null;
  deliveryId: string | null;
  bodyBytes: number | null;
  replayOf: number | null;
  body?: string | null;
}

export interface EventFilter {
  outcome?: EventOutcome;
  since?: Date;
  until?: Date;
  page: number;
  pageSize: number;
}

/** Ids per block reserved from the database: one round trip per this many deliveries. */
const BLOCK_SIZE = 1024;
/** Rows per INSERT of the log, and rows per DELETE of a pruning step. */
const BATCH_ROWS = 100;
const PRUNE_STEP_ROWS = 500;
/** At most this many steps per pruning run, so that a run never holds the database long. */
const PRUNE_MAX_STEPS = 20;
/**
 * How long a finished delivery waits for others before its row is written: at low traffic a
 * few deliveries share one INSERT, at high traffic the batches fill up anyway. A crash loses
 * at most this much of the log (never a delivery: the domain rows are already committed).
 */
const FLUSH_DELAY_MS = 50;
/** Deliveries waiting to be written beyond this are dropped (and counted in the log). */
const MAX_QUEUED = 10_000;

interface IdBlock {
  next: number;
  end: number;
}

function parseJson(text: string | null): unknown {
  if (text === null || text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * The raw event log. Writing is built to stay off the answer's path: an event's id comes from a
 * block of ids reserved ahead (no round trip per delivery), and its row is queued when the
 * answer is sent and written with the rows queued beside it in one INSERT. Readers of this
 * process call `flush()` first, so they see every delivery already answered.
 */
export class EventLogService {
  private current: IdBlock = { next: 0, end: 0 };
  private spare: IdBlock | undefined;
  private fetching: Promise<void> | undefined;
  private queue: Partial<RawWebhookEvent>[] = [];
  private draining: Promise<void> | undefined;
  private scheduled = false;
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly dataSource: DataSource,
    readonly settings: EventLogSettings | false,
    private readonly logger: Logger,
  ) {}

  get enabled(): boolean {
    return this.settings !== false;
  }

  /** The next event id, without a database round trip while the reserved block lasts. */
  async nextId(): Promise<number> {
    for (;;) {
      const id = this.takeId();
      if (id !== undefined) return id;
      await this.fetchBlock();
    }
  }

  /** The next event id when one is reserved already (the usual case), without a promise; else undefined. */
  takeIdNow(): number | undefined {
    return this.takeId();
  }

  private takeId(): number | undefined {
    if (this.current.next >= this.current.end && this.spare) {
      this.current = this.spare;
      this.spare = undefined;
    }
    if (this.current.next >= this.current.end) return undefined;
    if (!this.spare && this.current.end - this.current.next <= BLOCK_SIZE / 4) {
      this.fetchBlock().catch((error: unknown) => this.warn('could not reserve event ids', error));
    }
    const id = this.current.next;
    this.current.next += 1;
    return id;
  }

  private fetchBlock(): Promise<void> {
    this.fetching ??= this.reserveBlock()
      .then((block) => {
        if (this.current.next >= this.current.end) this.current = block;
        else this.spare = block;
      })
      .finally(() => {
        this.fetching = undefined;
      });
    return this.fetching;
  }

  /** One UPDATE + SELECT in a transaction: instances sharing the database never share an id. */
  private async reserveBlock(): Promise<IdBlock> {
    const block = await withTransaction(this.dataSource, async (manager) => {
      await manager.query("UPDATE _tool_webhook_event_id_blocks SET next_block = next_block + 1 WHERE name = 'events'");
      const rows: { next_block: number | string }[] = await manager.query(
        "SELECT next_block FROM _tool_webhook_event_id_blocks WHERE name = 'events'",
      );
      if (rows.length === 0) throw new Error('_tool_webhook_event_id_blocks has no events row: run the migrations');
      return Number(rows[0].next_block) - 1;
    });
    return { next: block * BLOCK_SIZE, end: (block + 1) * BLOCK_SIZE };
  }

  /** Queues a finished delivery; it is written shortly, with the others queued beside it. */
  record(event: Partial<RawWebhookEvent>): void {
    this.queue.push(event);
    if (this.queue.length > MAX_QUEUED) {
      this.queue.shift();
      this.dropped += 1;
    }
    if (this.queue.length >= BATCH_ROWS) {
      void this.flush();
    } else if (!this.scheduled && !this.draining) {
      this.scheduled = true;
      setTimeout(() => {
        this.scheduled = false;
        void this.flush();
      }, FLUSH_DELAY_MS);
    }
  }

  /** Writes every queued delivery; resolves when they are in the database (or given up). */
  flush(): Promise<void> {
    if (this.queue.length === 0 && !this.draining) return Promise.resolve();
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      if (!this.dataSource.isInitialized) {
        // The host closed the DataSource without `close()`: nothing can be written any more.
        this.dropped += this.queue.length;
        this.queue = [];
        break;
      }
      const batch = this.queue.splice(0, BATCH_ROWS);
      try {
        await withStatement(this.dataSource, (manager) => upsertRows(manager, RawWebhookEvent, batch));
      } catch (error) {
        // The deliveries themselves were answered; losing their log rows must not fail them.
        this.warn(`could not write ${batch.length} event log rows`, error);
      }
    }
    if (this.dropped > 0) {
      this.logger.warn({ dropped: this.dropped }, 'event log queue overflowed; deliveries were not logged');
      this.dropped = 0;
    }
  }

  private warn(message: string, error: unknown): void {
    // The message and code only: a driver's error may quote the statement with its values.
    const { code, message: cause } = (error ?? {}) as { code?: string; message?: string };
    this.logger.warn({ code, cause: cause?.split('\n')[0] }, message);
  }

  /** Events of a connection (by its id or by the name it was addressed by), newest first. */
  async list(
    connection: { id: number; name: string },
    filter: EventFilter,
  ): Promise<{ count: number; events: EventView[] }> {
    await this.flush();
    const query = this.dataSource
      .getRepository(RawWebhookEvent)
      .createQueryBuilder('e')
      .where('(e.connectionId = :id OR e.connectionName = :name)', { id: connection.id, name: connection.name });
    if (filter.outcome) query.andWhere('e.outcome = :outcome', { outcome: filter.outcome });
    if (filter.since) query.andWhere('e.receivedAt >= :since', { since: filter.since });
    if (filter.until) query.andWhere('e.receivedAt < :until', { until: filter.until });
    const [rows, count] = await query
      .select(EVENT_COLUMNS.map((column) => `e.${column}`))
      .orderBy('e.receivedAt', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .skip((filter.page - 1) * filter.pageSize)
      .take(filter.pageSize)
      .getManyAndCount();
    return { count, events: rows.map((row) => viewOf(row)) };
  }

  /** One event of a connection, with its body; undefined when it is not that connection's. */
  async get(connection: { id: number; name: string }, eventId: number): Promise<RawWebhookEvent | undefined> {
    await this.flush();
    const row = await this.dataSource.getRepository(RawWebhookEvent).findOneBy({ id: eventId });
    if (!row || !(row.connectionId === connection.id || row.connectionName === connection.name)) return undefined;
    return row;
  }

  /** Refused originals of a connection in a time range, oldest first, not yet recovered by a replay. */
  async refusedToReplay(
    connection: { id: number; name: string },
    range: { since?: Date; until?: Date },
    limit: number,
  ): Promise<RawWebhookEvent[]> {
    await this.flush();
    const query = this.dataSource
      .getRepository(RawWebhookEvent)
      .createQueryBuilder('e')
      .where('(e.connectionId = :id OR e.connectionName = :name)', { id: connection.id, name: connection.name })
      .andWhere("e.outcome = 'refused'")
      .andWhere('e.replayOf IS NULL')
      .andWhere(`NOT EXISTS (SELECT 1 FROM ${RAW_EVENTS_TABLE} r WHERE r.replay_of = e.id AND r.outcome = 'accepted')`);
    if (range.since) query.andWhere('e.receivedAt >= :since', { since: range.since });
    if (range.until) query.andWhere('e.receivedAt < :until', { until: range.until });
    return query.orderBy('e.receivedAt', 'ASC').addOrderBy('e.id', 'ASC').take(limit).getMany();
  }

  /**
   * Deletes what the retention allows, in steps of a few hundred rows (at most a few thousand
   * per run), so that pruning never holds the table for long. Returns the rows deleted.
   */
  async prune(now: Date = new Date()): Promise<number> {
    if (!this.settings || !this.dataSource.isInitialized) return 0;
    await this.flush();
    const { retentionDays, retentionRows } = this.settings;
    const repository = this.dataSource.getRepository(RawWebhookEvent);
    let deleted = 0;
    for (let step = 0; step < PRUNE_MAX_STEPS; step += 1) {
      let ids: number[] = [];
      if (retentionDays > 0) {
        const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
        const old = await repository
          .createQueryBuilder('e')
          .select('e.id')
          .where('e.receivedAt < :cutoff', { cutoff })
          .orderBy('e.receivedAt', 'ASC')
          .take(PRUNE_STEP_ROWS)
          .getMany();
        ids = old.map((row) => row.id);
      }
      if (ids.length === 0 && retentionRows > 0) {
        const beyond = await repository
          .createQueryBuilder('e')
          .select('e.id')
          .orderBy('e.receivedAt', 'DESC')
          .addOrderBy('e.id', 'DESC')
          .skip(retentionRows)
          .take(PRUNE_STEP_ROWS)
          .getMany();
        ids = beyond.map((row) => row.id);
      }
      if (ids.length === 0) break;
      // TypeORM writes the placeholders each engine wants (`?` or `$1`).
      await withTransaction(this.dataSource, (manager) => manager.getRepository(RawWebhookEvent).delete(ids));
      deleted += ids.length;
    }
    return deleted;
  }

  /** Prunes every `pruneIntervalMs` in the background (the timer never keeps a process alive). */
  startPruning(): void {
    if (!this.settings || this.timer || this.settings.pruneIntervalMs <= 0) return;
    const run = () => {
      this.prune().catch((error: unknown) => this.warn('event log pruning failed', error));
    };
    this.timer = setInterval(run, this.settings.pruneIntervalMs);
    this.timer.unref();
    setImmediate(run);
  }

  /** Stops pruning and writes what is queued: call before closing the DataSource. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Rows and body bytes of the log, for the metrics. */
  async size(): Promise<{ rows: number; bodyBytes: number }> {
    await this.flush();
    const rows: { n: number | string; b: number | string | null }[] = await this.dataSource.query(
      `SELECT COUNT(*) AS n, COALESCE(SUM(body_bytes), 0) AS b FROM ${RAW_EVENTS_TABLE}`,
    );
    return { rows: Number(rows[0]?.n ?? 0), bodyBytes: Number(rows[0]?.b ?? 0) };
  }
}

/** Every column but the body, for lists. */
const EVENT_COLUMNS = [
  'id',
  'connectionId',
  'connectionName',
  'method',
  'route',
  'path',
  'requestId',
  'sender',
  'receivedAt',
  'durationMs',
  'status',
  'outcome',
  'message',
  'causes',
  'written',
  'contentType',
  'userAgent',
  'deliveryId',
  'bodyBytes',
  'replayOf',
] as const;

/** An event as the API answers it; the body (as text) only when `withBody`. */
export function viewOf(row: RawWebhookEvent, withBody = false): EventView {
  const view: EventView = {
    id: row.id,
    connectionId: row.connectionId,
    connectionName: row.connectionName,
    method: row.method,
    route: row.route,
    path: row.path,
    requestId: row.requestId,
    sender: row.sender,
    receivedAt: row.receivedAt,
    durationMs: row.durationMs,
    status: row.status,
    outcome: row.outcome,
    message: row.message,
    causes: parseJson(row.causes) as FieldCause[] | null,
    written: parseJson(row.written),
    contentType: row.contentType,
    userAgent: row.userAgent,
    deliveryId: row.deliveryId,
    bodyBytes: row.bodyBytes,
    replayOf: row.replayOf,
  };
  if (withBody) view.body = row.body ? Buffer.from(row.body).toString('utf8') : null;
  return view;
}
