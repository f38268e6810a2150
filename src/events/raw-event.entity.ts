import { Column, Entity, PrimaryColumn } from 'typeorm';
import { base64Bytes, bigintAsNumber, DateTime3, LongText, Varchar } from '../db/columns';

/** The table domain rows name in `_raw_data_table` (DevLake's lineage columns). */
export const RAW_EVENTS_TABLE = '_raw_webhook_events';

/**
 * One delivery to a connection's ingestion routes, as received, and what became of it. Never
 * holds credentials: only the headers listed in `event-log.middleware.ts` are kept.
 */
@Entity({ name: RAW_EVENTS_TABLE })
export class RawWebhookEvent {
  @PrimaryColumn({ name: 'id', type: 'bigint', transformer: bigintAsNumber })
  id!: number;

  @Column({ name: 'connection_id', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  connectionId!: number | null;

  @Varchar('connection_name', 100)
  connectionName!: string | null;

  @Varchar('method', 10)
  method!: string | null;

  @Varchar('route', 255)
  route!: string | null;

  @Varchar('path', 1000)
  path!: string | null;

  @Varchar('request_id', 64)
  requestId!: string | null;

  /**
   * Who sent it, never with a credential: `connection-key:<keyId>:<connectionId>`,
   * `general-key:<keyId>`, `basic:<user>`, `host` or `anonymous`.
   */
  @Varchar('sender', 100)
  sender!: string | null;

  @DateTime3('received_at', false)
  receivedAt!: Date;

  @Column({ name: 'duration_ms', type: 'int', nullable: true })
  durationMs!: number | null;

  @Column({ name: 'status', type: 'int', nullable: true })
  status!: number | null;

  @Varchar('outcome', 16)
  outcome!: string | null;

  @LongText('message')
  message!: string | null;

  @LongText('causes')
  causes!: string | null;

  @LongText('written')
  written!: string | null;

  @Varchar('content_type', 255)
  contentType!: string | null;

  @Varchar('user_agent', 255)
  userAgent!: string | null;

  @Varchar('delivery_id', 255)
  deliveryId!: string | null;

  @Column({ name: 'body_bytes', type: 'int', nullable: true })
  bodyBytes!: number | null;

  /**
   * The bytes as received, kept as base64 text: one column type that every engine stores
   * exactly (PostgreSQL has no BLOB, and text columns there refuse a NUL byte).
   */
  @Column({ name: 'body', type: 'text', nullable: true, transformer: base64Bytes })
  body!: Buffer | null;

  @Column({ name: 'replay_of', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  replayOf!: number | null;
}

/** The id block counter of the event log (see the migration). */
@Entity({ name: '_tool_webhook_event_id_blocks' })
export class RawEventIdBlock {
  @PrimaryColumn({ name: 'name', type: 'varchar', length: 50 })
  name!: string;

  @Column({ name: 'next_block', type: 'bigint', transformer: bigintAsNumber })
  nextBlock!: number;
}
