// `npm run bench`: ingestion throughput and latency of the standalone server against a
// hand-written baseline, database round trips per request, DORA query time at scale, and the
// server's memory; writes bench/RESULTS.md. It reports; it never passes or fails on a time.
//
//   node bench/run.mjs [--quick] [--out <file>] [--postgres-only]
//   node bench/run.mjs --equivalence-only   (the baseline's rows and answers against the plugin's)
//   node bench/run.mjs --ingestion-only [--rounds N] [--seconds S]   (MariaDB ingestion and round trips, printed)
//
// Needs `npm run build` first (the `bench` script does it) and MariaDB at MYSQL_URL
// (default mysql://root@127.0.0.1:3306); creates and drops its own database there. Measures the
// plugin on PostgreSQL too when one answers at POSTGRES_URL (default
// postgres://postgres:postgres@127.0.0.1:5432/postgres), in a database of its own.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { setInterval, clearInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import { bodies, sampleBody, SCENARIOS } from './payloads.mjs';
import { startCountingProxy, difference } from './mysql-counter.mjs';
import pg from 'pg';
import { activityRows, doraRows, insertMysql, insertPostgres, insertSqlite } from './dora-data.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
/** Only the CPU profile of the plugin on MariaDB, printed: for working on the hot path. */
const PROFILE_ONLY = args.includes('--profile-only');
/** MariaDB ingestion only (no SQLite, no DORA) and its round trips, printed, no RESULTS.md: for comparing builds. */
const INGESTION_ONLY = args.includes('--ingestion-only');
/** The PostgreSQL phase only (ingestion and DORA), printed, no RESULTS.md. */
const POSTGRES_ONLY = args.includes('--postgres-only');
/** DORA and the admin list at scale on MariaDB only, printed and saved to bench/tmp/scale.md: for working on them. */
const SCALE_ONLY = args.includes('--scale-only');
/** The bulk import section only (100,000 deployments and 100,000 issues into MariaDB), printed. */
const BULK_ONLY = args.includes('--bulk-only');
/** The baseline equivalence check only, on MariaDB, with the rows that differ: exits 1 when any does. */
const EQUIVALENCE_ONLY = args.includes('--equivalence-only');
/** Re-renders RESULTS.md from a run's saved figures (bench/tmp/last-run.json) without running anything. */
const RENDER = args.includes('--render') ? path.resolve(args[args.indexOf('--render') + 1]) : undefined;
const SAVED = path.join(ROOT, 'bench/tmp/last-run.json');
const OUT = args.includes('--out')
  ? path.resolve(args[args.indexOf('--out') + 1])
  : path.join(ROOT, 'bench/RESULTS.md');
const MYSQL_URL = (process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/$/, '');
/** A PostgreSQL server where the bench may create and drop a database; the phase is skipped when none answers. */
const POSTGRES_URL = (process.env.POSTGRES_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres').replace(
  /\/$/,
  '',
);
const PREFIX = '/api/plugins/webhook';

const SETTINGS = QUICK
  ? {
      seconds: 2,
      warmupSeconds: 1,
      rounds: 1,
      concurrencies: [1, 16, 64],
      countRequests: 100,
      doraSizes: [1000, 10_000],
      doraSizesSqlite: [1000, 10_000],
      inWindowSizes: [1000, 10_000],
      inWindowSizesSqlite: [1000, 10_000],
      activitySizes: [50, 500],
    }
  : {
      seconds: 4,
      warmupSeconds: 2,
      rounds: 3,
      concurrencies: [1, 16, 64],
      countRequests: 400,
      doraSizes: [1000, 10_000, 100_000, 1_000_000],
      doraSizesSqlite: [1000, 10_000, 100_000],
      inWindowSizes: [1000, 10_000, 100_000, 1_000_000],
      inWindowSizesSqlite: [1000, 10_000, 100_000],
      activitySizes: [50, 500, 5000],
    };
// Sizes can be narrowed for a quicker look, e.g. BENCH_DORA_SIZES=1000,100000 (empty: none).
for (const [name, key] of [
  ['BENCH_DORA_SIZES', 'doraSizes'],
  ['BENCH_IN_WINDOW_SIZES', 'inWindowSizes'],
  ['BENCH_IN_WINDOW_SIZES', 'inWindowSizesSqlite'],
  ['BENCH_ACTIVITY_SIZES', 'activitySizes'],
]) {
  const value = process.env[name];
  if (value !== undefined) SETTINGS[key] = value.split(',').filter(Boolean).map(Number);
}
/** `--rounds N` and `--seconds S` shorten (or lengthen) the ingestion runs, e.g. for a quick comparison of builds. */
const numberFlag = (name) => {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = Number(args[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} needs a positive number`);
  return value;
};
SETTINGS.rounds = numberFlag('--rounds') ?? SETTINGS.rounds;
SETTINGS.seconds = numberFlag('--seconds') ?? SETTINGS.seconds;
SETTINGS.doraCalls = QUICK ? 3 : 5;
SETTINGS.profileSeconds = QUICK ? 2 : 6;
// BENCH_SCENARIOS=v1 and BENCH_CONCURRENCIES=16,64 narrow the ingestion runs (for a quick look at one case).
const SCENARIO_NAMES = process.env.BENCH_SCENARIOS
  ? process.env.BENCH_SCENARIOS.split(',').filter((name) => name in SCENARIOS)
  : Object.keys(SCENARIOS);
if (process.env.BENCH_CONCURRENCIES) SETTINGS.concurrencies = process.env.BENCH_CONCURRENCIES.split(',').map(Number);

const log = (message) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (value, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

// ---------------------------------------------------------------------------------------------
// Child processes

const children = new Set();
/** What the servers wrote to stderr (warnings and errors), for the report's notes. */
const serverOutput = new Map();

/** Starts a server child and waits for its "listening on http://host:port" line. */
async function startChild(name, script, env, nodeArgs = []) {
  const cleanEnv = { ...process.env };
  for (const key of ['ADMIN_USER', 'ADMIN_PASS', 'ALLOW_UNAUTHENTICATED', 'BODY_LIMIT_BYTES', 'HOST'])
    delete cleanEnv[key];
  const child = spawn(process.execPath, [...nodeArgs, script], {
    cwd: ROOT,
    env: { ...cleanEnv, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const stderr = [];
  child.stderr.on('data', (chunk) => {
    const seen = serverOutput.get(name) ?? { lines: 0, first: [] };
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      seen.lines += 1;
      if (seen.first.length < 3) seen.first.push(line.slice(0, 300));
    }
    serverOutput.set(name, seen);
    stderr.push(chunk.toString());
    if (stderr.length > 50) stderr.shift();
  });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 60 s: ${stderr.join('')}`)), 60_000);
    child.stdout.on('data', (chunk) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1].replace(/\/$/, ''));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before listening: ${stderr.join('')}`));
    });
  });
  child.once('exit', () => children.delete(child));
  return { name, child, url, stderr };
}

async function stopChild(handle) {
  if (!handle || handle.child.exitCode !== null) return;
  const exited = new Promise((resolve) => handle.child.once('exit', resolve));
  handle.child.kill('SIGTERM');
  const timer = setTimeout(() => handle.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function killAllChildren() {
  for (const child of children) child.kill('SIGKILL');
}

/** CPU time (user + system) a process has used so far, in ms, from /proc. */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** The resident set size of a process, in MiB, from /proc. */
function rssMiB(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

const pluginEnv = (dbUrl) => ({
  DB_URL: dbUrl,
  LOG_LEVEL: 'warn',
  RATE_LIMIT_DISABLED: 'true',
  ENCRYPTION_SECRET: 'bench-secret',
  // DORA over the largest histories may take longer than the default 10 s: measured, not cut off.
  DB_TIMEOUT_MS: '60000',
});

/** `PLUGIN_MAIN` runs another build of the server (e.g. a copy with an experiment in it). */
const PLUGIN_MAIN = process.env.PLUGIN_MAIN
  ? path.resolve(process.env.PLUGIN_MAIN)
  : path.join(ROOT, 'dist/server/main.js');

const startPlugin = (dbUrl, nodeArgs = []) => startChild('plugin server', PLUGIN_MAIN, pluginEnv(dbUrl), nodeArgs);

const startBaseline = (dbUrl, connectionName, nodeArgs = []) =>
  startChild(
    'baseline server',
    path.join(ROOT, 'bench/baseline-server.mjs'),
    { DB_URL: dbUrl, CONNECTION_NAME: connectionName },
    nodeArgs,
  );

async function createConnection(server, name) {
  const res = await fetch(`${server.url}${PREFIX}/connections`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  const body = await res.json();
  if (res.status !== 200 && res.status !== 201)
    throw new Error(`creating a connection: ${res.status} ${JSON.stringify(body)}`);
  return { id: body.id, name, key: body.apiKey.apiKey };
}

// ---------------------------------------------------------------------------------------------
// Load

/**
 * One autocannon run: `connections` clients posting a scenario's bodies for `seconds` (or
 * `amount` requests). Every server gets the connection's key, as a CI pipeline sends it; the
 * baseline ignores it.
 */
async function load(server, connection, scenario, tag, { connections, seconds, amount }) {
  const next = bodies(scenario, tag);
  const cpuBefore = cpuMs(server.child.pid);
  const result = await autocannon({
    url: server.url,
    connections,
    ...(amount ? { amount } : { duration: seconds }),
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: `${PREFIX}/connections/${connection.id}/${SCENARIOS[scenario].path}`,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${connection.key}` },
        setupRequest: (request) => ({ ...request, body: next() }),
      },
    ],
  });
  const total = result['2xx'] + result.non2xx;
  return {
    cpuPerRequest: (cpuMs(server.child.pid) - cpuBefore) / Math.max(1, total),
    rps: result['2xx'] / (result.duration || seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: total,
    failed: result.non2xx + result.errors + result.timeouts,
  };
}

