import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { dialectOf } from '../../src/db/dialect';
import { parseDbUrl, type DatabaseConfig } from '../../src/server/config';
import { createDataSource } from '../../src/server/data-source';

/**
 * The database of a test file: `TEST_DB_URL` chooses the engine (unset: SQLite), and every
 * test file gets its own fresh database, so files run in parallel and sessions never collide.
 */
export const TEST_DB_URL = process.env.TEST_DB_URL ?? '';
export const ON_MYSQL = TEST_DB_URL.startsWith('mysql') || TEST_DB_URL.startsWith('mariadb');
export const ON_POSTGRES = TEST_DB_URL.startsWith('postgres');
/** The engine under test, as test titles name it. */
export const ENGINE = ON_MYSQL ? 'MariaDB' : ON_POSTGRES ? 'PostgreSQL' : 'SQLite';

/** Runs one statement on the server named by TEST_DB_URL (PostgreSQL), then disconnects. */
async function onPostgresServer(sql: string): Promise<void> {
  const client = new Client({ connectionString: TEST_DB_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Runs a statement written with `?` placeholders on any engine (PostgreSQL numbers them), as the
 * services do. Aliases are lower case: PostgreSQL folds unquoted names.
 */
export function runSql<T = Record<string, unknown>[]>(
  dataSource: DataSource,
  sql: string,
  parameters: unknown[] = [],
): Promise<T> {
  return dataSource.query(dialectOf(dataSource).sql(sql), parameters) as Promise<T>;
}

export interface TestDatabase {
  config: DatabaseConfig;
  /** A URL for this test file's own database (for child processes). */
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database (a temp SQLite file, a new MySQL schema or a new PostgreSQL database). */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (ON_POSTGRES) {
    const base = new URL(TEST_DB_URL);
    const name = `dlw_${process.pid}_${randomBytes(4).toString('hex')}`;
    await onPostgresServer(`CREATE DATABASE "${name}" ENCODING 'UTF8'`);
    base.pathname = `/${name}`;
    const url = base.toString();
    return {
      config: parseDbUrl(url),
      url,
      // FORCE: a child process killed by a test may leave a connection behind.
      drop: () => onPostgresServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
    };
  }
  if (!ON_MYSQL) {
    const dir = mkdtempSync(path.join(tmpdir(), 'dlw-test-'));
    const file = path.join(dir, 'test.sqlite');
    return {
      config: { type: 'sqlite', file },
      url: `sqlite:${file}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const base = new URL(TEST_DB_URL);
  const name = `dlw_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = await createConnection({ uri: TEST_DB_URL });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  base.pathname = `/${name}`;
  const url = base.toString();
  return {
    config: parseDbUrl(url),
    url,
    drop: async () => {
      const conn = await createConnection({ uri: TEST_DB_URL });
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    },
  };
}

export interface MigratedDatabase extends TestDatabase {
  dataSource: DataSource;
  close(): Promise<void>;
}

/** A fresh database with every migration run, and its DataSource initialised. */
export async function createMigratedDatabase(): Promise<MigratedDatabase> {
  const database = await createTestDatabase();
  const dataSource = createDataSource(database.config);
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  return {
    ...database,
    dataSource,
    close: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await database.drop();
    },
  };
}
