import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { utcDatetimeText } from './columns';
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

/**
 * Upserts one row and tells whether its primary key existed before, without a statement of its
 * own on MySQL: the server's affected-rows count is 1 for an inserted row and 2 for an updated
 * one (0 for a row already holding these values, when the client does not ask for found rows).
 * With found rows (mysql2's default) an existing row set to identical values also counts 1;
 * that needs the same `updated_at` to the millisecond, hence the same request twice in one
 * millisecond, and such a row's dependants are identical too. SQLite runs in process, so a
 * lookup costs no round trip there.
 */
export async function upsertRowExisted<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  row: Partial<T>,
  keep: string[] = ['created_at'],
): Promise<boolean> {
  const dataSource = manager.connection;
  const plan = planFor(dataSource, target as EntityTarget<ObjectLiteral>, keep, 'overwrite');
  if (isMysql(dataSource)) {
    const result = (await write(manager, plan, [row])) as { affectedRows?: number } | undefined;
    return result?.affectedRows !== 1;
  }
  if (dialectOf(dataSource).engine === 'sqlite') {
    // A SQLite transaction that reads before it writes cannot wait for another process's write
    // lock (SQLITE_BUSY at once, not after the busy timeout): write first, and take the row as
    // existing, so the caller removes dependants the post no longer lists (a no-op when new).
    await write(manager, plan, [row]);
    return true;
  }
  const metadata = dataSource.getMetadata(target);
  const keys = metadata.primaryColumns;
  const found = (await manager.query(
    dialectOf(dataSource).sql(
      `SELECT 1 AS found FROM ${dataSource.driver.escape(metadata.tableName)} WHERE ${keys
        .map((column) => `${dataSource.driver.escape(column.databaseName)} = ?`)
        .join(' AND ')}`,
    ),
    keys.map((column) => (row as ObjectLiteral)[column.propertyName]),
  )) as unknown[];
  await write(manager, plan, [row]);
  return found.length > 0;
}

/** The primary keys among `ids` that exist in the table of `target` (single-column keys). */
export async function existingIds<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  ids: string[],
): Promise<Set<string>> {
  const dataSource = manager.connection;
  // SQLite: no read before the transaction's first write (see upsertRowExisted); every id is
  // taken as existing, which costs a few DELETEs that find nothing.
  if (dialectOf(dataSource).engine === 'sqlite') return new Set(ids);
  const metadata = dataSource.getMetadata(target);
  const key = dataSource.driver.escape(metadata.primaryColumns[0].databaseName);
  const table = dataSource.driver.escape(metadata.tableName);
  const found = new Set<string>();
  for (let start = 0; start < ids.length; start += 500) {
    const slice = ids.slice(start, start + 500);
    const rows = (await manager.query(
      dialectOf(dataSource).sql(
        `SELECT ${key} AS id FROM ${table} WHERE ${key} IN (${slice.map(() => '?').join(', ')})`,
      ),
      slice,
    )) as { id: string }[];
    for (const row of rows) found.add(String(row.id));
  }
  return found;
}

function isMysql(dataSource: DataSource): boolean {
  return dataSource.options.type === 'mysql' || dataSource.options.type === 'mariadb';
}

/** Placeholders per statement: under SQLite's 32 766, MySQL's and PostgreSQL's 65 535, with room to spare. */
const MAX_PLACEHOLDERS = 16_000;
const MAX_ROWS_PER_STATEMENT = 500;

/** Writes `given` in as few multi-row statements as the placeholder limits allow. */
async function write(manager: EntityManager, plan: UpsertPlan, given: ObjectLiteral[]): Promise<unknown> {
  if (given.length === 0) return undefined;
  const rows = plan.distinctKeys ? lastOfEachKey(given, plan.distinctKeys) : given;
  const perStatement = Math.max(
    1,
    Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(MAX_PLACEHOLDERS / Math.max(1, plan.columns.length))),
  );
  if (rows.length <= perStatement) return writeStatement(manager, plan, rows);
  for (let start = 0; start < rows.length; start += perStatement) {
    await writeStatement(manager, plan, rows.slice(start, start + perStatement));
  }
  return undefined;
}

async function writeStatement(manager: EntityManager, plan: UpsertPlan, rows: ObjectLiteral[]): Promise<unknown> {
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
  return manager.query(sql, params);
}

/**
 * Rows as the database would hold them, by table and column name (a dry run's answer): what
 * `upsertRows` would write, before the driver's own conversions.
 */
export function tableRows<T extends ObjectLiteral>(
  dataSource: DataSource,
  target: EntityTarget<T>,
  rows: Partial<T>[],
): Record<string, Record<string, unknown>[]> {
  if (rows.length === 0) return {};
  const metadata = dataSource.getMetadata(target);
  return {
    [metadata.tableName]: rows.map((row) => {
      const out: Record<string, unknown> = {};
      for (const column of metadata.columns) {
        const value = (row as ObjectLiteral)[column.propertyName];
        out[column.databaseName] = value === undefined ? null : value;
      }
      return out;
    }),
  };
}

/**
 * Upserts plain value rows into a table that has no entity (the plugin's derived `_tool_` tables):
 * `columns` in order, `conflict` the primary key, every other column overwritten. Dates are
 * written as UTC text, which every engine's datetime column reads as UTC. `rowsPerStatement`
 * keeps each statement under every engine's parameter limit.
 */
export async function upsertValues(
  manager: EntityManager,
  table: string,
  columns: string[],
  conflict: string[],
  rows: unknown[][],
  rowsPerStatement = 500,
): Promise<void> {
  const dialect = dialectOf(manager);
  const { head, tail } = dialect.upsert(
    table,
    columns,
    conflict,
    columns.filter((name) => !conflict.includes(name)),
  );
  for (let start = 0; start < rows.length; start += rowsPerStatement) {
    const batch = rows.slice(start, start + rowsPerStatement);
    const values = batch.flatMap((row) => row.map((value) => (value instanceof Date ? utcDatetimeText(value) : value)));
    const marks = batch.map(
      (_, i) => `(${columns.map((__, j) => dialect.placeholder(i * columns.length + j + 1)).join(', ')})`,
    );
    await manager.query(`${head}${marks.join(', ')}${tail}`, values);
  }
}