// ---------------------------------------------------------------------------------------------
// Baseline equivalence: the baseline must write exactly what the plugin writes.

const WRITTEN_TABLES = [
  'cicd_deployments',
  'cicd_deployment_commits',
  'boards',
  'issues',
  'board_issues',
  'issue_assignees',
  'incidents',
  'incident_assignees',
  '_tool_webhook_incident_deployments',
  '_tool_webhook_deployment_summaries',
];

/** Rows the plugin deletes and re-inserts on every post, so their `created_at` is new each time. */
const REPLACED_TABLES = ['issue_assignees', 'incident_assignees'];

/** Every written table's rows, each as JSON without the columns allowed to differ, sorted. */
async function tableSnapshot(db) {
  const snapshot = {};
  for (const table of WRITTEN_TABLES) {
    const [rows] = await db.query(`SELECT * FROM \`${table}\``);
    const volatile = REPLACED_TABLES.includes(table) ? { created_at: undefined } : {};
    snapshot[table] = rows
      // `_raw_data_table` / `_raw_data_id` name the plugin's raw event log row of the delivery
      // that last wrote the row; the baseline keeps no event log.
      .map((row) =>
        JSON.stringify({
          ...row,
          updated_at: undefined,
          _raw_data_table: undefined,
          _raw_data_id: undefined,
          ...volatile,
        }),
      )
      .sort();
  }
  return snapshot;
}

/**
 * What changed in a table when the baseline re-wrote the plugin's rows: the first row only the
 * plugin's snapshot has, the first only the baseline's has, and the columns where they differ.
 */
function rowDifference(table, before, after) {
  const kept = new Set(after);
  const plugin = before.find((row) => !kept.has(row));
  const had = new Set(before);
  const baseline = after.find((row) => !had.has(row));
  const lines = [`  ${table}: plugin row  ${plugin ?? '(none)'}`, `  ${table}: baseline row ${baseline ?? '(none)'}`];
  if (plugin && baseline) {
    const [a, b] = [JSON.parse(plugin), JSON.parse(baseline)];
    const columns = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
      (column) => JSON.stringify(a[column]) !== JSON.stringify(b[column]),
    );
    lines.push(
      `  ${table}: differing columns: ${columns.map((c) => `${c} (plugin ${JSON.stringify(a[c])}, baseline ${JSON.stringify(b[c])})`).join(', ')}`,
    );
  }
  return lines;
}

/**
 * Posts one body of each kind to the plugin, then the same to the baseline (an upsert of the
 * same keys): every table must be unchanged but for `updated_at`, and the answers equal.
 * Answers the problems (one line each) and the details (both answers, the rows that differ).
 */
async function checkEquivalence(db, plugin, baseline, connection) {
  const cases = [
    ['seed', 1],
    ['v1', 1],
    ['issue', 1],
    ['issue', 10],
  ];
  const problems = [];
  const details = [];
  for (const [scenario, n] of cases) {
    const body = JSON.stringify(sampleBody(scenario, 'equivalence', n));
    const post = async (server) => {
      const res = await fetch(`${server.url}${PREFIX}/connections/${connection.id}/${SCENARIOS[scenario].path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${connection.key}` },
        body,
      });
      return { status: res.status, body: await res.json() };
    };
    const fromPlugin = await post(plugin);
    // The plugin refreshes DevLake's DORA tables after answering (gathering writes for 50 ms):
    // the rows are read once that is done, so that nothing it writes later is taken for the baseline's.
    await sleep(300);
    const before = await tableSnapshot(db);
    const fromBaseline = await post(baseline);
    const after = await tableSnapshot(db);
    const label = `${scenario}#${n}`;
    if (fromPlugin.status !== 200 || fromBaseline.status !== 200) {
      problems.push(
        `${label}: statuses ${fromPlugin.status}/${fromBaseline.status} ${JSON.stringify(fromBaseline.body)}`,
      );
    }
    if (JSON.stringify(fromPlugin.body.data) !== JSON.stringify(fromBaseline.body.data)) {
      problems.push(`${label}: answers differ`);
      details.push(
        `${label}: answers differ`,
        `  plugin   ${JSON.stringify(fromPlugin.body.data)}`,
        `  baseline ${JSON.stringify(fromBaseline.body.data)}`,
      );
    }
    for (const table of WRITTEN_TABLES) {
      if (before[table].join('\n') === after[table].join('\n')) continue;
      problems.push(`${label}: ${table} differs`);
      details.push(`${label}: ${table} differs`, ...rowDifference(table, before[table], after[table]));
    }
  }
  return { problems, details };
}

// ---------------------------------------------------------------------------------------------
// Round trips, through the counting proxy

