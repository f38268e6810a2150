import type { DataSource, EntityManager, QueryRunner, TableColumnOptions } from 'typeorm';
import type { ColumnSpec } from './table-spec';

/**
 * Where SQLite, the MySQL-compatible engines and PostgreSQL differ, in one place: services
 * write their SQL once (with `?` placeholders) and ask the dialect of their DataSource for the
 * few pieces that cannot be written the same on all three.
 *
 * ```ts
 * const dialect = dialectOf(manager);
 * await manager.query(dialect.sql('DELETE FROM incidents WHERE id = ?'), [id]);
 * ```
 */
export interface Dialect {
  readonly engine: 'sqlite' | 'mysql' | 'postgres';
  /** Quotes a table or column name (`table` is a keyword everywhere). */
  quote(identifier: string): string;
  /** The placeholder of the n-th parameter (1-based): `?`, or `$n` on PostgreSQL. */
  placeholder(index: number): string;
  /** Rewrites a statement written with `?` placeholders for this engine. */
  sql(text: string): string;
  /**
   * `INSERT ... VALUES (...)` that inserts new keys and overwrites `overwrite` on existing ones
   * (`conflict` is the primary key). Returns the text before the VALUES rows and after them.
   */
  upsert(table: string, columns: string[], conflict: string[], overwrite: string[]): { head: string; tail: string };
  /** `INSERT ... VALUES (...)` that leaves rows whose key exists untouched. */
  insertIgnore(table: string, columns: string[]): { head: string; tail: string };
  /**
   * True when one upsert statement may not name the same key twice (PostgreSQL: "ON CONFLICT DO
   * UPDATE command cannot affect row a second time"); MySQL and SQLite apply rows in order.
   */
  readonly upsertNeedsDistinctKeys: boolean;
  /** The isolation level of write transactions, or undefined where there is only one writer. */
  readonly writeIsolation: 'READ COMMITTED' | undefined;
  /** The current time as a SQL expression of the engine's datetime type (UTC). */
  now(): string;
  /** Whole minutes from one datetime expression to another (DevLake's `TIMESTAMPDIFF(MINUTE, ...)`). */
  minutesBetween(from: string, to: string): string;
  /** The UTC calendar day of a datetime column as `YYYY-MM-DD` text (for grouping by day). */
  utcDay(column: string): string;
  /** An integer expression divided by a positive integer, truncated toward zero. */
  intDiv(expression: string, divisor: number): string;
  /**
   * An inner join that keeps the written table order, for a join whose selective side the
   * planner misjudges (MySQL's STRAIGHT_JOIN; a plain JOIN where the planner gets it right).
   */
  readonly orderedJoin: string;
  /** A column of DevLake's schema with this engine's type for it (see `table-spec.ts`). */
  column(spec: ColumnSpec): TableColumnOptions;
  /** Extra options of `CREATE TABLE` (MySQL: InnoDB). */
  readonly tableOptions: { engine?: string };
}

/**
 * Driver error codes by meaning. `code` is mysql2's `ER_*`, better-sqlite3's `SQLITE_*`, pg's
 * SQLSTATE (five characters), or Node's socket errors shared by both network drivers.
 */
export const DATABASE_ERROR_CODES = {
  /** The server or the connection is gone or overloaded: the client should retry. */
  unavailable: new Set([
    // sockets (mysql2 and pg)
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
    'EPIPE',
    'EHOSTUNREACH',
    'ENOTFOUND',
    // MySQL / MariaDB
    'PROTOCOL_CONNECTION_LOST',
    'PROTOCOL_SEQUENCE_TIMEOUT',
    'ER_CON_COUNT_ERROR',
    'ER_SERVER_SHUTDOWN',
    'ER_LOCK_WAIT_TIMEOUT',
    'ER_LOCK_DEADLOCK',
    'ER_QUERY_INTERRUPTED',
    'ER_CLIENT_INTERACTION_TIMEOUT',
    // SQLite
    'SQLITE_BUSY',
    'SQLITE_LOCKED',
    // PostgreSQL: connection exceptions (class 08), too many connections, shutting down or
    // starting up, statement/lock timeouts, and the conflicts below.
    '08000',
    '08001',
    '08003',
    '08004',
    '08006',
    '53300',
    '57P01',
    '57P02',
    '57P03',
    '57014',
    '55P03',
    '40001',
    '40P01',
  ]),
  /** A deadlock or serialization failure: the whole transaction can be retried. */
  retryable: new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'SQLITE_BUSY', '40001', '40P01']),
  /** The stored value would not be what was sent: the client's mistake. */
  input: new Set([
    'ER_DATA_TOO_LONG',
    'ER_TRUNCATED_WRONG_VALUE',
    'ER_WARN_DATA_OUT_OF_RANGE',
    // PostgreSQL: value too long, numeric out of range, datetime out of range, NUL in text
    '22001',
    '22003',
    '22008',
    '22021',
    '22P05',
  ]),
  /** A unique key already holds the value. */
  duplicate: new Set(['ER_DUP_ENTRY', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY', '23505']),
};

/** Messages of connection loss that come without a code (pools, timeouts of our own). */
export const UNAVAILABLE_MESSAGE =
  /Pool is closed|Connection lost|connect ETIMEDOUT|Can't add new command when connection is in closed state|Query inactivity timeout|acquire.*timeout|database is locked|Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|the database system is (shutting down|starting up)|terminating connection/i;

/** Rewrites `?` placeholders as `$1, $2, ...`, leaving quoted text alone. */
function numbered(text: string): string {
  let index = 0;
  return text.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\?/g, (match) => (match === '?' ? `$${++index}` : match));
}

