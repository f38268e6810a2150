#!/usr/bin/env node
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import type { DataSource } from 'typeorm';
import type { ParsedRecord, RecordKind } from '../batch/batch-records';
import type { BatchOutcome, RecordResult } from '../batch/batch.service';
import type { WebhookConnection } from '../connections/connection.entity';
import type { Command } from './command';
import { formatOf, readRecords, type ReadProgress } from './import-file';

const USAGE = `Usage: devlake-webhook import FILE --connection <id|name> [options]

Reads deployments, issues, closes and pull requests from FILE (NDJSON, a JSON array, or CSV with
DevLake's field names as headers) and writes them into one webhook connection, in batches.

Where to:
  DB_URL=...                  straight into the database (sqlite:<file> or mysql://...), through
                              the plugin's own validation and services (migrations run first)
  --url URL --key KEY         to a running server (its /api/plugins/webhook/.../batch route);
                              the key may also come from DEVLAKE_WEBHOOK_KEY

Options:
  --connection ID|NAME        the webhook connection (required)
  --kind KIND                 what records without a "kind" are: deployment, issue, close, pull_request
                              (default: a pullRequestKey makes a pull request, an issueKey an issue,
                              anything else a deployment)
  --dry-run                   check the whole file and write nothing
  --batch-size N              records per batch (default 1000)
  --restart                   ignore the progress of an interrupted run and start at the top

An interrupted import resumes where it stopped when run again (FILE.import-progress keeps the
place); ids are deterministic, so records written twice are the same rows, never new ones.
Exit status: 0 when every record was written, 1 when some were refused.`;

interface ImportArgs {
  file: string;
  connection: string;
  url?: string;
  key?: string;
  kind?: RecordKind;
  dryRun: boolean;
  batchSize: number;
  restart: boolean;
}

function parseArgs(args: string[], env: NodeJS.ProcessEnv): ImportArgs {
  const out: Partial<ImportArgs> = { dryRun: false, batchSize: 1000, restart: false, key: env.DEVLAKE_WEBHOOK_KEY };
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    const value = () => {
      const next = args[(i += 1)];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--connection') out.connection = value();
    else if (arg === '--url') out.url = value().replace(/\/+$/, '');
    else if (arg === '--key') out.key = value();
    else if (arg === '--kind') out.kind = value() as RecordKind;
    else if (arg === '--dry-run') out.dryRun = true;
    else if (arg === '--restart') out.restart = true;
    else if (arg === '--batch-size') {
      out.batchSize = Number(value());
      if (!Number.isInteger(out.batchSize) || out.batchSize < 1) throw new Error('--batch-size must be a whole number');
    } else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}; see devlake-webhook import --help`);
    else if (out.file === undefined) out.file = arg;
    else throw new Error(`one FILE only (got ${out.file} and ${arg})`);
  }
  if (!out.file) throw new Error('FILE is required; see devlake-webhook import --help');
  if (!out.connection) throw new Error('--connection is required');
  if (!out.url && !env.DB_URL) throw new Error('say where to import: DB_URL=... or --url URL --key KEY');
  if (out.url && !out.key) throw new Error('--url needs --key (or DEVLAKE_WEBHOOK_KEY)');
  return out as ImportArgs;
}

/** Writes one batch somewhere and answers one result per record. */
type Sink = {
  send(records: ParsedRecord[], dryRun: boolean): Promise<RecordResult[]>;
  /**
   * Resolves once what was sent so far is in every table, the derived ones (the deployment
   * summary, lead times) included: only then is a batch's place saved.
   */
  derivedCaughtUp(): Promise<void>;
  close(): Promise<void>;
};

async function databaseSink(dbUrl: string, connectionRef: string, kind: RecordKind | undefined): Promise<Sink> {
  const { parseDbUrl } = await import('../server/config');
  const { createDataSource } = await import('../server/data-source');
  const { createWebhookPlugin } = await import('../plugin');
  const dataSource: DataSource = createDataSource(parseDbUrl(dbUrl));
  await dataSource.initialize();
  await dataSource.runMigrations();
  const plugin = createWebhookPlugin({ dataSource, rateLimit: false, eventLog: false });
  await plugin.verify();
  const ref = /^\d+$/.test(connectionRef) ? { id: Number(connectionRef) } : { name: connectionRef };
  const connection: WebhookConnection = await plugin.services.connections.get(ref);
  return {
    async send(records, dryRun) {
      return (await plugin.services.batch.ingest(connection, records, { dryRun, kind })).results;
    },
    // The derived tables are refreshed in the background, while the next batch is written.
    derivedCaughtUp: () => plugin.services.devlakeDoraTables.caughtUp(Infinity),
    async close() {
      // DevLake's DORA tables follow the last records before the database goes.
      await plugin.close();
      await dataSource.destroy();
    },
  };
}

function httpSink(url: string, key: string, connectionRef: string, kind: RecordKind | undefined): Sink {
  const base = `${url}/api/plugins/webhook/connections/${/^\d+$/.test(connectionRef) ? connectionRef : `by-name/${encodeURIComponent(connectionRef)}`}/batch`;
  return {
    async send(records, dryRun) {
      const body = records
        .map((record) => {
          if (record.error !== undefined) return '{"kind":"__unreadable"}';
          const value = record.value as Record<string, unknown>;
          return JSON.stringify(
            kind && value && typeof value === 'object' && !('kind' in value) ? { kind, ...value } : value,
          );
        })
        .join('\n');
      const response = await fetch(`${base}${dryRun ? '?dryRun=true' : ''}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' },
        body,
      });
      const answer = (await response.json().catch(() => null)) as { data?: BatchOutcome; message?: string } | null;
      if (!response.ok || !answer?.data) {
        throw new Error(`the server answered ${response.status}: ${answer?.message ?? response.statusText}`);
      }
      // The server numbers the records of each batch; the file's lines are ours.
      return answer.data.results.map((result, index) => {
        const record = records[index];
        if (record.error !== undefined) return { index, status: 400, message: record.error, line: record.line };
        return { ...result, line: record.line };
      });
    },
    // The server refreshes its own derived tables; what it acknowledged is its to finish.
    derivedCaughtUp: async () => {},
    async close() {},
  };
}

