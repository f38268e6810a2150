import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialectOf } from '../db/dialect';
import { CREATED, ensureBookkeeping, remember } from '../db/table-spec';

const isMysql = (queryRunner: QueryRunner): boolean => dialectOf(queryRunner).engine === 'mysql';

/** A column whose type an earlier version of the plugin created differently from DevLake. */
interface Retype {
  table: string;
  column: string;
  /** DevLake's type (MySQL), and what this plugin created before. */
  to: ColumnType;
  from: ColumnType;
}

interface ColumnType {
  /** `varchar(255)`, `varchar(500)`, `longtext`, `bigint`, `bigint unsigned`. */
  type: string;
  nullable: boolean;
}

const TEXT: ColumnType = { type: 'longtext', nullable: true };
const VARCHAR_255: ColumnType = { type: 'varchar(255)', nullable: true };

/**
 * DevLake's types, from its domain models and the latest of its migrations that touch them:
 * short text is `varchar(255)` (so DevLake's `GROUP BY` and indexes work on it),
 * `issues.lead_time_minutes` is a signed `bigint` (DevLake's 2024-01-16 migration) and
 * `cicd_deployment_commits.repo_url` allows NULL (its 2024-05-21 migration).
 */
export const RETYPES: Retype[] = [
  { table: 'cicd_deployment_commits', column: 'name', from: TEXT, to: VARCHAR_255 },
  { table: 'cicd_deployment_commits', column: 'ref_name', from: TEXT, to: VARCHAR_255 },
  { table: 'cicd_deployment_commits', column: 'subtask_name', from: TEXT, to: VARCHAR_255 },
  {
    table: 'cicd_deployment_commits',
    column: 'repo_url',
    from: { type: 'varchar(500)', nullable: false },
    to: { type: 'varchar(500)', nullable: true },
  },
  { table: 'issues', column: 'component', from: TEXT, to: VARCHAR_255 },
  { table: 'incidents', column: 'component', from: TEXT, to: VARCHAR_255 },
  { table: 'cicd_scopes', column: 'name', from: TEXT, to: VARCHAR_255 },
  {
    table: 'issues',
    column: 'lead_time_minutes',
    from: { type: 'bigint unsigned', nullable: true },
    to: { type: 'bigint', nullable: true },
  },
];

/** The column's type as the database reports it, in the vocabulary above; undefined when absent. */
async function currentType(queryRunner: QueryRunner, table: string, column: string): Promise<ColumnType | undefined> {
  if (isMysql(queryRunner)) {
    const rows: { t: string; n: string }[] = await queryRunner.query(
      `SELECT column_type AS t, is_nullable AS n FROM information_schema.columns
        WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?`,
      [table, column],
    );
    if (rows.length === 0) return undefined;
    // MariaDB says `bigint(20) unsigned`; the display width means nothing.
    return { type: rows[0].t.toLowerCase().replace(/^bigint\(\d+\)/, 'bigint'), nullable: rows[0].n === 'YES' };
  }
  if (dialectOf(queryRunner).engine === 'postgres') {
    const found: { t: string; l: number | null; n: string }[] = await queryRunner.query(
      `SELECT data_type AS t, character_maximum_length AS l, is_nullable AS n FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`,
      [table, column],
    );
    if (found.length === 0) return undefined;
    const { t, l, n } = found[0];
    return { type: t === 'text' ? 'longtext' : t === 'character varying' ? `varchar(${l})` : t, nullable: n === 'YES' };
  }
  const rows: { name: string; type: string; notnull: number }[] = await queryRunner.query(
    `PRAGMA table_info("${table}")`,
  );
  const row = rows.find((r) => r.name === column);
  if (!row) return undefined;
  // SQLite has no unsigned integers and no longtext: `bigint` and `text` are what it has.
  const type = row.type.toLowerCase() === 'text' ? 'longtext' : row.type.toLowerCase();
  return { type, nullable: row.notnull === 0 };
}

function sameType(a: ColumnType, b: ColumnType, mysql: boolean): boolean {
  const norm = (type: string) => (mysql ? type : type.replace(' unsigned', ''));
  return norm(a.type) === norm(b.type) && a.nullable === b.nullable;
}

/** Values longer than a varchar would hold: then the column is left as it is rather than cut. */
async function tooLong(queryRunner: QueryRunner, retype: Retype): Promise<boolean> {
  const size = /^varchar\((\d+)\)$/.exec(retype.to.type)?.[1];
  if (!size || retype.from.type.startsWith('varchar')) return false;
  const length = dialectOf(queryRunner).engine === 'sqlite' ? 'LENGTH' : 'CHAR_LENGTH';
  const rows: { n: number | string }[] = await queryRunner.query(
    dialectOf(queryRunner).sql(`SELECT COUNT(*) AS n FROM ${retype.table} WHERE ${length}(${retype.column}) > ?`),
    [Number(size)],
  );
  return Number(rows[0]?.n ?? 0) > 0;
}

