import { webhookMigrations } from '../src/migrations';
import { createDataSource } from '../src/server/data-source';
import { createTestDatabase, ON_MYSQL, ON_POSTGRES, type TestDatabase } from './helpers/test-db';
import { DataSource, type DataSourceOptions } from 'typeorm';

/** Every table the plugin's migrations create on an empty database. */
const OUR_TABLES = [
  '_tool_webhook_connections',
  '_devlake_api_keys',
  '_tool_webhook_settings',
  '_tool_webhook_api_key_usage',
  'cicd_deployments',
  'cicd_deployment_commits',
  'boards',
  'board_issues',
  'issues',
  'issue_assignees',
  'incidents',
  'incident_assignees',
  '_tool_webhook_incident_deployments',
  'pull_requests',
  'projects',
  'project_mapping',
  'cicd_scopes',
  'repos',
  'project_pr_metrics',
  '_tool_webhook_pull_request_deployments',
  'project_incident_deployment_relationships',
  'dora_benchmarks',
  'calendar_months',
];

async function tables(dataSource: DataSource): Promise<string[]> {
  const rows: Record<string, string>[] = ON_MYSQL
    ? await dataSource.query('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()')
    : ON_POSTGRES
      ? await dataSource.query("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'")
      : await dataSource.query("SELECT name FROM sqlite_master WHERE type = 'table'");
  return rows.map((row) => row.name ?? row.NAME ?? row.TABLE_NAME);
}

async function columnType(dataSource: DataSource, table: string, column: string): Promise<string> {
  if (ON_MYSQL) {
    const rows = await dataSource.query(
      'SELECT column_type AS t FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?',
      [table, column],
    );
    return String(rows[0]?.t);
  }
  if (ON_POSTGRES) {
    const rows = await dataSource.query(
      `SELECT format_type(a.atttypid, a.atttypmod) AS t FROM pg_attribute a
        WHERE a.attrelid = $1::regclass AND a.attname = $2 AND NOT a.attisdropped`,
      [table, column],
    );
    return String(rows[0]?.t);
  }
  const rows: { name: string; type: string }[] = await dataSource.query(`PRAGMA table_info("${table}")`);
  return String(rows.find((row) => row.name === column)?.type);
}

