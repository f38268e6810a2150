import type { MigrationInterface, QueryRunner } from 'typeorm';
import { col, createMissing, dropCreated, type TableSpec } from '../db/table-spec';

/**
 * The raw event log: every delivery to a connection's ingestion routes, as received, with its
 * outcome. Named like DevLake's `_raw_*` tables, which domain rows point at through
 * `_raw_data_table` / `_raw_data_id`. Ids are handed out by the application in blocks
 * (`_tool_webhook_event_id_blocks`), so that a delivery's id is known before anything is
 * written and the log row can be written once, after the answer, in a batch with others.
 */
export const EVENT_TABLES: TableSpec[] = [
  {
    name: '_raw_webhook_events',
    columns: [
      col.ubigint('id', { primary: true, notNull: true }),
      col.ubigint('connection_id'),
      col.varchar('connection_name', 100),
      col.varchar('method', 10),
      col.varchar('route', 255),
      col.varchar('path', 1000),
      col.varchar('request_id', 64),
      col.varchar('sender', 100),
      col.datetime3('received_at', { notNull: true }),
      col.int('duration_ms'),
      col.int('status'),
      col.varchar('outcome', 16),
      col.longtext('message'),
      col.longtext('causes'),
      col.longtext('written'),
      col.varchar('content_type', 255),
      col.varchar('user_agent', 255),
      col.varchar('delivery_id', 255),
      col.int('body_bytes'),
      col.longtext('body'),
      col.ubigint('replay_of'),
    ],
    indexes: [
      { name: 'idx_raw_webhook_events_connection', columns: ['connection_id', 'received_at'] },
      { name: 'idx_raw_webhook_events_name', columns: ['connection_name', 'received_at'] },
      { name: 'idx_raw_webhook_events_received', columns: ['received_at'] },
      { name: 'idx_raw_webhook_events_replay_of', columns: ['replay_of'] },
    ],
  },
  {
    name: '_tool_webhook_event_id_blocks',
    columns: [col.key('name', 50), col.ubigint('next_block', { notNull: true })],
  },
];

export class RawWebhookEvents1764350000000 implements MigrationInterface {
  name = 'RawWebhookEvents1764350000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMissing(queryRunner, this.name, EVENT_TABLES);
    const seeded: unknown[] = await queryRunner.query(
      "SELECT name FROM _tool_webhook_event_id_blocks WHERE name = 'events'",
    );
    if (seeded.length === 0) {
      await queryRunner.query("INSERT INTO _tool_webhook_event_id_blocks (name, next_block) VALUES ('events', 1)");
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropCreated(queryRunner, this.name);
  }
}