function joinQuoted(dialect: Pick<Dialect, 'quote'>, names: string[]): string {
  return names.map((name) => dialect.quote(name)).join(', ');
}

function baseColumn(spec: ColumnSpec): TableColumnOptions {
  return {
    name: spec.name,
    type: 'varchar',
    isPrimary: spec.primary ?? false,
    isNullable: !(spec.notNull || spec.primary),
  };
}

/** SQLite: DevLake's types by affinity; one writer at a time. */
const sqlite: Dialect = {
  engine: 'sqlite',
  quote: (identifier) => `"${identifier}"`,
  placeholder: () => '?',
  sql: (text) => text,
  upsert(table, columns, conflict, overwrite) {
    return {
      head: `INSERT INTO ${this.quote(table)} (${joinQuoted(this, columns)}) VALUES `,
      tail:
        overwrite.length > 0
          ? ` ON CONFLICT (${joinQuoted(this, conflict)}) DO UPDATE SET ${overwrite
              .map((name) => `${this.quote(name)} = excluded.${this.quote(name)}`)
              .join(', ')}`
          : ` ON CONFLICT (${joinQuoted(this, conflict)}) DO NOTHING`,
    };
  },
  insertIgnore(table, columns) {
    return { head: `INSERT OR IGNORE INTO ${this.quote(table)} (${joinQuoted(this, columns)}) VALUES `, tail: '' };
  },
  upsertNeedsDistinctKeys: false,
  writeIsolation: undefined,
  now: () => "strftime('%Y-%m-%d %H:%M:%f', 'now')",
  minutesBetween: (from, to) => `CAST((julianday(${to}) - julianday(${from})) * 1440 AS INTEGER)`,
  // Stored as UTC text, `YYYY-MM-DD HH:MM:SS.sss`.
  utcDay: (column) => `substr(${column}, 1, 10)`,
  intDiv: (expression, divisor) => `(${expression} / ${Math.trunc(divisor)})`,
  orderedJoin: 'JOIN',
  column(spec) {
    const base = baseColumn(spec);
    switch (spec.kind) {
      case 'varchar':
        return { ...base, type: 'varchar', length: String(spec.length ?? 255) };
      case 'longtext':
        return { ...base, type: 'text' };
      case 'datetime3':
        return { ...base, type: 'datetime' };
      case 'timestamp':
        return { ...base, type: 'datetime' };
      case 'bigint':
        return { ...base, type: 'bigint' };
      case 'ubigint':
        // SQLite only auto-increments an INTEGER PRIMARY KEY.
        return spec.autoIncrement
          ? { ...base, type: 'integer', isGenerated: true, generationStrategy: 'increment' }
          : { ...base, type: 'bigint' };
      case 'int':
        return { ...base, type: 'int' };
      case 'double':
        return { ...base, type: 'double' };
      case 'bool':
        return { ...base, type: 'boolean' };
    }
  },
  tableOptions: {},
};

/** MySQL, MariaDB and the engines speaking their protocol: DevLake's exact MySQL types. */
const mysql: Dialect = {
  engine: 'mysql',
  quote: (identifier) => `\`${identifier}\``,
  placeholder: () => '?',
  sql: (text) => text,
  upsert(table, columns, conflict, overwrite) {
    return {
      head: `INSERT INTO ${this.quote(table)} (${joinQuoted(this, columns)}) VALUES `,
      tail:
        overwrite.length > 0
          ? ` ON DUPLICATE KEY UPDATE ${overwrite.map((name) => `${this.quote(name)} = VALUES(${this.quote(name)})`).join(', ')}`
          : ` ON DUPLICATE KEY UPDATE ${this.quote(conflict[0])} = ${this.quote(conflict[0])}`,
    };
  },
  insertIgnore(table, columns) {
    // INSERT IGNORE takes a shared lock on an existing row where ON DUPLICATE KEY UPDATE takes
    // an exclusive one, so concurrent requests that only need the row to exist do not queue.
    return { head: `INSERT IGNORE INTO ${this.quote(table)} (${joinQuoted(this, columns)}) VALUES `, tail: '' };
  },
  upsertNeedsDistinctKeys: false,
  // READ COMMITTED: the default REPEATABLE READ takes gap locks on the index ranges a DELETE
  // scans, so concurrent deployments with many commits deadlocked past every retry (15
  // deployments of 300 commits at once). Each transaction writes its own rows by primary key; it
  // needs no protection from phantoms.
  writeIsolation: 'READ COMMITTED',
  now: () => 'UTC_TIMESTAMP(3)',
  minutesBetween: (from, to) => `TIMESTAMPDIFF(MINUTE, ${from}, ${to})`,
  // datetime(3) holds UTC wall time (the drivers write with timezone 'Z').
  utcDay: (column) => `DATE_FORMAT(${column}, '%Y-%m-%d')`,
  // `/` is exact division here.
  intDiv: (expression, divisor) => `(${expression} DIV ${Math.trunc(divisor)})`,
  // The planner drives from the side with the shorter index prefix, not the shorter range.
  orderedJoin: 'STRAIGHT_JOIN',
  column(spec) {
    const base = baseColumn(spec);
    const text = { charset: 'utf8mb4', collation: 'utf8mb4_bin' };
    switch (spec.kind) {
      case 'varchar':
        return { ...base, type: 'varchar', length: String(spec.length ?? 255), ...text };
      case 'longtext':
        return { ...base, type: 'longtext', ...text };
      case 'datetime3':
        return { ...base, type: 'datetime', precision: 3 };
      case 'timestamp':
        return { ...base, type: 'timestamp' };
      case 'bigint':
        return { ...base, type: 'bigint' };
      case 'ubigint':
        return spec.autoIncrement
          ? { ...base, type: 'bigint', unsigned: true, isGenerated: true, generationStrategy: 'increment' }
          : { ...base, type: 'bigint', unsigned: true };
      case 'int':
        return { ...base, type: 'int' };
      case 'double':
        return { ...base, type: 'double' };
      case 'bool':
        return { ...base, type: 'boolean' };
    }
  },
  tableOptions: { engine: 'InnoDB' },
};