/** Where an interrupted run stopped: the records committed, for this file as it was. */
interface Checkpoint {
  size: number;
  mtimeMs: number;
  connection: string;
  done: number;
  written: number;
}

function checkpointOf(path: string, file: string, connection: string): Checkpoint | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const saved = JSON.parse(readFileSync(path, 'utf8')) as Checkpoint;
    const stat = statSync(file);
    if (saved.size === stat.size && saved.mtimeMs === stat.mtimeMs && saved.connection === connection) return saved;
  } catch {
    // An unreadable checkpoint is a fresh start.
  }
  return undefined;
}

function duration(ms: number): string {
  const s = Math.round(ms / 100) / 10;
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
}

/** Runs `devlake-webhook import`; answers the exit status. */
export async function runImport(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  out: NodeJS.WriteStream = process.stdout,
): Promise<number> {
  if (argv.some((arg) => arg === '--help' || arg === '-h')) {
    out.write(`${USAGE}\n`);
    return 0;
  }
  const args = parseArgs(argv, env);
  const size = statSync(args.file).size;
  const format = await formatOf(args.file);
  const progressPath = `${args.file}.import-progress`;
  const resumed = args.dryRun || args.restart ? undefined : checkpointOf(progressPath, args.file, args.connection);
  const sink = args.url
    ? httpSink(args.url, args.key as string, args.connection, args.kind)
    : await databaseSink(env.DB_URL as string, args.connection, args.kind);

  const started = performance.now();
  const read: ReadProgress = { bytes: 0 };
  const refused: RecordResult[] = [];
  let done = resumed?.done ?? 0;
  let written = resumed?.written ?? 0;
  const skip = resumed?.done ?? 0;
  if (resumed) out.write(`resuming after record ${skip} (${progressPath}); --restart starts at the top\n`);

  const tty = Boolean(out.isTTY);
  const bar = tty
    ? new SingleBar({
        format: ' {bar} {percentage}% | {records} records | {rate}/s | ETA {eta_formatted}',
        stream: out,
        hideCursor: true,
      })
    : undefined;
  bar?.start(size, 0, { records: 0, rate: 0 });
  let lastLine = 0;
  const report = () => {
    const seconds = (performance.now() - started) / 1000;
    const rate = Math.round((done - skip) / Math.max(seconds, 0.001));
    if (bar) bar.update(read.bytes, { records: done, rate });
    else if (performance.now() - lastLine >= 1000 || lastLine === 0) {
      lastLine = performance.now();
      const share = size > 0 ? Math.min(100, Math.floor((read.bytes / size) * 100)) : 100;
      const left = read.bytes > 0 && rate > 0 ? ((size - read.bytes) / read.bytes) * seconds : 0;
      out.write(`progress: ${done} records (${share}%), ${rate}/s, about ${duration(left * 1000)} left\n`);
    }
  };

  const saveCheckpoint = (reached: { done: number; written: number }) => {
    const stat = statSync(args.file);
    const checkpoint: Checkpoint = { size: stat.size, mtimeMs: stat.mtimeMs, connection: args.connection, ...reached };
    writeFileSync(progressPath, JSON.stringify(checkpoint));
  };
  // A batch's place is saved once its derived tables are written too, which the background
  // refresh does while the next batches are written (it takes all that arrived since its last
  // run at once): an import interrupted then resumed skips only records whose every table is
  // written, and re-sends the few batches after, which store the same rows again.
  let saving: Promise<void> = Promise.resolve();
  const flush = async (batch: ParsedRecord[]) => {
    const results = await sink.send(batch, args.dryRun);
    for (const result of results) {
      if (result.status === 200) written += 1;
      else refused.push(result);
    }
    done += batch.length;
    if (args.dryRun) {
      report();
      return;
    }
    const reached = { done, written };
    // Progress is shown once it is saved, in order: a line on the screen is a place a rerun
    // resumes from.
    saving = Promise.all([saving, sink.derivedCaughtUp()]).then(() => {
      saveCheckpoint(reached);
      report();
    });
  };

  try {
    let batch: ParsedRecord[] = [];
    let seen = 0;
    for await (const record of readRecords(args.file, format, read)) {
      seen += 1;
      if (seen <= skip) continue;
      batch.push(record);
      if (batch.length >= args.batchSize) {
        await flush(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await flush(batch);
    await saving;
  } finally {
    bar?.stop();
    await sink.close();
  }
  if (!args.dryRun) rmSync(progressPath, { force: true });

  const ms = performance.now() - started;
  const total = done;
  const verb = args.dryRun ? 'would be written' : 'written';
  out.write(
    `${args.dryRun ? 'dry run: ' : ''}${total} records read, ${written} ${verb}, ${refused.length} refused, in ${duration(ms)}` +
      ` (${Math.round((total - skip) / Math.max(ms / 1000, 0.001))} records/s, peak memory ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB)\n`,
  );
  const shown = refused.slice(0, 100);
  for (const result of shown) {
    const where = result.line !== undefined ? `line ${result.line}` : `record ${result.index + 1}`;
    const causes = result.causes?.map((cause) => `${cause.field}: ${cause.message}`).join('; ');
    out.write(`  ${where}: ${causes ?? result.message ?? `status ${result.status}`}\n`);
  }
  if (refused.length > shown.length) out.write(`  ... and ${refused.length - shown.length} more refused\n`);
  return refused.length > 0 ? 1 : 0;
}

/** `devlake-webhook import`: the command line's bulk import. */
export const importCommand: Command = {
  name: 'import',
  summary: 'import deployments, issues and pull requests from NDJSON, JSON or CSV',
  usage: () => USAGE,
  async run(args) {
    const code = await runImport(args);
    if (code !== 0) process.exitCode = code;
  },
};

if (require.main === module) {
  runImport(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`devlake-webhook import: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
}
