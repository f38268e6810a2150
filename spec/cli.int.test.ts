import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDbUrl } from '../src/server/config';
import { missingDriver } from '../src/server/driver';
import { freePort } from './helpers/server-process';
import { createTestDatabase, type TestDatabase } from './helpers/test-db';

const ROOT = path.join(__dirname, '..');

/** Runs `devlake-webhook <args>` (the bin's source) and collects what it prints. */
function cli(args: string[], env: Record<string, string> = {}, until?: (stdout: string) => boolean) {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (until?.(stdout)) child.kill('SIGTERM');
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout, stderr })),
  );
}

/** The environment variables `loadConfig()` reads, taken from its source. */
function settingsReadByTheServer(): string[] {
  const source = readFileSync(path.join(ROOT, 'src/server/config.ts'), 'utf8');
  const names = new Set<string>();
  for (const match of source.matchAll(/env\.([A-Z][A-Z0-9_]+)|\(env, '([A-Z][A-Z0-9_]+)'/g)) {
    names.add(match[1] ?? match[2]);
  }
  return [...names];
}

describe('the devlake-webhook command', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database.drop());

  it('--help lists every setting the server reads, and exits 0', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(0);
    const settings = settingsReadByTheServer();
    expect(settings).toEqual(expect.arrayContaining(['DB_URL', 'PORT', 'ADMIN_PASS', 'RATE_LIMIT_DISABLED']));
    for (const name of settings) expect([name, stdout.includes(name)]).toEqual([name, true]);
    expect(stdout).toMatch(/^Usage: devlake-webhook/);
    expect(stdout).toContain('serve');
  });

  it('serve --help prints the same settings', async () => {
    const { code, stdout } = await cli(['serve', '--help']);
    expect(code).toBe(0);
    for (const name of settingsReadByTheServer()) expect([name, stdout.includes(name)]).toEqual([name, true]);
  });

  it('refuses an unknown command or option with exit code 2, naming it', async () => {
    const command = await cli(['imprt']);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('unknown command "imprt"');
    const option = await cli(['--verbose']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('--verbose');
  });

  it('starts the standalone server when run without a command', async () => {
    const port = await freePort();
    const { stdout } = await cli([], { DB_URL: database.url, PORT: String(port) }, (out) =>
      out.includes('listening on'),
    );
    expect(stdout).toContain(`listening on http://127.0.0.1:${port}`);
  });

  it('names the driver package to install when the database needs one that is missing', () => {
    const absent = (name: string): string => {
      throw new Error(`Cannot find module '${name}'`);
    };
    expect(missingDriver(parseDbUrl('sqlite:./x.sqlite'), absent)).toBe('better-sqlite3');
    expect(missingDriver(parseDbUrl('mysql://root@127.0.0.1:3306/x'), absent)).toBe('mysql2');
    expect(missingDriver(parseDbUrl('postgres://root@127.0.0.1:5432/x'), absent)).toBe('pg');
    expect(missingDriver(parseDbUrl('mysql://root@127.0.0.1:3306/x'))).toBeUndefined();
  });
});
