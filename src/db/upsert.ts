import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { dialectOf } from './dialect';

/** The statement of one upsert shape, built once: the hot path only binds values. */
interface UpsertPlan {
  columns: ColumnMetadata[];
  /** SQL for `rows` rows, cached per count. */
  sql: Map<number, string>;
  head: string;
  tail: string;
  /** One row's placeholders; `first` is the number of its first parameter (PostgreSQL's `$n`). */
  rowPlaceholders: (first: number) => string;
  /** Properties of the primary key, when one statement must not name a key twice. */
  distinctKeys?: string[];
}

const plans = new WeakMap<DataSource, Map<string, UpsertPlan>>();

function planFor(
  dataSource: DataSource,
  target: EntityTarget<ObjectLiteral>,
  keep: string[],
  onConflict: 'overwrite' | 'ignore',
): UpsertPlan {
  let byShape = plans.get(dataSource);
  if (!byShape) {
    byShape = new Map();
    plans.set(dataSource, byShape);
  }
  const metadata = dataSource.getMetadata(target);
  const shape = `${metadata.tableName}|${onConflict}|${keep.join(',')}`;
  const cached = byShape.get(shape);
  if (cached) return cached;

  const dialect = dialectOf(dataSource);
  const columns = metadata.columns;
  const names = columns.map((column) => column.databaseName);
  const conflict = metadata.primaryColumns.map((column) => column.databaseName);
  const overwrite = names.filter((name) => !conflict.includes(name) && !keep.includes(name));
  const { head, tail } =
    onConflict === 'ignore'
      ? dialect.insertIgnore(metadata.tableName, names)
      : dialect.upsert(metadata.tableName, names, conflict, overwrite);
  const plan: UpsertPlan = {
    columns,
    sql: new Map(),
    head,
    tail,
    rowPlaceholders: (first) => `(${columns.map((_, i) => dialect.placeholder(first + i)).join(', ')})`,
    distinctKeys: dialect.upsertNeedsDistinctKeys ? metadata.primaryColumns.map((c) => c.propertyName) : undefined,
  };
  byShape.set(shape, plan);
  return plan;
}

/**
 * Inserts rows or, when the primary key exists, overwrites every column except those listed in
 * `keep` (by default `created_at`, so a re-post keeps it and moves `updated_at`, docs/devlake-compatibility.md §5).
 * One statement on every engine: `ON DUPLICATE KEY UPDATE` on MySQL, `ON CONFLICT DO UPDATE` on
 * SQLite and PostgreSQL (`dialect.ts`). Columns a row leaves out are written as NULL (or kept, when listed in `keep`).
 *
 * This is every ingestion request's hot path, so the statement text is built once per table
 * and row count, and values go through TypeORM's own per-column conversion
 * (`preparePersistentValue`: dates, booleans, transformers) rather than a query builder, which
 * parsed and rewrote the SQL on every call (a profile: a fifth of the server's CPU).
 */
export async function upsertRows<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  rows: Partial<T>[],
  keep: string[] = ['created_at'],
): Promise<void> {
  await write(manager, planFor(manager.connection, target as EntityTarget<ObjectLiteral>, keep, 'overwrite'), rows);
}

/** Inserts the rows whose primary key does not exist yet and leaves existing rows untouched. */
export async function insertMissingRows<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  rows: Partial<T>[],
): Promise<void> {
  await write(manager, planFor(manager.connection, target as EntityTarget<ObjectLiteral>, [], 'ignore'), rows);
}

/** The last row of each key, in first-seen order: what MySQL and SQLite store row by row. */
function lastOfEachKey(rows: ObjectLiteral[], keys: string[]): ObjectLiteral[] {
  const byKey = new Map<string, ObjectLiteral>();
  for (const row of rows) {
    const key = JSON.stringify(keys.map((name) => row[name] ?? null));
    byKey.set(key, row);
  }
  return byKey.size === rows.length ? rows : [...byKey.values()];
}

async function write(manager: EntityManager, plan: UpsertPlan, given: ObjectLiteral[]): Promise<void> {
  if (given.length === 0) return;
  const rows = plan.distinctKeys ? lastOfEachKey(given, plan.distinctKeys) : given;
  const dataSource = manager.connection;
  let sql = plan.sql.get(rows.length);
  if (!sql) {
    const width = plan.columns.length;
    sql = plan.head + rows.map((_, i) => plan.rowPlaceholders(i * width + 1)).join(', ') + plan.tail;
    plan.sql.set(rows.length, sql);
  }
  const params: unknown[] = [];
  for (const row of rows) {
    for (const column of plan.columns) {
      const value = row[column.propertyName];
      params.push(value === undefined ? null : dataSource.driver.preparePersistentValue(value, column));
    }
  }
  await manager.query(sql, params);
}
