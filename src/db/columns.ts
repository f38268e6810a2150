import { Column, PrimaryColumn, type ValueTransformer } from 'typeorm';

/**
 * Column helpers for DevLake's tables. Entity column types must be valid on every driver
 * TypeORM validates against (SQLite has no `longtext`, PostgreSQL no `datetime` or `double`), so
 * entities say `text` where DevLake has `longtext`, `Date` (TypeORM's `datetime` on MySQL and
 * SQLite, `timestamp` on PostgreSQL) and `double precision`; the real types of each engine come
 * from the migrations (`db/table-spec.ts`, `db/dialect.ts`).
 */

/** MySQL and PostgreSQL return BIGINT (PostgreSQL also DECIMAL) as a string; ours fit a JS number. */
export const bigintAsNumber: ValueTransformer = {
  to: (value: unknown) => value,
  from: (value: unknown) => (value === null || value === undefined ? value : Number(value)),
};

/** Bytes kept in a text column as base64, so that every engine stores them exactly. */
export const base64Bytes: ValueTransformer = {
  to: (value: unknown) => (Buffer.isBuffer(value) ? value.toString('base64') : value),
  from: (value: unknown) => (typeof value === 'string' ? Buffer.from(value, 'base64') : value),
};

export const DateTime3 = (name: string, nullable = true): PropertyDecorator =>
  Column({ name, type: Date, precision: 3, nullable });

export const Varchar = (name: string, length = 255, nullable = true): PropertyDecorator =>
  Column({ name, type: 'varchar', length, nullable });

export const LongText = (name: string): PropertyDecorator => Column({ name, type: 'text', nullable: true });

export const BigInt = (name: string, nullable = true): PropertyDecorator =>
  Column({ name, type: 'bigint', nullable, transformer: bigintAsNumber });

export const Double = (name: string): PropertyDecorator =>
  Column({ name, type: 'double precision', nullable: true, transformer: bigintAsNumber });

export const VarcharKey = (name: string, length = 255): PropertyDecorator =>
  PrimaryColumn({ name, type: 'varchar', length });

/** DevLake's `_raw_data_*` columns as its webhook leaves them: empty, never NULL. */
export const NO_RAW_DATA = { rawDataParams: '', rawDataTable: '', rawDataId: 0, rawDataRemark: '' } as const;

/**
 * DevLake's `common.NoPKModel`: every domain table has these. `created_at` is kept on update
 * and `updated_at` moves (docs/devlake-compatibility.md §5), which the upserts in each service take care of.
 */
export abstract class DevLakeCommonColumns {
  @DateTime3('created_at')
  createdAt!: Date | null;

  @DateTime3('updated_at')
  updatedAt!: Date | null;

  @Varchar('_raw_data_params')
  rawDataParams!: string | null;

  @Varchar('_raw_data_table')
  rawDataTable!: string | null;

  @Column({ name: '_raw_data_id', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  rawDataId!: number | null;

  @LongText('_raw_data_remark')
  rawDataRemark!: string | null;
}

/** `datetime(3)` as text that every engine reads as UTC and SQLite stores as TypeORM does. */
export function utcDatetimeText(date: Date): string {
  return date.toISOString().replace('T', ' ').slice(0, 23);
}

/** `datetime(3)` as the drivers return it: a Date from mysql2 (timezone 'Z'), UTC text from SQLite. */
export function dateOf(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  const text = String(value);
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
}