describe('migrations (issue 2, point 4)', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeEach(async () => {
    database = await createTestDatabase();
    dataSource = createDataSource(database.config);
    await dataSource.initialize();
  });
  afterEach(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  it("creates DevLake's tables with DevLake's types for the engine, keeps rows, and drops them all on the way down", async () => {
    await dataSource.runMigrations({ transaction: 'each' });
    expect(await tables(dataSource)).toEqual(expect.arrayContaining(OUR_TABLES));
    if (ON_MYSQL) {
      expect(await columnType(dataSource, 'cicd_deployment_commits', 'created_date')).toBe('datetime(3)');
      expect(await columnType(dataSource, 'cicd_deployment_commits', 'commit_msg')).toBe('longtext');
      expect(await columnType(dataSource, '_tool_webhook_connections', 'id')).toBe('bigint(20) unsigned');
      expect(await columnType(dataSource, 'cicd_deployments', 'result')).toBe('varchar(100)');
    } else if (ON_POSTGRES) {
      // What DevLake's gorm models are on PostgreSQL: time.Time, string without size, uint64.
      expect(await columnType(dataSource, 'cicd_deployment_commits', 'created_date')).toBe('timestamp with time zone');
      expect(await columnType(dataSource, 'cicd_deployment_commits', 'commit_msg')).toBe('text');
      expect(await columnType(dataSource, '_tool_webhook_connections', 'id')).toBe('bigint');
      expect(await columnType(dataSource, 'cicd_deployments', 'result')).toBe('character varying(100)');
      expect(await columnType(dataSource, 'issues', 'is_subtask')).toBe('boolean');
    } else {
      expect(await columnType(dataSource, 'cicd_deployments', 'result')).toBe('varchar(100)');
    }

    await dataSource.query(
      "INSERT INTO _tool_webhook_connections (name, created_at, updated_at) VALUES ('kept', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    );
    await dataSource.query(
      "INSERT INTO cicd_deployments (id, cicd_scope_id, name) VALUES ('webhook:1:d1', 'webhook:1', 'deploy')",
    );
    // Running again is a no-op: nothing pending, rows untouched.
    await dataSource.runMigrations({ transaction: 'each' });
    const rows = await dataSource.query('SELECT name FROM cicd_deployments');
    expect(rows).toEqual([{ name: 'deploy' }]);

    for (let i = 0; i < webhookMigrations.length; i += 1) await dataSource.undoLastMigration({ transaction: 'each' });
    const left = await tables(dataSource);
    for (const table of OUR_TABLES) expect(left).not.toContain(table);
    expect(left).not.toContain('_tool_webhook_created_objects');
  });

  it('keeps an existing DevLake table and its rows, adds only the columns it lacks, and removes only those on the way down', async () => {
    // A DevLake database already has its own cicd_deployments (here with a column we lack).
    await dataSource.query(
      'CREATE TABLE cicd_deployments (id varchar(255) NOT NULL PRIMARY KEY, cicd_scope_id varchar(255), name longtext, devlake_only varchar(10))'.replace(
        'longtext',
        ON_MYSQL ? 'longtext' : 'text',
      ),
    );
    await dataSource.query("INSERT INTO cicd_deployments (id, name, devlake_only) VALUES ('devlake-1', 'theirs', 'x')");

    await dataSource.runMigrations({ transaction: 'each' });
    expect(await dataSource.query('SELECT id, devlake_only, result FROM cicd_deployments')).toEqual([
      { id: 'devlake-1', devlake_only: 'x', result: null },
    ]);

    for (let i = 0; i < webhookMigrations.length; i += 1) await dataSource.undoLastMigration({ transaction: 'each' });
    const left = await tables(dataSource);
    expect(left).toContain('cicd_deployments');
    expect(left).not.toContain('cicd_deployment_commits');
    expect(await dataSource.query('SELECT id FROM cicd_deployments')).toEqual([{ id: 'devlake-1' }]);
    // The columns the migration added to DevLake's table are gone again; DevLake's stay.
    expect(await columnType(dataSource, 'cicd_deployments', 'devlake_only')).toMatch(
      /(varchar|character varying)\(10\)/,
    );
    expect(await columnType(dataSource, 'cicd_deployments', 'result')).toBe('undefined');
  });

  it("brings a database migrated by an earlier version to DevLake's column types, keeping its rows, and back down", async () => {
    const earlier = new DataSource({
      ...(dataSource.options as DataSourceOptions),
      migrations: webhookMigrations.slice(0, 4),
    } as DataSourceOptions);
    await earlier.initialize();
    await earlier.runMigrations({ transaction: 'each' });
    await earlier.query(
      "INSERT INTO cicd_deployment_commits (id, commit_sha, cicd_deployment_id, cicd_scope_id, name, ref_name, repo_url, created_date) VALUES ('c1', 'abc', 'd1', 'webhook:1', 'deploy', 'main', 'https://x', '2026-01-01 00:00:00')",
    );
    // A value an earlier version accepted that DevLake's varchar(255) cannot hold.
    await earlier.query(
      `INSERT INTO issues (id, issue_key, component, lead_time_minutes) VALUES ('i1', 'K-1', '${'c'.repeat(300)}', 5)`,
    );
    await earlier.destroy();

    await dataSource.runMigrations({ transaction: 'each' });
    const varchar = ON_POSTGRES ? 'character varying(255)' : 'varchar(255)';
    const text = ON_MYSQL ? 'longtext' : 'text';
    const expected = {
      name: varchar,
      ref: varchar,
      sub: varchar,
      lead: ON_MYSQL ? 'bigint(20)' : 'bigint',
      scope: varchar,
    };
    expect({
      name: await columnType(dataSource, 'cicd_deployment_commits', 'name'),
      ref: await columnType(dataSource, 'cicd_deployment_commits', 'ref_name'),
      sub: await columnType(dataSource, 'cicd_deployment_commits', 'subtask_name'),
      lead: await columnType(dataSource, 'issues', 'lead_time_minutes'),
      scope: await columnType(dataSource, 'cicd_scopes', 'name'),
    }).toEqual(expected);
    expect(await columnType(dataSource, 'incidents', 'component')).toBe(varchar);
    // Left wide rather than cut: it holds a value longer than 255 characters.
    expect((await columnType(dataSource, 'issues', 'component')).toLowerCase()).toBe(text);
    // repo_url allows NULL, as in DevLake.
    await dataSource.query("UPDATE cicd_deployment_commits SET repo_url = NULL WHERE id = 'c1'");
    expect(
      await dataSource.query("SELECT name, ref_name, repo_url FROM cicd_deployment_commits WHERE id = 'c1'"),
    ).toEqual([{ name: 'deploy', ref_name: 'main', repo_url: null }]);
    await dataSource.query("UPDATE issues SET lead_time_minutes = -5 WHERE id = 'i1'");

    // Down to the earlier version: the earlier types again (on MySQL a negative lead time becomes 0; a NULL repo_url becomes '').
    for (let i = 4; i < webhookMigrations.length; i += 1) await dataSource.undoLastMigration({ transaction: 'each' });
    expect((await columnType(dataSource, 'cicd_deployment_commits', 'ref_name')).toLowerCase()).toBe(text);
    expect(await dataSource.query("SELECT repo_url FROM cicd_deployment_commits WHERE id = 'c1'")).toEqual([
      { repo_url: '' },
    ]);
    expect(await dataSource.query("SELECT lead_time_minutes FROM issues WHERE id = 'i1'")).toEqual([
      // SQLite and PostgreSQL have no unsigned integers: there the column was never changed.
      { lead_time_minutes: ON_MYSQL ? '0' : ON_POSTGRES ? '-5' : -5 },
    ]);
    if (ON_MYSQL) expect(await columnType(dataSource, 'issues', 'lead_time_minutes')).toBe('bigint(20) unsigned');
  });
});
