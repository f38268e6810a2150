import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createWebhookPlugin } from '../src/plugin';
import { createMigratedDatabase, type MigratedDatabase, runSql } from './helpers/test-db';

const ROOT = path.resolve(__dirname, '..');
const REPO = 'https://git.example.com/shop';
const RECORDS = 3000;

const deploymentLine = (n: number) =>
  JSON.stringify({
    id: `deploy-${n}`,
    commit_sha: n.toString(16).padStart(40, '0'),
    repo_url: REPO,
    start_time: '2026-03-02T10:00:00Z',
    end_time: '2026-03-02T10:05:00Z',
  });

interface Run {
  code: number | null;
  output: string;
}

/** Runs `devlake-webhook import` (through the command dispatcher); `stopAfterLines` kills it (SIGKILL) once that many progress lines appeared. */
function runImport(args: string[], dbUrl: string, stopAfterLines?: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'src/cli/main.ts', 'import', ...args],
      {
        cwd: ROOT,
        env: { ...process.env, DB_URL: dbUrl },
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (stopAfterLines !== undefined && (output.match(/^progress:/gm) ?? []).length >= stopAfterLines) {
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('devlake-webhook import FILE', () => {
  let db: MigratedDatabase;
  let dir: string;
  let cid: number;

  beforeAll(async () => {
    db = await createMigratedDatabase();
    const plugin = createWebhookPlugin({ dataSource: db.dataSource, eventLog: false, rateLimit: false });
    cid = (await plugin.services.connections.create('history')).connection.id;
    dir = mkdtempSync(path.join(tmpdir(), 'dlw-import-'));
  }, 60_000);
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db.close();
  });

  const count = async (table: string) => {
    const [row] = (await runSql(db.dataSource, `SELECT COUNT(*) AS n FROM ${table} WHERE cicd_scope_id = ?`, [
      `webhook:${cid}`,
    ])) as { n: number }[];
    return Number(row.n);
  };

  it('interrupted and run again, it resumes where it stopped and writes nothing twice', async () => {
    const file = path.join(dir, 'history.ndjson');
    writeFileSync(file, Array.from({ length: RECORDS }, (_, n) => deploymentLine(n)).join('\n') + '\n');

    const first = await runImport([file, '--connection', 'history', '--batch-size', '100'], db.url, 1);
    expect(first.code).not.toBe(0);
    const afterKill = await count('cicd_deployments');
    expect(afterKill).toBeGreaterThan(0);
    expect(afterKill).toBeLessThan(RECORDS);
    const [{ created }] = (await runSql(
      db.dataSource,
      'SELECT created_at AS created FROM cicd_deployments WHERE id = ?',
      [`webhook:${cid}:deploy-0`],
    )) as { created: Date }[];

    const second = await runImport([file, '--connection', 'history', '--batch-size', '100'], db.url);
    expect(second.code).toBe(0);
    expect(second.output).toMatch(/resuming after record \d+/);
    expect(second.output).toMatch(new RegExp(`${RECORDS} records read, ${RECORDS} written, 0 refused`));
    expect(await count('cicd_deployments')).toBe(RECORDS);
    expect(await count('cicd_deployment_commits')).toBe(RECORDS);
    // A record of the first run was not written again.
    const [again] = (await runSql(
      db.dataSource,
      'SELECT created_at AS created, updated_at AS updated FROM cicd_deployments WHERE id = ?',
      [`webhook:${cid}:deploy-0`],
    )) as { created: Date; updated: Date }[];
    expect(new Date(again.updated).getTime()).toBe(new Date(created).getTime());
    expect(existsSync(`${file}.import-progress`)).toBe(false);
  }, 120_000);

  it('reads CSV with DevLake field names, and names each refused line and its cause', async () => {
    const file = path.join(dir, 'incidents.csv');
    writeFileSync(
      file,
      [
        'issue_key,title,type,status,original_status,created_date',
        'INC-1,Checkout down,INCIDENT,DONE,resolved,2026-03-01T10:00:00Z',
        'INC-2,,INCIDENT,DONE,resolved,2026-03-01T10:00:00Z',
        'INC-3,Search slow,INCIDENT,TODO,open,2026-03-02T10:00:00Z',
      ].join('\n'),
    );
    const run = await runImport([file, '--connection', String(cid)], db.url);
    expect(run.code).toBe(1);
    expect(run.output).toContain('3 records read, 2 written, 1 refused');
    expect(run.output).toMatch(/line 3: title: title is required/);
    const [row] = (await runSql(db.dataSource, 'SELECT COUNT(*) AS n FROM incidents WHERE scope_id = ?', [
      `webhook:${cid}`,
    ])) as { n: number }[];
    expect(Number(row.n)).toBe(2);
  }, 60_000);

  it('--dry-run checks a JSON array and writes nothing', async () => {
    const file = path.join(dir, 'more.json');
    writeFileSync(file, JSON.stringify([JSON.parse(deploymentLine(90_001)), { id: 'no-commit' }], null, 2));
    const before = await count('cicd_deployments');
    const run = await runImport([file, '--connection', 'history', '--dry-run'], db.url);
    expect(run.output).toContain('dry run: 2 records read, 1 would be written, 1 refused');
    expect(run.output).toMatch(/line \d+: commitSha/);
    expect(await count('cicd_deployments')).toBe(before);
  }, 60_000);
});
