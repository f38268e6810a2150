import { DataSource } from 'typeorm';
import { dialectOf } from '../src/db/dialect';
import { ConfigurationError } from '../src/options';
import { describeDatabase, parseDbUrl } from '../src/server/config';

describe('DB_URL for PostgreSQL', () => {
  it('takes postgres:// and postgresql:// URLs, with 5432 as the default port', () => {
    expect(parseDbUrl('postgres://app:pw@db.internal:6543/devlake')).toEqual({
      type: 'postgres',
      url: 'postgres://app:pw@db.internal:6543/devlake',
      host: 'db.internal',
      port: 6543,
      database: 'devlake',
      user: 'app',
    });
    expect(parseDbUrl('postgresql://app@db.internal/devlake')).toMatchObject({
      type: 'postgres',
      url: 'postgres://app@db.internal/devlake',
      port: 5432,
    });
  });

  it('refuses a PostgreSQL URL without a database, naming DB_URL', () => {
    expect(() => parseDbUrl('postgres://app@db.internal:5432/')).toThrow(ConfigurationError);
    expect(() => parseDbUrl('postgres://app@db.internal:5432/')).toThrow(/^DB_URL: names no database, e.g. postgres:/);
  });

  it('names postgres:// among the schemes it takes when the scheme is unknown', () => {
    expect(() => parseDbUrl('mongodb://x/y')).toThrow(
      /^DB_URL: the scheme "mongodb:" is not supported; .*postgres:\/\//,
    );
  });

  it('prints the database without its password', () => {
    const text = describeDatabase(parseDbUrl('postgres://app:s3cret-pw@db.internal:5432/devlake'));
    expect(text).toBe('PostgreSQL app@db.internal:5432/devlake');
    expect(text).not.toContain('s3cret-pw');
  });
});

describe('statements written once with ? placeholders', () => {
  const on = (type: 'postgres' | 'mysql' | 'better-sqlite3') =>
    dialectOf(
      new DataSource(type === 'better-sqlite3' ? { type, database: ':memory:' } : { type, url: `${type}://x/y` }),
    );

  it('are numbered $1, $2, ... on PostgreSQL, leaving question marks inside quoted text alone', () => {
    expect(on('postgres').sql(`SELECT '?' AS q, "a?" FROM t WHERE a = ? AND b IN (?, ?)`)).toBe(
      `SELECT '?' AS q, "a?" FROM t WHERE a = $1 AND b IN ($2, $3)`,
    );
  });

  it('are left as they are on MySQL and SQLite', () => {
    const sql = 'DELETE FROM incidents WHERE id = ?';
    expect(on('mysql').sql(sql)).toBe(sql);
    expect(on('better-sqlite3').sql(sql)).toBe(sql);
  });
});
