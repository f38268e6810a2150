import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

/** The statement of one upsert shape, built once: the hot path only binds values. */
interface UpsertPlan {
  columns: ColumnMetadata[];
  /** SQL for `rows` rows, cached per count. */
  sql: Map<number, string>;
  head: string;
  tail: string;
  rowPlaceholders: string;
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

  const escape = (name: string) => dataSource.driver.escape(name);
  const columns = metadata.columns;
  const conflict = metadata.primaryColumns.map((column) => column.databaseName);
  const overwrite = columns
    .map((column) => column.databaseName)
    .filter((name) => !conflict.includes(name) && !keep.includes(name));
  const mysql = dataSource.options.type === 'mysql' || dataSource.options.type === 'mariadb';
  const columnList = `${escape(metadata.tableName)} (${columns.map((c) => escape(c.databaseName)).join(', ')}) VALUES `;
  if (onConflict === 'ignore') {
    // INSERT IGNORE takes a shared lock on an existing row where ON DUPLICATE KEY UPDATE takes
    // an exclusive one, so concurrent requests that only need the row to exist do not queue.
    const head = mysql ? `INSERT IGNORE INTO ${columnList}` : `INSERT OR IGNORE INTO ${columnList}`;
    const plan: UpsertPlan = {
      columns,
      sql: new Map(),
      head,
      tail: '',
      rowPlaceholders: `(${columns.map(() => '?').join(', ')})`,
    };
    byShape.set(shape, plan);
    return plan;
  }
  const head = `INSERT INTO ${columnList}`;
  let tail: string;
  if (mysql) {
    tail =
      overwrite.length > 0
        ? ` ON DUPLICATE KEY UPDATE ${overwrite.map((name) => `${escape(name)} = VALUES(${escape(name)})`).join(', ')}`
        : ` ON DUPLICATE KEY UPDATE ${escape(conflict[0])} = ${escape(conflict[0])}`;
  } else {
    tail =
      overwrite.length > 0
        ? ` ON CONFLICT (${conflict.map(escape).join(', ')}) DO UPDATE SET ${overwrite
            .map((name) => `${escape(name)} = excluded.${escape(name)}`)
            .join(', ')}`
        : ` ON CONFLICT (${conflict.map(escape).join(', ')}) DO NOTHING`;
  }
  const plan: UpsertPlan = {
    columns,
    sql: new Map(),
    head,
    tail,
    rowPlaceholders: `(${columns.map(() => '?').join(', ')})`,
  };
  byShape.set(shape, plan);
  return plan;
}

/**
 * Inserts rows or, when the primary key exists, overwrites every column except those listed in
 * `keep` (by default `created_at`, so a re-post keeps it and moves `updated_at`, docs/devlake-compatibility.md §5).
 * One statement on both databases: `ON DUPLICATE KEY UPDATE` on MySQL, `ON CONFLICT DO UPDATE`
 * on SQLite. Columns a row leaves out are written as NULL (or kept, when listed in `keep`).
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

async function write(manager: EntityManager, plan: UpsertPlan, rows: ObjectLiteral[]): Promise<void> {
  if (rows.length === 0) return;
  const dataSource = manager.connection;
  let sql = plan.sql.get(rows.length);
  if (!sql) {
    sql = plan.head + Array.from({ length: rows.length }, () => plan.rowPlaceholders).join(', ') + plan.tail;
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