/** Changes one table's columns in one statement (MySQL) or one table rebuild (SQLite). */
async function applyTypes(
  queryRunner: QueryRunner,
  table: string,
  changes: { column: string; type: ColumnType }[],
): Promise<void> {
  if (changes.length === 0) return;
  if (isMysql(queryRunner)) {
    const text = (type: string) => (type.startsWith('bigint') ? '' : ' CHARACTER SET utf8mb4 COLLATE utf8mb4_bin');
    const clauses = changes.map(
      ({ column, type }) =>
        `MODIFY \`${column}\` ${type.type}${text(type.type)} ${type.nullable ? 'NULL' : 'NOT NULL'}`,
    );
    await queryRunner.query(`ALTER TABLE \`${table}\` ${clauses.join(', ')}`);
    return;
  }
  if (dialectOf(queryRunner).engine === 'postgres') {
    const clauses = changes.flatMap(({ column, type }) => [
      `ALTER COLUMN "${column}" TYPE ${type.type === 'longtext' ? 'text' : type.type.replace(' unsigned', '')}`,
      `ALTER COLUMN "${column}" ${type.nullable ? 'DROP NOT NULL' : 'SET NOT NULL'}`,
    ]);
    await queryRunner.query(`ALTER TABLE "${table}" ${clauses.join(', ')}`);
    return;
  }
  const existing = await queryRunner.getTable(table);
  if (!existing) return;
  const pairs = changes.flatMap(({ column, type }) => {
    const oldColumn = existing.columns.find((c) => c.name === column);
    if (!oldColumn) return [];
    const newColumn = oldColumn.clone();
    const varchar = /^varchar\((\d+)\)$/.exec(type.type);
    newColumn.type = varchar ? 'varchar' : type.type === 'longtext' ? 'text' : 'bigint';
    newColumn.length = varchar ? varchar[1] : '';
    newColumn.isNullable = type.nullable;
    return [{ oldColumn, newColumn }];
  });
  await queryRunner.changeColumns(table, pairs);
}

/**
 * Brings the columns that earlier versions of the plugin created with other types to DevLake's
 * types, on databases already migrated and on new ones alike. A column already of DevLake's
 * type (e.g. in a database DevLake created) is not touched. A text column holding values longer
 * than DevLake's varchar is left as it is: cutting stored data is worse than a wider column (new
 * values are refused above the size anyway, naming the request field).
 */
export class DevLakeColumnTypes1764390000001 implements MigrationInterface {
  name = 'DevLakeColumnTypes1764390000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await ensureBookkeeping(queryRunner);
    const mysql = isMysql(queryRunner);
    const byTable = new Map<string, { column: string; type: ColumnType }[]>();
    for (const retype of RETYPES) {
      const current = await currentType(queryRunner, retype.table, retype.column);
      if (!current || sameType(current, retype.to, mysql) || !sameType(current, retype.from, mysql)) continue;
      if (await tooLong(queryRunner, retype)) continue;
      const changes = byTable.get(retype.table) ?? [];
      changes.push({ column: retype.column, type: retype.to });
      byTable.set(retype.table, changes);
      await remember(queryRunner, `retype:${retype.table}.${retype.column}`, 'retype', retype.table, this.name);
    }
    for (const [table, changes] of byTable) await applyTypes(queryRunner, table, changes);
  }

  /**
   * Back to the earlier types, for exactly the columns `up` changed. A negative lead time
   * becomes 0 and a NULL `repo_url` becomes `''`, since the earlier types cannot hold them.
   */
  async down(queryRunner: QueryRunner): Promise<void> {
    const rows: { object_name: string }[] = await queryRunner.query(
      dialectOf(queryRunner).sql(`SELECT object_name FROM ${CREATED} WHERE migration = ? AND kind = 'retype'`),
      [this.name],
    );
    const changed = new Set(rows.map((row) => row.object_name));
    const byTable = new Map<string, { column: string; type: ColumnType }[]>();
    for (const retype of RETYPES) {
      if (!changed.has(`retype:${retype.table}.${retype.column}`)) continue;
      if (retype.column === 'lead_time_minutes') {
        await queryRunner.query(`UPDATE ${retype.table} SET ${retype.column} = 0 WHERE ${retype.column} < 0`);
      }
      if (!retype.from.nullable) {
        await queryRunner.query(`UPDATE ${retype.table} SET ${retype.column} = '' WHERE ${retype.column} IS NULL`);
      }
      const changes = byTable.get(retype.table) ?? [];
      changes.push({ column: retype.column, type: retype.from });
      byTable.set(retype.table, changes);
    }
    for (const [table, changes] of byTable) await applyTypes(queryRunner, table, changes);
    await queryRunner.query(dialectOf(queryRunner).sql(`DELETE FROM ${CREATED} WHERE migration = ?`), [this.name]);
    const left: { n: number | string }[] = await queryRunner.query(`SELECT COUNT(*) AS n FROM ${CREATED}`);
    if (Number(left[0]?.n ?? 0) === 0) await queryRunner.dropTable(CREATED, true);
  }
}
