import { Table, TableColumn, TableIndex, type QueryRunner } from 'typeorm';
import { dialectOf } from './dialect';

/**
 * A small vocabulary for DevLake's MySQL column types, written once and turned into TypeORM
 * `Table` definitions for the database at hand by its dialect (`dialect.ts`): MySQL/MariaDB get
 * DevLake's exact types (`longtext`, `datetime(3)`, `bigint unsigned`, utf8mb4), PostgreSQL the
 * types DevLake has there (`text`, `timestamptz`, `bigint`), SQLite their closest affinity.
 *
 * Migrations create only what is missing and remember what they created, so that pointing the
 * plugin at an existing DevLake database never alters or drops DevLake's own tables.
 */

export type ColumnKind =
  'varchar' | 'longtext' | 'datetime3' | 'timestamp' | 'bigint' | 'ubigint' | 'double' | 'bool' | 'int';

export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
  length?: number;
  primary?: boolean;
  notNull?: boolean;
  autoIncrement?: boolean;
}

export interface IndexSpec {
  name: string;
  columns: string[];
  unique?: boolean;
}

export interface TableSpec {
  name: string;
  columns: ColumnSpec[];
  indexes?: IndexSpec[];
}

export const col = {
  varchar: (name: string, length = 255, extra: Partial<ColumnSpec> = {}): ColumnSpec => ({
    name,
    kind: 'varchar',
    length,
    ...extra,
  }),
  key: (name: string, length = 255): ColumnSpec => ({ name, kind: 'varchar', length, primary: true, notNull: true }),
  longtext: (name: string): ColumnSpec => ({ name, kind: 'longtext' }),
  datetime3: (name: string, extra: Partial<ColumnSpec> = {}): ColumnSpec => ({ name, kind: 'datetime3', ...extra }),
  timestamp: (name: string): ColumnSpec => ({ name, kind: 'timestamp' }),
  bigint: (name: string, extra: Partial<ColumnSpec> = {}): ColumnSpec => ({ name, kind: 'bigint', ...extra }),
  ubigint: (name: string, extra: Partial<ColumnSpec> = {}): ColumnSpec => ({ name, kind: 'ubigint', ...extra }),
  double: (name: string): ColumnSpec => ({ name, kind: 'double' }),
  bool: (name: string): ColumnSpec => ({ name, kind: 'bool' }),
  int: (name: string, extra: Partial<ColumnSpec> = {}): ColumnSpec => ({ name, kind: 'int', ...extra }),
};

/** DevLake's `common.NoPKModel` columns, present on every domain table. */
export const commonColumns = (): ColumnSpec[] => [
  col.datetime3('created_at'),
  col.datetime3('updated_at'),
  col.varchar('_raw_data_params'),
  col.varchar('_raw_data_table'),
  col.ubigint('_raw_data_id'),
  col.longtext('_raw_data_remark'),
];

export const CREATED = '_tool_webhook_created_objects';

export async function ensureBookkeeping(queryRunner: QueryRunner): Promise<void> {
  const dialect = dialectOf(queryRunner);
  await queryRunner.createTable(
    new Table({
      name: CREATED,
      columns: [
        dialect.column(col.key('object_name')),
        dialect.column(col.varchar('kind', 20)),
        dialect.column(col.varchar('table_name')),
        dialect.column(col.varchar('migration')),
      ],
    }),
    true,
  );
}

export async function remember(
  queryRunner: QueryRunner,
  name: string,
  kind: 'table' | 'index' | 'column' | 'retype',
  tableName: string,
  migration: string,
): Promise<void> {
  const sql = dialectOf(queryRunner).sql(
    `INSERT INTO ${CREATED} (object_name, kind, table_name, migration) VALUES (?, ?, ?, ?)`,
  );
  await queryRunner.query(sql, [name, kind, tableName, migration]);
}

/**
 * Creates each table that does not exist yet, each column missing from an existing table, and
 * each listed index missing from its table, recording what it created under the migration's
 * name so that `down()` removes exactly that.
 */
export async function createMissing(queryRunner: QueryRunner, migration: string, specs: TableSpec[]): Promise<void> {
  const dialect = dialectOf(queryRunner);
  await ensureBookkeeping(queryRunner);
  for (const spec of specs) {
    if (!(await queryRunner.hasTable(spec.name))) {
      await queryRunner.createTable(
        new Table({
          name: spec.name,
          columns: spec.columns.map((column) => dialect.column(column)),
          ...dialect.tableOptions,
        }),
      );
      await remember(queryRunner, spec.name, 'table', spec.name, migration);
    }
    let table = await queryRunner.getTable(spec.name);
    // An existing (older) DevLake table may lack columns we write: add just those.
    const missing = spec.columns.filter((column) => !table?.columns.some((existing) => existing.name === column.name));
    for (const column of missing) {
      await queryRunner.addColumn(
        spec.name,
        new TableColumn(dialect.column({ ...column, primary: false, autoIncrement: false })),
      );
      await remember(queryRunner, `${spec.name}.${column.name}`, 'column', spec.name, migration);
    }
    if (missing.length > 0) table = await queryRunner.getTable(spec.name);
    for (const index of spec.indexes ?? []) {
      const exists = table?.indices.some(
        (existing) => existing.name === index.name || existing.columnNames.join(',') === index.columns.join(','),
      );
      if (exists) continue;
      await queryRunner.createIndex(
        spec.name,
        new TableIndex({ name: index.name, columnNames: index.columns, isUnique: index.unique }),
      );
      await remember(queryRunner, `${spec.name}.${index.name}`, 'index', spec.name, migration);
    }
  }
}

/** Drops exactly what `createMissing` created under this migration's name, newest first. */
export async function dropCreated(queryRunner: QueryRunner, migration: string): Promise<void> {
  if (!(await queryRunner.hasTable(CREATED))) return;
  const dialect = dialectOf(queryRunner);
  const rows: { object_name: string; kind: string; table_name: string }[] = await queryRunner.query(
    dialect.sql(`SELECT object_name, kind, table_name FROM ${CREATED} WHERE migration = ?`),
    [migration],
  );
  for (const row of rows.filter((r) => r.kind === 'index')) {
    const indexName = row.object_name.slice(row.table_name.length + 1);
    if (await queryRunner.hasTable(row.table_name)) await queryRunner.dropIndex(row.table_name, indexName);
  }
  for (const row of rows.filter((r) => r.kind === 'column')) {
    const columnName = row.object_name.slice(row.table_name.length + 1);
    if (await queryRunner.hasColumn(row.table_name, columnName))
      await queryRunner.dropColumn(row.table_name, columnName);
  }
  for (const row of rows.filter((r) => r.kind === 'table').reverse()) {
    await queryRunner.dropTable(row.table_name, true);
  }
  await queryRunner.query(dialect.sql(`DELETE FROM ${CREATED} WHERE migration = ?`), [migration]);
  const left: { n: number | string }[] = await queryRunner.query(`SELECT COUNT(*) AS n FROM ${CREATED}`);
  if (Number(left[0]?.n ?? 0) === 0) await queryRunner.dropTable(CREATED, true);
}