/**
 * PostgreSQL and the engines speaking its protocol. Types are those DevLake's gorm models get
 * from gorm's PostgreSQL driver: `time.Time` is `timestamptz`, a string without a size (MySQL's
 * `longtext`) is `text`, `uint64` is `bigint` (PostgreSQL has no unsigned types) and
 * `bigserial` when auto-incremented, `float64` is `decimal`, `bool` is `boolean`.
 */
const postgres: Dialect = {
  engine: 'postgres',
  quote: (identifier) => `"${identifier}"`,
  placeholder: (index) => `$${index}`,
  sql: numbered,
  upsert(table, columns, conflict, overwrite) {
    return {
      head: `INSERT INTO ${this.quote(table)} (${joinQuoted(this, columns)}) VALUES `,
      tail:
        overwrite.length > 0
          ? ` ON CONFLICT (${joinQuoted(this, conflict)}) DO UPDATE SET ${overwrite
              .map((name) => `${this.quote(name)} = EXCLUDED.${this.quote(name)}`)
              .join(', ')}`
          : ` ON CONFLICT (${joinQuoted(this, conflict)}) DO NOTHING`,
    };
  },
  insertIgnore(table, columns) {
    return {
      head: `INSERT INTO ${this.quote(table)} (${joinQuoted(this, columns)}) VALUES `,
      tail: ' ON CONFLICT DO NOTHING',
    };
  },
  upsertNeedsDistinctKeys: true,
  // PostgreSQL's default, said explicitly so that a server configured otherwise behaves alike.
  writeIsolation: 'READ COMMITTED',
  now: () => 'CURRENT_TIMESTAMP(3)',
  minutesBetween: (from, to) => `CAST(FLOOR(EXTRACT(EPOCH FROM (${to} - ${from})) / 60) AS BIGINT)`,
  utcDay: (column) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  intDiv: (expression, divisor) => `(${expression} / ${Math.trunc(divisor)})`,
  orderedJoin: 'JOIN',
  column(spec) {
    const base = baseColumn(spec);
    switch (spec.kind) {
      case 'varchar':
        return { ...base, type: 'varchar', length: String(spec.length ?? 255) };
      case 'longtext':
        return { ...base, type: 'text' };
      case 'datetime3':
      case 'timestamp':
        return { ...base, type: 'timestamptz' };
      case 'bigint':
      case 'ubigint':
        return spec.autoIncrement
          ? { ...base, type: 'bigint', isGenerated: true, generationStrategy: 'increment' }
          : { ...base, type: 'bigint' };
      case 'int':
        return { ...base, type: 'integer' };
      case 'double':
        return { ...base, type: 'decimal' };
      case 'bool':
        return { ...base, type: 'boolean' };
    }
  },
  tableOptions: {},
};

/** The engine families the plugin supports, by TypeORM driver type. */
const BY_TYPE: Record<string, Dialect> = {
  'better-sqlite3': sqlite,
  mysql,
  mariadb: mysql,
  postgres,
};

/** TypeORM driver types the plugin accepts, for messages. */
export const SUPPORTED_TYPES = Object.keys(BY_TYPE);

export function isSupportedType(type: string): boolean {
  return Object.prototype.hasOwnProperty.call(BY_TYPE, type);
}

/** The dialect of a DataSource (or of the one behind a manager or query runner). */
export function dialectOf(source: DataSource | EntityManager | QueryRunner): Dialect {
  const dataSource = 'options' in source ? source : source.connection;
  const dialect = BY_TYPE[dataSource.options.type];
  if (!dialect) throw new Error(`unsupported database type ${dataSource.options.type}`);
  return dialect;
}
