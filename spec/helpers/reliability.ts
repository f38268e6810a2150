import type { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../../src/server/config';
import { createDataSource } from '../../src/server/data-source';
import { send } from './http-client';
import { runSql } from './test-db';
import { freePort, spawnServer, waitForListening, type ServerProcess } from './server-process';

export const WEBHOOK = '/api/plugins/webhook';

export interface RunningServer {
  process: ServerProcess;
  url: string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** The standalone server in a child process on loopback, listening and ready. */
export async function startServer(env: Record<string, string>): Promise<RunningServer> {
  const port = await freePort();
  const process = spawnServer({ HOST: '127.0.0.1', PORT: String(port), ...env });
  try {
    await waitForListening(process, 60_000);
  } catch (error) {
    process.child.kill('SIGKILL');
    throw error;
  }
  return {
    process,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (process.child.exitCode === null) process.child.kill('SIGTERM');
      return process.exited;
    },
  };
}

/** Creates a connection through a running server's API; its id and plaintext key. */
export async function createConnectionOn(
  server: RunningServer,
  name: string,
  headers: Record<string, string> = {},
): Promise<{ id: number; key: string }> {
  const answer = await send(`${server.url}${WEBHOOK}/connections`, { body: { name }, headers });
  if (answer.status !== 200) throw new Error(`creating connection ${name}: ${answer.status} ${answer.text}`);
  return { id: answer.body.id as number, key: answer.body.apiKey.apiKey as string };
}

/** A DataSource of the test's own, to read what the servers stored. */
export async function openDatabase(config: DatabaseConfig): Promise<DataSource> {
  const dataSource = createDataSource(config, { poolSize: 2 });
  await dataSource.initialize();
  return dataSource;
}

/** Counts rows: `SELECT COUNT(*)` with parameters, as a number on both databases. */
export async function countRows(dataSource: DataSource, sql: string, parameters: unknown[] = []): Promise<number> {
  const rows = await runSql<{ n: number | string }[]>(dataSource, sql, parameters);
  return Number(rows[0].n);
}
