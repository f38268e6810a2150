import type { MigrationInterface, QueryRunner } from 'typeorm';
import { col, createMissing, dropCreated, type TableSpec } from '../db/table-spec';

/** `_tool_webhook_connections` and `_devlake_api_keys` as DevLake has them (docs/devlake-compatibility.md §8). */
export const CONNECTION_TABLES: TableSpec[] = [
  {
    name: '_tool_webhook_connections',
    columns: [
      col.ubigint('id', { primary: true, notNull: true, autoIncrement: true }),
      col.varchar('name', 100),
      col.datetime3('created_at'),
      col.datetime3('updated_at'),
    ],
    indexes: [{ name: 'idx__tool_webhook_connections_name', columns: ['name'], unique: true }],
  },
  {
    name: '_devlake_api_keys',
    columns: [
      col.ubigint('id', { primary: true, notNull: true, autoIncrement: true }),
      col.datetime3('created_at'),
      col.datetime3('updated_at'),
      col.varchar('creator'),
      col.varchar('creator_email'),
      col.varchar('updater'),
      col.varchar('updater_email'),
      col.varchar('name'),
      col.varchar('api_key'),
      col.datetime3('expired_at'),
      col.varchar('allowed_path'),
      col.varchar('type', 40),
      col.varchar('extra'),
    ],
    indexes: [
      { name: 'idx__devlake_api_keys_name', columns: ['name'], unique: true },
      { name: 'idx__devlake_api_keys_api_key', columns: ['api_key'], unique: true },
      { name: 'idx__devlake_api_keys_type', columns: ['type'] },
      { name: 'idx__devlake_api_keys_extra', columns: ['extra'] },
    ],
  },
  {
    // Ours: settings the plugin keeps for itself, such as a generated ENCRYPTION_SECRET, so that
    // every instance on the same database hashes keys alike.
    name: '_tool_webhook_settings',
    columns: [col.key('name', 100), col.longtext('value'), col.datetime3('created_at')],
  },
  {
    name: '_tool_webhook_api_key_usage',
    columns: [col.ubigint('api_key_id', { primary: true, notNull: true }), col.datetime3('last_used_at')],
  },
];

export class ConnectionsAndApiKeys1764300000000 implements MigrationInterface {
  name = 'ConnectionsAndApiKeys1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMissing(queryRunner, this.name, CONNECTION_TABLES);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropCreated(queryRunner, this.name);
  }
}
