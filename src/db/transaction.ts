import type { DataSource, EntityManager } from 'typeorm';
import { isRetryableConflict } from './database-errors';
import { addDatabaseRetry, addDatabaseTime } from '../http/request-context';
import { dialectOf } from './dialect';

const sqliteQueues = new WeakMap<DataSource, Promise<unknown>>();

/**
 * Runs `work` in one transaction.
 *
 * - SQLite: TypeORM shares one connection, and a second transaction started while one is open
 *   becomes a savepoint inside it; so transactions are queued one after another here.
 * - MySQL/MariaDB and PostgreSQL: concurrent upserts of the same keys can deadlock (InnoDB gap
 *   locks on `INSERT ... ON DUPLICATE KEY UPDATE`; row locks taken in different orders); the
 *   server rolls one back and says so, and the whole transaction is safely retried a few times.
 */
export async function withTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
  attempts = 8,
  options: { readCommitted?: boolean } = {},
): Promise<T> {
  const started = performance.now();
  try {
    return await runTransaction(dataSource, work, attempts, options.readCommitted === true);
  } finally {
    // For the request's log line and the database-time metric.
    addDatabaseTime(performance.now() - started);
  }
}

async function runTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
  attempts: number,
  readCommitted: boolean,
): Promise<T> {
  const isolation = dialectOf(dataSource).writeIsolation;
  if (!isolation) {
    const previous = sqliteQueues.get(dataSource) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => dataSource.transaction(work));
    sqliteQueues.set(
      dataSource,
      run.catch(() => undefined),
    );
    return run;
  }
  for (let attempt = 1; ; attempt += 1) {
    try {
      // The session's own isolation level: naming one would cost a `SET TRANSACTION` round
      // trip on every transaction. Writes go by primary key, and a first-seen deployment or
      // issue deletes nothing, so the gap locks of REPEATABLE READ only meet re-posts; a
      // deadlock there is rolled back by the server and retried here.
      // READ COMMITTED on request (background work that reads much and writes by key): InnoDB
      // then takes no gap locks, which ingestion's inserts would otherwise meet. PostgreSQL's
      // default is READ COMMITTED already.
      return readCommitted && dialectOf(dataSource).engine === 'mysql'
        ? await dataSource.transaction('READ COMMITTED', work)
        : await dataSource.transaction(work);
    } catch (error) {
      if (attempt >= attempts || !isRetryableConflict(error)) throw error;
      addDatabaseRetry();
      // A short pause, doubling and jittered, lets the competing transactions commit first.
      const pauseMs = Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/**
 * Runs one statement that needs no transaction of its own (an insert of independent rows): on
 * SQLite in the same queue as the transactions (they share one connection, and a statement sent
 * while another's transaction is open would join it); elsewhere on any pooled connection, in
 * autocommit, so that it costs one round trip instead of the three of BEGIN ... COMMIT.
 */
export async function withStatement<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  if (!dialectOf(dataSource).writeIsolation) return withTransaction(dataSource, work, 1);
  return work(dataSource.manager);
}
