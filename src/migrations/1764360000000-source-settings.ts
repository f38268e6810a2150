import type { MigrationInterface, QueryRunner } from 'typeorm';
import { col, createMissing, dropCreated, type TableSpec } from '../db/table-spec';

/**
 * Ours, for the native sources (GitHub, GitLab, PagerDuty, docs/sources.md): per connection,
 * the signing secret (encrypted) and the mapping settings; and the delivery ids already
 * processed, so that a redelivery is a no-op.
 */
export const SOURCE_TABLES: TableSpec[] = [
  {
    name: '_tool_webhook_source_settings',
    columns: [
      col.ubigint('connection_id', { primary: true, notNull: true }),
      col.longtext('signing_secret'),
      col.longtext('previous_signing_secret'),
      col.datetime3('previous_valid_until'),
      col.datetime3('secret_set_at'),
      col.longtext('settings'),
      col.datetime3('updated_at'),
    ],
  },
  {
    name: '_tool_webhook_source_deliveries',
    columns: [
      col.ubigint('connection_id', { primary: true, notNull: true }),
      col.varchar('source', 20, { primary: true, notNull: true }),
      col.varchar('delivery_id', 191, { primary: true, notNull: true }),
      col.datetime3('received_at', { notNull: true }),
    ],
    indexes: [{ name: 'idx_webhook_source_deliveries_received', columns: ['received_at'] }],
  },
];

export class SourceSettings1764360000000 implements MigrationInterface {
  name = 'SourceSettings1764360000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMissing(queryRunner, this.name, SOURCE_TABLES);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropCreated(queryRunner, this.name);
  }
}
