import type { DatabaseConfig } from './config';

/** The npm package TypeORM needs for the database `DB_URL` names. */
export function driverPackage(database: DatabaseConfig): string {
  if (database.type === 'sqlite') return 'better-sqlite3';
  return database.type === 'postgres' ? 'pg' : 'mysql2';
}

/**
 * The driver package when it is not installed, else undefined. The drivers are optional peer
 * dependencies (a MySQL-only install should not compile SQLite), so the server checks before
 * TypeORM fails with a message that does not say which package to add.
 */
export function missingDriver(
  database: DatabaseConfig,
  resolve: (name: string) => string = require.resolve,
): string | undefined {
  const name = driverPackage(database);
  try {
    resolve(name);
    return undefined;
  } catch {
    return name;
  }
}