async function countRoundTrips(dbName, connection, connectionName) {
  const target = new URL(MYSQL_URL);
  const proxy = await startCountingProxy(target.hostname, Number(target.port || 3306));
  const viaProxy = `mysql://${target.username || 'root'}${target.password ? `:${target.password}` : ''}@127.0.0.1:${proxy.port}/${dbName}`;
  const result = {};
  const servers = [];
  try {
    servers.push(await startPlugin(viaProxy), await startBaseline(viaProxy, connectionName));
    const [plugin, baseline] = servers;
    for (const [label, server] of [
      ['plugin', plugin],
      ['baseline', baseline],
    ]) {
      for (const scenario of SCENARIO_NAMES) {
        // A few requests first, so that one-off work (pool connections, the key's secret) is not counted.
        await load(server, connection, scenario, `count-warm-${label}`, { connections: 4, amount: 40 });
        const before = proxy.snapshot();
        const run = await load(server, connection, scenario, `count-${label}`, {
          connections: 8,
          amount: SETTINGS.countRequests,
        });
        const commands = difference(proxy.snapshot(), before);
        const total = Object.values(commands).reduce((a, b) => a + b, 0);
        result[`${label}:${scenario}`] = { perRequest: total / run.requests, commands, requests: run.requests };
      }
    }
  } finally {
    for (const server of servers) await stopChild(server);
    await proxy.close();
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// CPU profile of the plugin server under load

/** Self time by where the code lives (a package, our dist folder, node internals, GC). */
function summariseProfile(file, window) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const hits = new Map();
  // Only the samples taken while the load ran: start-up (module loading, the OpenAPI document)
  // is not the hot path. V8's sample times and process.hrtime are both CLOCK_MONOTONIC.
  let time = profile.startTime;
  let busyMicros = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    time += delta;
    if (time < window.from || time > window.to) return;
    hits.set(id, (hits.get(id) ?? 0) + 1);
    if (byId.get(id).callFrame.functionName !== '(idle)') busyMicros += delta;
  });
  const areas = new Map();
  const functions = new Map();
  let total = 0;
  for (const [id, count] of hits) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    if (functionName === '(idle)') continue;
    total += count;
    let area;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (pkg) area = pkg[1];
    else if (url.includes('/dist/')) area = `plugin dist/${url.split('/dist/')[1].split('/')[0]}`;
    else if (url.startsWith('node:')) area = 'node internals';
    else area = functionName || '(anonymous)';
    areas.set(area, (areas.get(area) ?? 0) + count);
    const where = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/')}:${lineNumber + 1}` : ''}`;
    functions.set(where, (functions.get(where) ?? 0) + count);
  }
  const top = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, count]) => ({ name, percent: (100 * count) / total }));
  return {
    areas: top(areas, 12),
    functions: top(functions, 15),
    samples: total,
    requests: window.requests,
    busyMsPerRequest: busyMicros / 1000 / Math.max(1, window.requests),
  };
}

