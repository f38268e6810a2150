import { dialectOf } from '../src/db/dialect';
import { withTransaction } from '../src/db/transaction';
import { insertMissingRows, upsertRows } from '../src/db/upsert';
import { Board } from '../src/issues/issue.entity';
import { createMigratedDatabase, ENGINE, runSql, type MigratedDatabase } from './helpers/test-db';

const CREATED = new Date('2026-03-02T10:00:00.123Z');
const UPDATED = new Date('2026-03-03T11:30:00.456Z');

describe(`the database dialect on ${ENGINE}`, () => {
  let db: MigratedDatabase;
  beforeAll(async () => {
    db = await createMigratedDatabase();
  });
  afterAll(async () => db.close());

  it('upserts keep created_at, move updated_at and overwrite the other columns', async () => {
    await withTransaction(db.dataSource, (manager) =>
      upsertRows(manager, Board, [{ id: 'b1', name: 'first', createdAt: CREATED, updatedAt: CREATED }]),
    );
    await withTransaction(db.dataSource, (manager) =>
      upsertRows(manager, Board, [{ id: 'b1', name: 'second', createdAt: UPDATED, updatedAt: UPDATED }]),
    );
    const board = await db.dataSource.getRepository(Board).findOneByOrFail({ id: 'b1' });
    expect([board.name, board.createdAt?.toISOString(), board.updatedAt?.toISOString()]).toEqual([
      'second',
      CREATED.toISOString(),
      UPDATED.toISOString(),
    ]);
  });

  it('stores the last of two rows with one key in one upsert, as MySQL and SQLite apply rows in order', async () => {
    await withTransaction(db.dataSource, (manager) =>
      upsertRows(manager, Board, [
        { id: 'b2', name: 'earlier', createdAt: CREATED, updatedAt: CREATED },
        { id: 'b3', name: 'other', createdAt: CREATED, updatedAt: CREATED },
        { id: 'b2', name: 'later', createdAt: CREATED, updatedAt: UPDATED },
      ]),
    );
    const rows = await runSql(db.dataSource, 'SELECT id, name FROM boards WHERE id IN (?, ?) ORDER BY id', [
      'b2',
      'b3',
    ]);
    expect(rows).toEqual([
      { id: 'b2', name: 'later' },
      { id: 'b3', name: 'other' },
    ]);
  });

  it('inserts missing rows and leaves existing ones untouched', async () => {
    await withTransaction(db.dataSource, (manager) =>
      insertMissingRows(manager, Board, [
        { id: 'b1', name: 'not applied', createdAt: UPDATED, updatedAt: UPDATED },
        { id: 'b4', name: 'new', createdAt: UPDATED, updatedAt: UPDATED },
      ]),
    );
    const rows = await runSql(db.dataSource, 'SELECT id, name FROM boards WHERE id IN (?, ?) ORDER BY id', [
      'b1',
      'b4',
    ]);
    expect(rows).toEqual([
      { id: 'b1', name: 'second' },
      { id: 'b4', name: 'new' },
    ]);
  });

  it('quotes reserved words as column names and computes whole minutes between two times', async () => {
    const dialect = dialectOf(db.dataSource);
    await runSql(
      db.dataSource,
      `INSERT INTO project_mapping (project_name, ${dialect.quote('table')}, row_id) VALUES (?, ?, ?)`,
      ['p', 'boards', 'b1'],
    );
    const [mapping] = await runSql<{ t: string }[]>(
      db.dataSource,
      `SELECT ${dialect.quote('table')} AS t FROM project_mapping WHERE project_name = ?`,
      ['p'],
    );
    expect(mapping.t).toBe('boards');
    const [row] = await runSql<{ minutes: number | string }[]>(
      db.dataSource,
      `SELECT ${dialect.minutesBetween('created_at', 'updated_at')} AS minutes FROM boards WHERE id = ?`,
      ['b1'],
    );
    // 2026-03-02 10:00:00.123 to 2026-03-03 11:30:00.456: 25 h 30 min.
    expect(Number(row.minutes)).toBe(25 * 60 + 30);
  });
});