/** CPU profile of the plugin server (or, `baseline`, of the baseline) under seed-form deployments. */
async function profilePlugin(dbUrl, connection, baseline = false) {
  const dir = path.join(os.tmpdir(), `dlw_bench_prof_${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const profiling = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  const server = baseline
    ? await startBaseline(dbUrl, connection.name, profiling)
    : await startPlugin(dbUrl, profiling);
  let summary;
  const window = {};
  try {
    // The seed form unless BENCH_SCENARIOS names another first.
    const scenario = process.env.BENCH_SCENARIOS ? SCENARIO_NAMES[0] : 'seed';
    await load(server, connection, scenario, 'profile-warm', { connections: 16, seconds: 2 });
    window.from = Number(process.hrtime.bigint() / 1000n);
    const run = await load(server, connection, scenario, 'profile', { connections: 16, seconds: SETTINGS.profileSeconds });
    window.requests = run.requests;
    window.to = Number(process.hrtime.bigint() / 1000n);
  } finally {
    await stopChild(server);
  }
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (file) summary = summariseProfile(path.join(dir, file), window);
  if (process.env.BENCH_KEEP_PROFILE) log(`profile kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
  return summary;
}

// ---------------------------------------------------------------------------------------------
// Ingestion rounds

/**
 * `rounds` rounds; in each, every scenario at every concurrency on each server, alternating
 * which server goes first from round to round. Returns the raw runs and the RSS after each round.
 */
async function ingestionRounds(label, servers, connection) {
  const runs = [];
  const rss = [];
  for (let round = 1; round <= SETTINGS.rounds; round += 1) {
    const order = round % 2 === 1 ? servers : [...servers].reverse();
    for (const scenario of SCENARIO_NAMES) {
      for (const connections of SETTINGS.concurrencies) {
        for (const server of order) {
          const tag = `${server.role}-r${round}-c${connections}`;
          const run = await load(server, connection, scenario, tag, { connections, seconds: SETTINGS.seconds });
          runs.push({ db: label, server: server.role, scenario, connections, round, ...run });
          log(
            `${label} ${server.role.padEnd(8)} ${scenario.padEnd(5)} c=${String(connections).padStart(2)} round ${round}: ` +
              `${fmt(run.rps)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms, CPU ${fmt(run.cpuPerRequest, 2)} ms/req${run.failed ? `, ${run.failed} FAILED` : ''}`,
          );
        }
      }
    }
    rss.push(Object.fromEntries(servers.map((s) => [s.role, rssMiB(s.child.pid)])));
  }
  return { runs, rss };
}

async function warmUp(servers, connection) {
  for (const server of servers) {
    for (const scenario of SCENARIO_NAMES) {
      await load(server, connection, scenario, `${server.role}-warm`, {
        connections: 16,
        seconds: SETTINGS.warmupSeconds,
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// DORA at scale

/** A DORA call slower than this is abandoned, and larger histories are not tried on that database. */
const DORA_TIMEOUT_MS = 60_000;

async function timeDora(server, connection, now) {
  const windows = [
    ['90 days (default)', ''],
    ['365 days', `?from=${new Date(now - 365 * 86_400_000).toISOString()}&to=${new Date(now).toISOString()}`],
  ];
  const result = {};
  for (const [name, query] of windows) {
    const url = `${server.url}${PREFIX}/connections/${connection.id}/dora${query}`;
    const times = [];
    let body;
    let calls = SETTINGS.doraCalls;
    for (let call = 0; call <= calls; call += 1) {
      const started = performance.now();
      let res;
      try {
        res = await fetchReusingSafely(url, { signal: globalThis.AbortSignal.timeout(DORA_TIMEOUT_MS) });
        body = await res.json();
      } catch (error) {
        if (error.name !== 'TimeoutError') throw error;
        result[name] = { ms: Infinity, timedOut: true };
        return result;
      }
      if (res.status !== 200) throw new Error(`GET dora: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
      const ms = performance.now() - started;
      if (call > 0)
        times.push(ms); // the first call warms caches
      else if (ms > 5000) calls = 1; // a slow query is timed once more, not five times
    }
    result[name] = {
      ms: median(times),
      deployments: body.deploymentFrequency?.deployments,
      changes: body.leadTimeForChanges?.changes,
      incidents: body.recoveryTime?.incidents,
    };
  }
  return result;
}

/**
 * fetch, asked once more when the kept-alive socket it picked was closed by the server: the
 * bulk insert before a DORA call blocks this process's event loop for seconds (better-sqlite3
 * is synchronous), so the HTTP client cannot drop the idle socket in time. A closed socket, not
 * a server error: a second failure is reported as it is.
 */
async function fetchReusingSafely(url, options) {
  try {
    return await fetch(url, options);
  } catch (error) {
    if (error?.cause?.code !== 'UND_ERR_SOCKET') throw error;
    return fetch(url, options);
  }
}

/** Rows per bulk-insert round: a million deployments are generated and written 100,000 at a time. */
const GENERATE_CHUNK = 100_000;
/** The in-window history: every deployment within the default 90-day window. */
const IN_WINDOW_SPAN_MS = 80 * 86_400_000;

/**
 * Grows a connection's history through `sizes` deployments (spread over three years, or all in
 * the last 80 days) and times DORA at each size.
 */
async function doraAtScale(server, connection, insert, sizes, spanMs, checkFirst, alreadyInserted = 0) {
  const now = Date.now();
  const results = [];
  let inserted = alreadyInserted;
  for (const size of sizes) {
    const started = performance.now();
    for (let from = inserted; from < size; from += GENERATE_CHUNK) {
      await insert(doraRows(connection.id, from, Math.min(size, from + GENERATE_CHUNK), now, spanMs));
    }
    const insertSeconds = (performance.now() - started) / 1000;
    inserted = size;
    if (checkFirst && results.length === 0) await checkFirst();
    const timing = await timeDora(server, connection, now);
    results.push({ size, insertSeconds, timing });
    if (Object.values(timing).some((t) => t.timedOut)) {
      log(`DORA ${size}: a call took over ${DORA_TIMEOUT_MS / 1000} s; larger histories skipped`);
      break;
    }
    log(
      `DORA ${size}${spanMs ? ' in window' : ''}: ${Object.entries(timing)
        .map(([w, t]) => `${w} ${fmt(t.ms, 1)} ms`)
        .join(', ')} (insert ${fmt(insertSeconds, 1)} s)`,
    );
  }
  return results;
}

/** Median time of `GET url` over SETTINGS.doraCalls calls after a warm-up call. */
async function timeGet(url) {
  const times = [];
  let body;
  for (let call = 0; call <= SETTINGS.doraCalls; call += 1) {
    const started = performance.now();
    const res = await fetchReusingSafely(url);
    body = await res.json();
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    if (call > 0) times.push(performance.now() - started);
  }
  return { ms: median(times), body };
}

/**
 * The admin list (`GET /activity`) with 50, 500 and 5,000 webhooks, each with 10 deployments and
 * an issue: the first page (100), a page deep in the list, and a search by name.
 */
async function activityAtScale(server, insert) {
  const results = [];
  let made = 0;
  const now = Date.now();
  // Far above the ids the API handed out, so the two never meet.
  const firstId = 1_000_000;
  for (const size of SETTINGS.activitySizes) {
    await insert(activityRows(firstId + made, size - made, 10, now, made));
    made = size;
    const base = `${server.url}${PREFIX}/activity`;
    const first = await timeGet(`${base}?limit=100`);
    const deep = await timeGet(`${base}?limit=100&offset=${Math.max(0, size - 100)}`);
    const search = await timeGet(`${base}?search=hook-0001`);
    results.push({
      size,
      total: first.body.total,
      first: first.ms,
      deep: deep.ms,
      search: search.ms,
      found: search.body.total,
    });
    log(
      `activity ${size}: first page ${fmt(first.ms, 1)} ms, deep page ${fmt(deep.ms, 1)} ms, search ${fmt(search.ms, 1)} ms`,
    );
  }
  return results;
}

/**
 * The generated lead-time rows are the plugin's own answer: the first history's rows are compared
 * with what `npm run rebuild-summary` recomputes from the pull requests and deployments.
 */
async function checkGeneratedLeadTimes(admin, dbUrl) {
  const snapshot = async () =>
    JSON.stringify(
      (await admin.query('SELECT * FROM _tool_webhook_pull_request_lead_times ORDER BY pull_request_id'))[0],
    );
  const generated = await snapshot();
  const child = spawn(process.execPath, ['dist/server/rebuild-summary.js'], {
    cwd: ROOT,
    env: { ...process.env, DB_URL: dbUrl },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`rebuild-summary exited with ${code}`);
  if ((await snapshot()) !== generated) throw new Error('the generated lead-time rows differ from the plugin rebuild');
  log('generated lead-time rows: identical to the plugin rebuild');
}

/** DORA (spread and in-window) and the admin list at scale: one connection per history. */
async function scalePhase(server, insert, database, checkFirst) {
  const sizes = database === 'sqlite' ? SETTINGS.doraSizesSqlite : SETTINGS.doraSizes;
  // The largest history last: if it is cut short, the other figures are already in. A million
  // deployments in the window come after the spread history, which is measured without them.
  const inWindowSizes = database === 'sqlite' ? SETTINGS.inWindowSizesSqlite : SETTINGS.inWindowSizes;
  const small = inWindowSizes.filter((size) => size <= 100_000);
  const inWindowConnection = await createConnection(server, 'dora-in-window');
  const inWindow = await doraAtScale(server, inWindowConnection, insert, small, IN_WINDOW_SPAN_MS, checkFirst);
  const activity = database === 'sqlite' ? [] : await activityAtScale(server, insert);
  const spread = await doraAtScale(server, await createConnection(server, 'dora'), insert, sizes);
  inWindow.push(
    ...(await doraAtScale(
      server,
      inWindowConnection,
      insert,
      inWindowSizes.filter((size) => size > 100_000),
      IN_WINDOW_SPAN_MS,
      undefined,
      Math.max(0, ...small),
    )),
  );
  return { spread, inWindow, activity };
}

// ---------------------------------------------------------------------------------------------
// The two databases

async function mariadbPhase(report) {
  const dbName = `dlw_bench_${randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: MYSQL_URL, timezone: 'Z', supportBigNumbers: true });
  const [[{ version }]] = await admin.query('SELECT VERSION() AS version');
  report.machine.mariadb = version;
  await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.query(`USE \`${dbName}\``);
  log(`MariaDB ${version}: database ${dbName}`);
  const dbUrl = `${MYSQL_URL}/${dbName}`;
  let plugin;
  let baseline;
  try {
    plugin = await startPlugin(dbUrl);
    plugin.role = 'plugin';
    const rest = rssMiB(plugin.child.pid);
    const connection = await createConnection(plugin, 'bench');
    baseline = await startBaseline(dbUrl, connection.name);
    baseline.role = 'baseline';

    report.equivalence = (await checkEquivalence(admin, plugin, baseline, connection)).problems;
    log(
      `baseline equivalence: ${report.equivalence.length === 0 ? 'identical rows and answers' : report.equivalence.join('; ')}`,
    );

    await warmUp([plugin, baseline], connection);
    const warm = { plugin: rssMiB(plugin.child.pid), baseline: rssMiB(baseline.child.pid) };
    const { runs, rss } = await ingestionRounds('MariaDB', [plugin, baseline], connection);
    await sleep(5000);
    if (INGESTION_ONLY) {
      const { text } = figureTable(runs, ['plugin', 'baseline']);
      process.stdout.write(`${text}\n`);
      await stopChild(baseline);
      log('counting database round trips (through a counting proxy)');
      process.stdout.write(`\n${roundTripTable(await countRoundTrips(dbName, connection, connection.name))}\n`);
      return;
    }
    report.mariadb = {
      runs,
      memory: {
        start: rest,
        warm,
        rounds: rss,
        idle: { plugin: rssMiB(plugin.child.pid), baseline: rssMiB(baseline.child.pid) },
      },
    };
    await stopChild(baseline);

    log('counting database round trips (through a counting proxy)');
    report.roundTrips = await countRoundTrips(dbName, connection, connection.name);

    log('profiling the plugin server (seed deployments, 16 connections)');
    report.profile = await profilePlugin(dbUrl, connection);

    const scale = await scalePhase(
      plugin,
      (batches) => insertMysql(admin, batches),
      'mariadb',
      () => checkGeneratedLeadTimes(admin, dbUrl),
    );
    report.mariadb.dora = scale.spread;
    report.mariadb.doraInWindow = scale.inWindow;
    report.mariadb.activity = scale.activity;
  } finally {
    await stopChild(baseline);
    await stopChild(plugin);
    await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
    await admin.end();
  }
}

/** The plugin alone on PostgreSQL: ingestion rounds and DORA at scale (the baseline is a mysql2 server). */
async function postgresPhase(report) {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  try {
    await admin.connect();
  } catch (error) {
    log(`no PostgreSQL at ${new URL(POSTGRES_URL).host} (${error.code ?? error.message}): PostgreSQL phase skipped`);
    return;
  }
  const dbName = `dlw_bench_${randomBytes(4).toString('hex')}`;
  const { rows } = await admin.query('SHOW server_version');
  report.machine.postgres = rows[0].server_version;
  await admin.query(`CREATE DATABASE "${dbName}" ENCODING 'UTF8'`);
  log(`PostgreSQL ${report.machine.postgres}: database ${dbName}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${dbName}`;
  let plugin;
  const db = new pg.Client({ connectionString: url.toString() });
  try {
    plugin = await startPlugin(url.toString());
    plugin.role = 'plugin';
    const rest = rssMiB(plugin.child.pid);
    const connection = await createConnection(plugin, 'bench');
    await warmUp([plugin], connection);
    const warm = { plugin: rssMiB(plugin.child.pid) };
    const { runs, rss } = await ingestionRounds('PostgreSQL', [plugin], connection);
    await sleep(5000);
    report.postgres = { runs, memory: { start: rest, warm, rounds: rss, idle: { plugin: rssMiB(plugin.child.pid) } } };

    const doraConnection = await createConnection(plugin, 'dora');
    await db.connect();
    const insert = (batches) => insertPostgres(db, batches);
    report.postgres.doraInWindow = await doraAtScale(
      plugin,
      await createConnection(plugin, 'dora-in-window'),
      insert,
      SETTINGS.inWindowSizesSqlite,
      IN_WINDOW_SPAN_MS,
    );
    report.postgres.dora = await doraAtScale(plugin, doraConnection, insert, SETTINGS.doraSizesSqlite);
  } finally {
    await db.end().catch(() => undefined);
    await stopChild(plugin);
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
  }
}

async function sqlitePhase(report) {
  const dir = path.join(os.tmpdir(), `dlw_bench_${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'bench.sqlite');
  let plugin;
  let db;
  try {
    plugin = await startPlugin(`sqlite:${file}`);
    plugin.role = 'plugin';
    const rest = rssMiB(plugin.child.pid);
    const connection = await createConnection(plugin, 'bench');
    await warmUp([plugin], connection);
    const warm = { plugin: rssMiB(plugin.child.pid) };
    const { runs, rss } = await ingestionRounds('SQLite', [plugin], connection);
    await sleep(5000);
    report.sqlite = { runs, memory: { start: rest, warm, rounds: rss, idle: { plugin: rssMiB(plugin.child.pid) } } };

    db = new Database(file, { timeout: 30_000 });
    const scale = await scalePhase(plugin, async (batches) => insertSqlite(db, batches), 'sqlite');
    report.sqlite.dora = scale.spread;
    report.sqlite.doraInWindow = scale.inWindow;
  } finally {
    db?.close();
    await stopChild(plugin);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// RESULTS.md

function figureTable(runs, servers) {
  const lines = [
    `| scenario | conns | ${servers.map((s) => `${s} req/s | ${s} p50 ms | ${s} p99 ms | ${s} CPU ms/req`).join(' | ')} |${servers.length > 1 ? ' plugin ÷ baseline req/s | plugin ÷ baseline p99 |' : ''}`,
    `|---|---:|${servers.map(() => '---:|---:|---:|---:').join('|')}|${servers.length > 1 ? '---:|---:|' : ''}`,
  ];
  const ratios = [];
  for (const scenario of SCENARIO_NAMES) {
    for (const connections of SETTINGS.concurrencies) {
      const cells = [];
      const rps = {};
      const p99 = {};
      for (const server of servers) {
        const mine = runs.filter(
          (r) => r.server === server && r.scenario === scenario && r.connections === connections,
        );
        rps[server] = median(mine.map((r) => r.rps));
        p99[server] = median(mine.map((r) => r.p99));
        cells.push(
          fmt(rps[server]),
          fmt(median(mine.map((r) => r.p50)), 1),
          fmt(median(mine.map((r) => r.p99)), 1),
          fmt(median(mine.map((r) => r.cpuPerRequest)), 2),
        );
      }
      let ratio = '';
      if (servers.length > 1) {
        const value = rps.plugin / rps.baseline;
        const latency = p99.plugin / p99.baseline;
        ratios.push({ scenario, connections, value, latency });
        ratio = ` ${fmt(value, 2)} | ${fmt(latency, 2)} |`;
      }
      lines.push(`| ${SCENARIOS[scenario].title} | ${connections} | ${cells.join(' | ')} |${ratio}`);
    }
  }
  const failed = runs.reduce((sum, r) => sum + r.failed, 0);
  const requests = runs.reduce((sum, r) => sum + r.requests, 0);
  lines.push('', `Requests answered in the timed runs: ${requests}; not 2xx, errors or timeouts: ${failed}.`);
  return { text: lines.join('\n'), ratios };
}

function memoryTable(memory, servers) {
  const lines = [
    '| server | at start | after warm-up | ' +
      memory.rounds.map((_, i) => `after round ${i + 1}`).join(' | ') +
      ' | idle 5 s later |',
  ];
  lines.push(`|---|---:|---:|${memory.rounds.map(() => '---:').join('|')}|---:|`);
  for (const server of servers) {
    const start = server === 'plugin' ? fmt(memory.start, 0) : '';
    lines.push(
      `| ${server} | ${start} | ${fmt(memory.warm[server], 0)} | ${memory.rounds.map((r) => fmt(r[server], 0)).join(' | ')} | ${fmt(memory.idle[server], 0)} |`,
    );
  }
  return lines.join('\n') + '\n\nRSS in MiB (`VmRSS` of the server process).';
}

function doraTable(dora) {
  const windows = ['90 days (default)', '365 days'];
  const lines = [
    `| deployments | ${windows.map((w) => `${w}: median ms`).join(' | ')} | in the 90-day window: deployments / changes / incidents | bulk insert s |`,
    `|---:|${windows.map(() => '---:').join('|')}|---|---:|`,
  ];
  for (const { size, insertSeconds, timing } of dora) {
    const first = timing[windows[0]];
    lines.push(
      `| ${size.toLocaleString('en')} | ${windows.map((w) => (timing[w] ? (timing[w].timedOut ? `> ${DORA_TIMEOUT_MS / 1000} s (abandoned)` : fmt(timing[w].ms, 1)) : 'not run')).join(' | ')} | ${first.timedOut ? 'n/a' : `${first.deployments} / ${first.changes} / ${first.incidents}`} | ${fmt(insertSeconds, 1)} |`,
    );
  }
  return lines.join('\n');
}

function activityTable(activity) {
  const lines = [
    '| webhooks | first page (100): median ms | page at the end: median ms | search by name: median ms |',
    '|---:|---:|---:|---:|',
  ];
  for (const { size, first, deep, search } of activity) {
    lines.push(`| ${size.toLocaleString('en')} | ${fmt(first, 1)} | ${fmt(deep, 1)} | ${fmt(search, 1)} |`);
  }
  return lines.join('\n');
}

/** The DORA-at-scale and admin-list sections, for RESULTS.md and for `--scale-only`. */
function scaleSection(report) {
  const lines = [
    '## DORA at scale',
    '',
    `\`GET ${PREFIX}/connections/:id/dora\` over HTTP (connection lookup and JSON included), median of ${SETTINGS.doraCalls} calls after one warm-up call. History per deployment: one commit row; per counted deployment one merged pull request whose merge commit it deploys; an incident after 1 deployment in 10 (half of them naming it); 1 in 10 to STAGING and 1 in 20 failed (neither counts). Written with multi-row SQL INSERTs, the deployment summary and lead-time rows included (the first history's lead-time rows are checked against the plugin's own rebuild). **Spread**: deployments evenly over three years, so the 90-day window holds about 1/12 of them. **In window**: every deployment in the last 80 days, so the default 90-day window counts all of them.`,
    '',
  ];
  for (const [title, part] of [
    ['MariaDB', report.mariadb],
    ['SQLite', report.sqlite],
    ['PostgreSQL', report.postgres],
  ]) {
    if (!part?.dora) continue;
    lines.push(`### ${title}, spread over three years`, '', doraTable(part.dora), '');
    if (part.doraInWindow) lines.push(`### ${title}, all in the window`, '', doraTable(part.doraInWindow), '');
  }
  if (report.mariadb?.activity?.length) {
    lines.push(
      '## The admin list at scale (MariaDB)',
      '',
      `\`GET ${PREFIX}/activity\` over HTTP, median of ${SETTINGS.doraCalls} calls after a warm-up call; every webhook has 10 deployments and an issue. The counts of a page come from one or two statements per kind of row, not from statements per webhook.`,
      '',
      activityTable(report.mariadb.activity),
      '',
    );
  }
  return lines;
}

function roundTripTable(roundTrips) {
  const lines = [
    '| scenario | plugin per request | baseline per request | plugin commands (total) | baseline commands (total) |',
    '|---|---:|---:|---|---|',
  ];
  const show = (commands) =>
    Object.entries(commands)
      .sort((a, b) => b[1] - a[1])
      .map(([name, count]) => `${name} ${count}`)
      .join(', ');
  for (const scenario of SCENARIO_NAMES) {
    const plugin = roundTrips[`plugin:${scenario}`];
    const baseline = roundTrips[`baseline:${scenario}`];
    lines.push(
      `| ${SCENARIOS[scenario].title} | ${fmt(plugin.perRequest, 2)} | ${fmt(baseline.perRequest, 2)} | ${show(plugin.commands)} (${plugin.requests} req) | ${show(baseline.commands)} (${baseline.requests} req) |`,
    );
  }
  return lines.join('\n');
}

/** What the figures say about the gap to the baseline, computed from them. */
function analysis(report) {
  const cpu = (server) =>
    median(report.mariadb.runs.filter((r) => r.server === server && r.connections > 1).map((r) => r.cpuPerRequest));
  const trips = (label) => SCENARIO_NAMES.map((s) => fmt(report.roundTrips[`${label}:${s}`].perRequest, 1)).join(' / ');
  return [
    '## Where the gap to the baseline comes from',
    '',
    `- CPU per request (median of the runs at 16 and 64 connections): plugin ${fmt(cpu('plugin'), 2)} ms, baseline ${fmt(cpu('baseline'), 2)} ms. On two cores shared by the server, MariaDB and autocannon, throughput under load follows CPU per request, so this is the ceiling of the ratio.`,
    `- Round trips per request (seed / v1.0 / issue): plugin ${trips('plugin')}, baseline ${trips('baseline')}. Each costs a socket write and a wake-up of MariaDB: in the profile, writing MySQL packets (\`writeBuffer\` under mysql2's \`writePacket\`) is the largest single item.`,
    "- A new deployment is START, its row, its commit rows, COMMIT in the plugin (four round trips) and a re-post adds one read of its commit rows and links (five); the baseline also writes the deployment summary row inside the transaction (five for a new deployment), which the plugin refreshes in the background. The plugin's other fraction of a round trip is background work: the event log's batched insert, the API key's last-used time, and the refresh of the derived DORA tables (the summary, DevLake's chains, lead times), gathered over 100 ms of writes.",
    "- The rest is the framework, none of it more than a few per cent alone: Express routing (23 route checks and 11 layers entered per delivery), class-validator/class-transformer on the body, TypeORM's promises per statement, the request context, helmet's headers, the event log and the metrics, and garbage collection. The background refresh runs in the same process and its CPU counts in the plugin's.",
    '',
    '### Changes made to the hot path',
    '',
    '- `src/plugin.ts`, `src/http/route-shapes.ts`, `src/http/series.ts`: a delivery whose path is certainly an ingestion route (read from the ingestion routers\' own route table) goes to the ingestion routes before the admin routers it could never match, and the checks every request passes (request log, target check, rate limit, deadline, verification) run as one Express layer: 23 route checks and 11 layers per delivery instead of 53 and 21; the router\'s CPU per delivery went from 0.32 to 0.11 ms in the profile.',
    "- `src/deployments`: the DORA summary row is no longer written in the deployment's transaction; the background refresh recomputes it from the committed rows (DORA reads wait for it; a starting plugin repairs the summaries a killed process left undone). A re-post reads its commit rows and pull request links in one statement and deletes only what is stale.",
    "- `src/dora/devlake-dora-tables.ts`: DevLake's chains are rewalked around the finishes a write touched (a burst as one span, a deployment moved far away at its own places, up to 50 spans per statement) on a new index by repo and finish; a repository without a merged pull request costs no lead-time recomputation; work is gathered for 100 ms after each refresh. On v1.0 deployments at 16 connections this took the plugin from about 400 to 650 req/s and its p99 from about 350 to 45 ms.",
    '- `src/connections`: ingestion requests reuse a looked-up connection for up to 2 s (`ConnectionService.getCached`, an `lru-cache` with a TTL), answered without a promise when cached; a rename or delete through the service clears it at once, a change made elsewhere is seen at most 2 s late.',
    '- `src/auth`: a found API key is reused for up to 1 s (`ApiKeyService.findByPlaintext`); renewing or deleting a key through the API forgets it at once, a change written into the database by hand applies within 1 s; expiry is checked on every request. The ingestion guard decides at once when the request was authenticated already.',
    "- `src/db/upsert.ts`: each upsert's SQL is built once per (table, row count) and kept; values go through TypeORM's per-column conversion (`preparePersistentValue`) instead of a query builder that parsed and rewrote the SQL on every call. The deletes of the hot path are plain SQL too, and a new deployment deletes nothing.",
    "- Deployment rows are built with the shared columns spread last (an object literal that starts with a spread and adds about 20 keys takes a slow path in V8: 64 µs per deployment before, 8 µs after); the event log takes its next id synchronously while its reserved block lasts; the standalone server turns off mysql2's stack capture per query (`trace: false`); issues insert their board only when it is not known to exist.",
    '',
    '### Proposed, not made',
    '',
    "- MySQL can take START, the rows and COMMIT in one packet (`multipleStatements`): a new deployment would be one or two round trips instead of four. It needs the host to enable multiple statements on its pool and the plugin to roll back by hand when a statement in the packet fails; not done, for the risk to every host's pool.",
    '- A compiled validator for the ingestion bodies instead of class-validator and class-transformer (about 0.05-0.1 ms per request in the profile), and a per-process memo of API keys by their hash input (the HMAC is about 2 % of the CPU).',
  ];
}

function writeResults(report) {
  Object.assign(SETTINGS, report.settings);
  const quick = report.quick;
  const m = report.machine;
  const maria = figureTable(report.mariadb.runs, ['plugin', 'baseline']);
  const lite = figureTable(report.sqlite.runs, ['plugin']);
  const overall = median(maria.ratios.map((r) => r.value));
  const worst = maria.ratios.reduce((a, b) => (b.value < a.value ? b : a));
  const underLoad = maria.ratios.filter((r) => r.connections > 1);
  const range = (values) => `${fmt(Math.min(...values), 2)}–${fmt(Math.max(...values), 2)}`;
  const heavyLoad = Math.max(report.loadBefore[0], report.loadAfter[0]) > m.cores;
  const lines = [
    '# Benchmark results',
    '',
    `Produced by \`npm run bench\`${quick ? ' with `--quick` (a smoke run: short runs, one round; numbers are indicative only)' : ''} on ${report.date}, in ${fmt(report.seconds / 60, 1)} minutes.`,
    '',
    '## Machine',
    '',
    `- CPU: ${m.cpu}, ${m.cores} cores; memory ${fmt(m.memoryGiB, 1)} GiB`,
    `- Node ${m.node}; MariaDB ${m.mariadb}; SQLite (better-sqlite3) ${m.sqlite}${m.postgres ? `; PostgreSQL ${m.postgres}` : ''}; ${m.os}`,
    `- Load average (1, 5, 15 min) before: ${report.loadBefore.map((v) => v.toFixed(2)).join(', ')}; after: ${report.loadAfter.map((v) => v.toFixed(2)).join(', ')}.` +
      (heavyLoad
        ? ` **The machine was busy** (load above its ${m.cores} cores: other work was running), so absolute figures are low and noisy; the plugin ÷ baseline ratios, measured in alternating runs, are the meaningful figures.`
        : ''),
    '',
    '## Settings',
    '',
    `- Servers: the standalone server (\`node dist/server/main.js\`, a child process) with \`LOG_LEVEL=warn\`, \`RATE_LIMIT_DISABLED=true\`, pool of 10 MariaDB connections; the baseline (\`bench/baseline-server.mjs\`): Express 5 + mysql2, pool of 10, the same routes, the same rows written with the same SQL text in one transaction (retried on a deadlock, as the plugin's), no validation, no authentication, no connection lookup.`,
    `- Databases: a fresh MariaDB database \`dlw_bench_<random>\` (dropped afterwards) shared by plugin and baseline; a temporary SQLite file (WAL) for the plugin.`,
    `- Load: autocannon, ${SETTINGS.concurrencies.join(', ')} connections, ${SETTINGS.seconds} s per run, ${SETTINGS.rounds} round(s); in each round every figure is measured on the plugin and on the baseline one after the other, the order alternating from round to round; a ${SETTINGS.warmupSeconds} s warm-up per scenario first. Figures are the median over rounds.`,
    "- Requests carry the connection's API key (`Authorization: Bearer`), as a CI pipeline sends it. Every run has its own ids; within a run 3 requests in 4 write new rows and 1 in 4 re-sends a body sent 256+ requests earlier (an update of existing rows).",
    `- Scenarios: ${SCENARIO_NAMES.map((s) => `\`${s}\` = ${SCENARIOS[s].title}`).join('; ')}.`,
    `- Requests per second count 2xx answers only.`,
    '',
    '## Baseline equivalence',
    '',
    report.equivalence.length === 0
      ? 'Checked before the runs: one body of each kind posted to the plugin, then the same body to the baseline: every written table is identical afterwards except `updated_at`, and the answers are equal. The baseline does the same database work.'
      : `**The baseline does not write the same rows**: ${report.equivalence.join('; ')}`,
    '',
    '## Ingestion on MariaDB',
    '',
    maria.text,
    '',
    `**Plugin ÷ baseline throughput: median ${fmt(overall, 2)} over the ${maria.ratios.length} figures; lowest ${fmt(worst.value, 2)} (${worst.scenario}, ${worst.connections} connections). Goal: at least 0.80. At 16 and 64 connections: throughput ${range(underLoad.map((r) => r.value))}, p99 ${range(underLoad.map((r) => r.latency))} times the baseline's (goal: at most 1.5).**`,
    '',
    '## Ingestion on SQLite (plugin only: the baseline is a mysql2 server)',
    '',
    lite.text,
    '',
    ...(report.postgres
      ? ['## Ingestion on PostgreSQL (plugin only)', '', figureTable(report.postgres.runs, ['plugin']).text, '']
      : []),
    '## Database round trips per request (MariaDB)',
    '',
    `Counted by a TCP proxy between the server and MariaDB that reads the MySQL protocol (each command packet is one round trip), over ${SETTINGS.countRequests} requests per scenario at 8 connections after a warm-up, so other users of the same MariaDB are not counted.`,
    '',
    roundTripTable(report.roundTrips),
    '',
    ...bulkSection(report.bulk),
    '## Where the plugin server spends its time',
    '',
    `CPU profile (\`node --cpu-prof\`) of the plugin server on MariaDB, seed-form deployments at 16 connections for ${SETTINGS.profileSeconds} s; self time, idle excluded.`,
    '',
    report.profile
      ? [
          '| where | % of CPU |',
          '|---|---:|',
          ...report.profile.areas.map((a) => `| ${a.name} | ${fmt(a.percent, 1)} |`),
          '',
          'Hottest functions:',
          '',
          '| function | % of CPU |',
          '|---|---:|',
          ...report.profile.functions.map((f) => `| \`${f.name}\` | ${fmt(f.percent, 1)} |`),
        ].join('\n')
      : 'No profile was written.',
    '',
    ...scaleSection(report),
    '## Memory',
    '',
    '### MariaDB',
    '',
    memoryTable(report.mariadb.memory, ['plugin', 'baseline']),
    '',
    '### SQLite',
    '',
    memoryTable(report.sqlite.memory, ['plugin']),
    '',
    ...(report.postgres ? ['### PostgreSQL', '', memoryTable(report.postgres.memory, ['plugin']), ''] : []),
  ];
  lines.push(...analysis(report), '');
  if (report.notes.length) lines.push('## Notes', '', ...report.notes.map((n) => `- ${n}`), '');
  writeFileSync(OUT, lines.join('\n'));
}

// ---------------------------------------------------------------------------------------------

async function profileOnly() {
  const dbName = `dlw_bench_${randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: MYSQL_URL });
  await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  let plugin;
  try {
    plugin = await startPlugin(`${MYSQL_URL}/${dbName}`);
    const connection = await createConnection(plugin, 'bench');
    await stopChild(plugin);
    SETTINGS.profileSeconds = 10;
    // `--baseline` profiles the baseline under the same load, to compare the two in ms per request.
    const summary = await profilePlugin(`${MYSQL_URL}/${dbName}`, connection, args.includes('--baseline'));
    log(`${summary.requests} requests; ${fmt(summary.busyMsPerRequest, 3)} ms of CPU per request`);
    for (const part of [summary.areas, summary.functions]) {
      for (const { name, percent } of part) {
        log(`${fmt(percent, 1).padStart(5)}%  ${fmt((percent / 100) * summary.busyMsPerRequest, 3).padStart(6)} ms/req  ${name}`);
      }
      log('');
    }
  } finally {
    await stopChild(plugin);
    await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
    await admin.end();
  }
}

async function equivalenceOnly() {
  const dbName = `dlw_bench_${randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: MYSQL_URL, timezone: 'Z', supportBigNumbers: true });
  await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.query(`USE \`${dbName}\``);
  const dbUrl = `${MYSQL_URL}/${dbName}`;
  let plugin;
  let baseline;
  try {
    plugin = await startPlugin(dbUrl);
    const connection = await createConnection(plugin, 'bench');
    baseline = await startBaseline(dbUrl, connection.name);
    const { problems, details } = await checkEquivalence(admin, plugin, baseline, connection);
    if (problems.length === 0) {
      log('baseline equivalence: identical rows and answers');
    } else {
      log(`baseline equivalence: ${problems.length} problem(s)`);
      process.stdout.write(`${problems.join('\n')}\n\n${details.join('\n')}\n`);
      process.exitCode = 1;
    }
  } finally {
    await stopChild(baseline);
    await stopChild(plugin);
    await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
    await admin.end();
  }
  for (const [name, seen] of serverOutput)
    log(`${name}: ${seen.lines} line(s) on stderr, first: ${seen.first.join(' | ')}`);
}

async function scaleOnly() {
  const dbName = `dlw_bench_${randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: MYSQL_URL, timezone: 'Z', supportBigNumbers: true });
  await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.query(`USE \`${dbName}\``);
  let plugin;
  const loadBefore = os.loadavg();
  try {
    plugin = await startPlugin(`${MYSQL_URL}/${dbName}`);
    const scale = await scalePhase(
      plugin,
      (batches) => insertMysql(admin, batches),
      'mariadb',
      () => checkGeneratedLeadTimes(admin, `${MYSQL_URL}/${dbName}`),
    );
    const report = { mariadb: { dora: scale.spread, doraInWindow: scale.inWindow, activity: scale.activity } };
    const text = [
      `Produced by \`node bench/run.mjs --scale-only\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; load average (1, 5, 15 min) before: ${loadBefore.map((v) => v.toFixed(2)).join(', ')}; after: ${os
        .loadavg()
        .map((v) => v.toFixed(2))
        .join(', ')}; ${os.cpus().length} cores.`,
      '',
      ...scaleSection(report),
    ].join('\n');
    const out = path.join(ROOT, 'bench/tmp/scale.md');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, text);
    process.stdout.write(`${text}\n`);
  } finally {
    await stopChild(plugin);
    await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
    await admin.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Bulk import: `devlake-webhook import` straight into MariaDB

const BULK_RECORDS = QUICK ? 10_000 : 100_000;

function writeBulkFile(file, kind, count) {
  const lines = [];
  for (let n = 0; n < count; n += 1) {
    const day = new Date(Date.UTC(2025, 0, 1) + (n % 365) * 86_400_000).toISOString();
    lines.push(
      JSON.stringify(
        kind === 'deployment'
          ? {
              id: `bulk-${n}`,
              commit_sha: n.toString(16).padStart(40, '0'),
              repo_url: 'https://git.example.com/shop',
              ref_name: 'main',
              start_time: day,
              end_time: day,
            }
          : {
              issue_key: `INC-${n}`,
              title: `incident ${n}`,
              type: 'INCIDENT',
              status: 'DONE',
              original_status: 'resolved',
              created_date: day,
              resolution_date: day,
            },
      ),
    );
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** Runs the import command once, sampling its memory; answers time, rate, and RSS samples. */
async function timedImport(dbUrl, file, connectionName) {
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli/import.js'), file, '--connection', connectionName], {
    env: { ...process.env, DB_URL: dbUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const samples = [];
  const timer = setInterval(() => samples.push(rssMiB(child.pid)), 500);
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise((resolve) => child.on('close', resolve));
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  const summary =
    output
      .trim()
      .split('\n')
      .find((line) => /records read/.test(line)) ?? output.trim().slice(-300);
  const rss = samples.filter(Number.isFinite);
  return { code, seconds, summary, rssMiB: { min: Math.min(...rss), max: Math.max(...rss), samples: rss.length } };
}

async function bulkPhase(report) {
  const dbName = `bench_bulk_${randomBytes(3).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: MYSQL_URL });
  await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const dbUrl = `${MYSQL_URL}/${dbName}`;
  const dir = path.join(ROOT, 'bench/tmp');
  mkdirSync(dir, { recursive: true });
  try {
    // The server creates the schema and the connection, then stops: the import writes alone.
    const plugin = await startPlugin(dbUrl);
    const connection = await createConnection(plugin, 'bulk');
    await stopChild(plugin);
    report.bulk = { records: BULK_RECORDS };
    for (const kind of ['deployment', 'issue']) {
      const file = path.join(dir, `bulk-${kind}s.ndjson`);
      writeBulkFile(file, kind, BULK_RECORDS);
      log(`bulk: importing ${BULK_RECORDS} ${kind}s into MariaDB`);
      const run = await timedImport(dbUrl, file, connection.name);
      report.bulk[kind] = { ...run, perSecond: BULK_RECORDS / run.seconds };
      log(
        `bulk: ${kind}s in ${fmt(run.seconds, 1)} s (${fmt(BULK_RECORDS / run.seconds)}/s), RSS ${fmt(run.rssMiB.min)}-${fmt(run.rssMiB.max)} MiB: ${run.summary}`,
      );
      rmSync(file, { force: true });
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
    await admin.end();
  }
}

function bulkSection(bulk) {
  if (!bulk) return [];
  const row = (kind) => {
    const run = bulk[kind];
    return `| ${kind}s | ${bulk.records} | ${fmt(run.seconds, 1)} | ${fmt(run.perSecond)} | ${fmt(run.rssMiB.min)}–${fmt(run.rssMiB.max)} | ${run.code === 0 ? 'all written' : `exit ${run.code}`} |`;
  };
  return [
    '## Bulk import',
    '',
    '`devlake-webhook import FILE` (NDJSON, one-commit deployments and incidents) straight into MariaDB',
    '(`DB_URL`), batches of 1000 records; the resident memory of the import process sampled every 0.5 s.' +
      (bulk.measuredAt ? ` Measured on its own (\`--bulk-only\`) at ${bulk.measuredAt}, after the rest of this run.` : ''),
    '',
    '| records | count | seconds | records/s | RSS MiB (min–max) | result |',
    '|---|---:|---:|---:|---:|---|',
    row('deployment'),
    row('issue'),
    '',
  ];
}

async function main() {
  if (PROFILE_ONLY) return profileOnly();
  if (SCALE_ONLY) return scaleOnly();
  if (EQUIVALENCE_ONLY) {
    if (!existsSync(PLUGIN_MAIN)) throw new Error(`${PLUGIN_MAIN} is missing: run \`npm run build\` first`);
    return equivalenceOnly();
  }
  if (RENDER) {
    writeResults(JSON.parse(readFileSync(RENDER, 'utf8'), (_k, v) => (v === 'Infinity' ? Infinity : v)));
    return log(`wrote ${path.relative(process.cwd(), OUT)} from ${RENDER}`);
  }
  if (!existsSync(path.join(ROOT, 'dist/server/main.js'))) {
    throw new Error('dist/server/main.js is missing: run `npm run build` first (`npm run bench` does)');
  }
  const started = performance.now();
  const betterSqlite = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/better-sqlite3/package.json'), 'utf8'));
  const probe = new Database(':memory:');
  const sqliteVersion = probe.prepare('SELECT sqlite_version() AS v').get().v;
  probe.close();
  const report = {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memoryGiB: os.totalmem() / 1024 ** 3,
      node: process.version,
      sqlite: `${betterSqlite.version} (SQLite ${sqliteVersion})`,
      os: `${os.type()} ${os.release()}`,
    },
    loadBefore: os.loadavg(),
    notes: [],
  };
  log(`${QUICK ? 'quick' : 'full'} run; load average ${report.loadBefore.map((v) => v.toFixed(2)).join(' ')}`);
  if (BULK_ONLY) {
    await bulkPhase(report);
    // `--bulk-only --into bench/tmp/last-run.json`: the saved run takes these import figures
    // (marked with when they were measured) and RESULTS.md is rendered again.
    if (args.includes('--into')) {
      const into = path.resolve(args[args.indexOf('--into') + 1]);
      const saved = JSON.parse(readFileSync(into, 'utf8'), (_k, v) => (v === 'Infinity' ? Infinity : v));
      saved.bulk = { ...report.bulk, measuredAt: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC' };
      writeFileSync(into, JSON.stringify(saved, (_k, v) => (v === Infinity ? 'Infinity' : v)));
      writeResults(saved);
      log(`wrote ${path.relative(process.cwd(), OUT)} with the new import figures`);
    }
    return;
  }
  if (POSTGRES_ONLY) {
    await postgresPhase(report);
    await bulkPhase(report);
    if (report.postgres) {
      process.stdout.write(
        `${figureTable(report.postgres.runs, ['plugin']).text}\n\n${doraTable(report.postgres.dora)}\n\n${doraTable(report.postgres.doraInWindow)}\n`,
      );
    }
    return;
  }
  await mariadbPhase(report);
  if (INGESTION_ONLY) return;
  await sqlitePhase(report);
  await postgresPhase(report);
  await bulkPhase(report);
  report.loadAfter = os.loadavg();
  for (const [name, seen] of serverOutput) {
    report.notes.push(
      `${name}: ${seen.lines} line(s) on stderr, first: ${seen.first.map((l) => `\`${l}\``).join('; ')}`,
    );
  }
  report.seconds = (performance.now() - started) / 1000;
  report.settings = SETTINGS;
  report.quick = QUICK;
  mkdirSync(path.dirname(SAVED), { recursive: true });
  writeFileSync(
    SAVED,
    JSON.stringify(report, (_k, v) => (v === Infinity ? 'Infinity' : v)),
  );
  writeResults(report);
  log(`wrote ${path.relative(process.cwd(), OUT)} in ${fmt(report.seconds, 0)} s`);
}

process.on('SIGINT', () => {
  killAllChildren();
  process.exit(130);
});

main().catch((error) => {
  killAllChildren();
  process.stderr.write(`bench failed: ${error.stack ?? error}\n`);
  process.exit(1);
});
