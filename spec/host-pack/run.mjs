#!/usr/bin/env node
/* global AbortSignal */
// The package as a host developer gets it: `npm pack`, then the tarball installed into two
// throwaway host projects, each compiled with `tsc --strict` (no skipLibCheck) and run:
//
//   express4-typeorm03-mysql   Express 4 + TypeORM 0.3 + mysql2 only (no better-sqlite3), on a
//                              fresh MariaDB/MySQL database (HOST_TEST_DB_URL, default
//                              mysql://root@127.0.0.1:3306/test: a new database beside it)
//   express5-typeorm1-sqlite   Express 5 + TypeORM 1.x + better-sqlite3
//
// Each host is the README's code (examples/host.ts) plus a main that listens; the run posts a
// connection, a deployment, an issue (an incident) and a bad deployment, checks the answers and
// the rows, and runs the package's bin. Host projects and npm's cache live under
// HOST_TEST_CACHE (default ~/.cache/devlake-webhook/host-pack), so a second run reuses the
// installs and only replaces the tarball. Exits non-zero on the first failed check.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE = path.resolve(
  process.env.HOST_TEST_CACHE || path.join(homedir(), '.cache', 'devlake-webhook', 'host-pack'),
);
const NPM_CACHE = path.join(CACHE, 'npm-cache');
const DB_URL = process.env.HOST_TEST_DB_URL || process.env.TEST_DB_URL || 'mysql://root@127.0.0.1:3306/test';
const only = process.argv.slice(2);

const HOSTS = [
  {
    name: 'express4-typeorm03-mysql',
    database: 'mysql',
    dependencies: { express: '^4.21.0', typeorm: '~0.3.20', mysql2: '^3.9.0' },
    devDependencies: { '@types/express': '^4.17.21', '@types/node': '^20.19.0', typescript: '~5.9.0' },
    expect: { express: /^4\./, typeorm: /^0\.3\./ },
    absent: ['better-sqlite3'],
  },
  {
    name: 'express5-typeorm1-sqlite',
    database: 'sqlite',
    dependencies: { express: '^5.0.0', typeorm: '^1.0.0', 'better-sqlite3': '^12.0.0' },
    devDependencies: { '@types/express': '^5.0.0', '@types/node': '^20.19.0', typescript: '~5.9.0' },
    expect: { express: /^5\./, typeorm: /^1\./ },
    absent: ['mysql2'],
  },
];

const log = (message) => process.stdout.write(`host-pack: ${message}\n`);
const children = new Set();
function fail(message) {
  for (const child of children) child.kill('SIGKILL');
  process.stderr.write(`host-pack: FAILED: ${message}\n`);
  process.exit(1);
}
function check(condition, message) {
  if (!condition) fail(message);
}
function run(cmd, args, cwd, env = {}) {
  try {
    return execFileSync(cmd, args, {
      cwd,
      env: { ...process.env, npm_config_cache: NPM_CACHE, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    fail(`${cmd} ${args.join(' ')} (in ${cwd}):\n${error.stdout ?? ''}${error.stderr ?? error.message}`);
  }
}
const seconds = (start) => ((Date.now() - start) / 1000).toFixed(1);

/** `npm pack` of the repository (its `prepack`/`prepare` build dist first). */
function pack() {
  const dir = path.join(CACHE, 'pack');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const [info] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], ROOT));
  const tarball = path.join(dir, info.filename);
  const files = info.files.map((file) => file.path);
  log(`packed ${info.filename}: ${info.size} bytes, ${info.unpackedSize} unpacked, ${files.length} files`);
  const unwanted = files.filter((file) =>
    /\.map$|^src\/(?!admin-ui\/public\/)|^spec\/|^bench\/|tsconfig|\.test\./.test(file),
  );
  check(unwanted.length === 0, `the tarball holds files a user does not need: ${unwanted.join(', ')}`);
  for (const needed of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'openapi.yaml', 'README.md']) {
    check(files.includes(needed), `the tarball lacks ${needed}`);
  }
  return tarball;
}

/** The host project: package.json, the README's example, a main that listens, tsconfig. */
function writeHost(host, dir) {
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  writeFileSync(
    path.join(dir, 'package.json'),
    `${JSON.stringify({ name: `host-${host.name}`, private: true, dependencies: host.dependencies, devDependencies: host.devDependencies }, null, 2)}\n`,
  );
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'commonjs',
          moduleResolution: 'node',
          strict: true,
          esModuleInterop: true,
          outDir: 'dist',
          rootDir: 'src',
          types: ['node'],
        },
        include: ['src'],
      },
      null,
      2,
    )}\n`,
  );
  cpSync(path.join(ROOT, 'examples', 'host.ts'), path.join(dir, 'src', 'host.ts'));
  writeFileSync(
    path.join(dir, 'src', 'main.ts'),
    `import type { AddressInfo } from 'node:net';
import type { DataSourceOptions } from 'typeorm';
import { startHost } from './host';

const url = process.env.HOST_DB ?? '';
const options: DataSourceOptions = url.startsWith('mysql:')
  ? { type: 'mysql', url, timezone: 'Z', charset: 'utf8mb4_unicode_ci' }
  : { type: 'better-sqlite3', database: url.slice('sqlite:'.length) };

startHost(options).then(({ app }) => {
  const server = app.listen(0, '127.0.0.1', () => {
    console.log(\`listening \${(server.address() as AddressInfo).port}\`);
  });
});
`,
  );
}

/** Installs the host's dependencies and the tarball; reuses what an earlier run installed. */
function install(host, dir, tarball) {
  const fresh = !existsSync(path.join(dir, 'node_modules'));
  const start = Date.now();
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-save', tarball], dir);
  log(`${host.name}: installed in ${seconds(start)} s (${fresh ? 'new host project' : 'reused install'})`);
  for (const [name, version] of Object.entries(host.expect)) {
    const paths = run('npm', ['ls', name, '--all', '--parseable'], dir)
      .split('\n')
      .filter((line) => line.trim().endsWith(`node_modules${path.sep}${name}`));
    const unique = [...new Set(paths)];
    check(
      unique.length === 1,
      `${host.name}: exactly one ${name} in the tree, found ${unique.length}: ${unique.join(', ')}`,
    );
    const installed = JSON.parse(readFileSync(path.join(unique[0], 'package.json'), 'utf8')).version;
    check(version.test(installed), `${host.name}: ${name} ${installed} is not the line under test (${version})`);
    log(`${host.name}: one ${name}, ${installed}`);
  }
  for (const name of host.absent) {
    check(
      !existsSync(path.join(dir, 'node_modules', name)),
      `${host.name}: ${name} was installed; it must stay optional`,
    );
  }
}

function startProcess(cmd, args, cwd, env) {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk) => (out.stdout += chunk));
  child.stderr.on('data', (chunk) => (out.stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out, exited };
}

async function waitFor(proc, pattern, what) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const match = proc.out.stdout.match(pattern);
    if (match) return match;
    if (proc.child.exitCode !== null)
      fail(`${what} exited (${proc.child.exitCode}): ${proc.out.stderr}${proc.out.stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  fail(`${what} did not start within 60 s: ${proc.out.stderr}`);
}

const BASIC = `Basic ${Buffer.from('admin:s3cret').toString('base64')}`;

async function call(base, method, route, body, authorization = BASIC) {
  let res;
  try {
    res = await fetch(`${base}${route}`, {
      method,
      headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    // A hang (timeout) or a crash (socket closed) is what an unforwarded rejection looks like.
    fail(`${method} ${route} got no answer: ${error.cause?.message ?? error.message}`);
  }
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** The conversation a CI pipeline and an incident tool have with the host. */
async function exercise(host, base) {
  const created = await call(base, 'POST', '/api/plugins/webhook/connections', { name: 'ci' });
  check(created.status === 200, `${host.name}: creating a connection answered ${created.status} ${created.text}`);
  const { id } = created.json;
  const key = created.json.apiKey.apiKey;
  const bearer = `Bearer ${key}`;

  const deployment = await call(
    base,
    'POST',
    `/api/rest/plugins/webhook/${id}/deployments`,
    {
      id: 'release-42',
      result: 'SUCCESS',
      startedDate: '2026-03-02T10:00:00Z',
      finishedDate: '2026-03-02T10:05:00Z',
      deploymentCommits: [{ repoUrl: 'https://git.example/shop', refName: 'main', commitSha: 'a'.repeat(40) }],
    },
    bearer,
  );
  check(
    deployment.status === 200 && deployment.json?.success === true,
    `${host.name}: the deployment answered ${deployment.status} ${deployment.text}`,
  );
  check(
    deployment.json.data.deploymentId === `webhook:${id}:release-42`,
    `${host.name}: the deployment's id is ${deployment.json.data.deploymentId}`,
  );

  const issue = await call(
    base,
    'POST',
    `/api/plugins/webhook/${id}/issues`,
    {
      issueKey: 'INC-7',
      title: 'checkout down',
      type: 'INCIDENT',
      status: 'TODO',
      originalStatus: 'Open',
      createdDate: '2026-03-02T11:00:00Z',
    },
    bearer,
  );
  check(
    issue.status === 200 && issue.json?.success === true,
    `${host.name}: the issue answered ${issue.status} ${issue.text}`,
  );

  // A rejected validation inside an async handler must reach the error handler (Express 4
  // does not forward rejected promises by itself): a 400 naming the field, not a hang.
  const bad = await call(base, 'POST', `/api/plugins/webhook/${id}/deployments`, { deploymentCommits: [{}] }, bearer);
  check(
    bad.status === 400 && bad.json?.success === false && Array.isArray(bad.json.causes) && bad.json.causes.length > 0,
    `${host.name}: a bad deployment answered ${bad.status} ${bad.text}`,
  );
  const wrongKey = await call(base, 'POST', `/api/plugins/webhook/${id}/deployments`, {}, 'Bearer nope');
  check(wrongKey.status === 401, `${host.name}: an unknown key answered ${wrongKey.status}`);

  const doc = await call(base, 'GET', '/api/swagger/doc.json');
  check(
    doc.status === 200 && /^3\./.test(doc.json?.openapi ?? ''),
    `${host.name}: Swagger's doc.json answered ${doc.status}`,
  );
  const page = await call(base, 'GET', '/webhook/');
  check(page.status === 200 && page.text.includes('<html'), `${host.name}: the admin page answered ${page.status}`);
  const keys = await call(base, 'GET', '/api/api-keys');
  check(keys.status === 200, `${host.name}: GET /api/api-keys answered ${keys.status}`);
  return id;
}

/** The rows, read with the host's own driver. */
async function checkRows(host, dir, database, connectionId) {
  const requireHere = createRequire(path.join(dir, 'package.json'));
  const queries = {
    deployment: `SELECT id, result FROM cicd_deployments`,
    commits: `SELECT commit_sha FROM cicd_deployment_commits`,
    issue: `SELECT id, type FROM issues`,
    incident: `SELECT id FROM incidents`,
  };
  let rows;
  if (host.database === 'mysql') {
    const mysql = requireHere('mysql2/promise');
    const connection = await mysql.createConnection({ uri: database.url });
    rows = {};
    for (const [name, sql] of Object.entries(queries)) [rows[name]] = await connection.query(sql);
    await connection.end();
  } else {
    const Sqlite = requireHere('better-sqlite3');
    const db = new Sqlite(database.file, { readonly: true });
    rows = Object.fromEntries(Object.entries(queries).map(([name, sql]) => [name, db.prepare(sql).all()]));
    db.close();
  }
  const expected = {
    deployment: [{ id: `webhook:${connectionId}:release-42`, result: 'SUCCESS' }],
    commits: [{ commit_sha: 'a'.repeat(40) }],
    issue: [{ id: `webhook:${connectionId}:INC-7`, type: 'INCIDENT' }],
    incident: [{ id: `webhook:${connectionId}:INC-7` }],
  };
  const plain = JSON.parse(JSON.stringify(rows));
  check(
    JSON.stringify(plain) === JSON.stringify(expected),
    `${host.name}: rows ${JSON.stringify(plain)}, expected ${JSON.stringify(expected)}`,
  );
  log(`${host.name}: rows in cicd_deployments, cicd_deployment_commits, issues, incidents as expected`);
}

async function createDatabase(host, dir) {
  if (host.database === 'sqlite') {
    const file = path.join(dir, 'data', `host-${Date.now()}.sqlite`);
    mkdirSync(path.dirname(file), { recursive: true });
    return {
      url: `sqlite:${file}`,
      file,
      drop: async () => rmSync(path.dirname(file), { recursive: true, force: true }),
    };
  }
  const mysql = createRequire(path.join(dir, 'package.json'))('mysql2/promise');
  const name = `dlw_hostpack_${randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: DB_URL });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const url = new URL(DB_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const again = await mysql.createConnection({ uri: DB_URL });
      await again.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await again.end();
    },
  };
}

/** The package's bin in the host: --help, a missing driver, and (where it has one) a start. */
async function checkBin(host, dir) {
  const bin = path.join(dir, 'node_modules', '.bin', 'devlake-webhook');
  const help = run(bin, ['--help'], dir);
  check(
    help.includes('DB_URL') && help.includes('ADMIN_PASS'),
    `${host.name}: devlake-webhook --help lacks the settings`,
  );
  for (const missing of host.absent) {
    const url = missing === 'better-sqlite3' ? 'sqlite:./data/bin.sqlite' : 'mysql://root@127.0.0.1:3306/none';
    const proc = startProcess(bin, [], dir, { DB_URL: url, PORT: '0' });
    const code = await proc.exited;
    const lines = proc.out.stderr.trim().split('\n');
    check(
      code === 1 && lines.length === 1 && lines[0].includes(`npm install ${missing}`),
      `${host.name}: without ${missing}, the bin said (exit ${code}): ${proc.out.stderr}`,
    );
    log(`${host.name}: without ${missing}, the bin says: ${lines[0]}`);
  }
  if (host.database === 'sqlite') {
    const proc = startProcess(bin, [], dir, { DB_URL: `sqlite:${path.join(dir, 'data', 'bin.sqlite')}`, PORT: '0' });
    const [, port] = await waitFor(proc, /listening on http:\/\/127\.0\.0\.1:(\d+)/, `${host.name}: the bin`);
    const ping = await fetch(`http://127.0.0.1:${port}/api/ping`);
    check(ping.status === 200, `${host.name}: the bin's server answered ping with ${ping.status}`);
    proc.child.kill('SIGTERM');
    check((await proc.exited) === 0, `${host.name}: the bin did not exit 0 on SIGTERM`);
    log(`${host.name}: npx devlake-webhook started the standalone server and stopped on SIGTERM`);
  }
}

async function testHost(host, tarball) {
  const dir = path.join(CACHE, 'hosts', host.name);
  writeHost(host, dir);
  install(host, dir, tarball);
  rmSync(path.join(dir, 'dist'), { recursive: true, force: true });
  run(path.join(dir, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json', '--strict'], dir);
  log(`${host.name}: tsc --strict (no skipLibCheck) compiles the README's host code`);

  const database = await createDatabase(host, dir);
  const proc = startProcess(process.execPath, ['dist/main.js'], dir, { HOST_DB: database.url });
  try {
    const [, port] = await waitFor(proc, /listening (\d+)/, `${host.name}: the host`);
    const connectionId = await exercise(host, `http://127.0.0.1:${port}`);
    log(`${host.name}: connection, deployment, incident, a 400, a 401, Swagger, admin page and API keys answered`);
    await checkRows(host, dir, database, connectionId);
  } finally {
    proc.child.kill('SIGTERM');
    await proc.exited;
    await database.drop();
  }
  await checkBin(host, dir);
}

/** The plugin's own sources against the oldest line's typings (TypeORM 0.3, Express 4). */
function compileSourcesAgainst(hostDir) {
  const modules = path.join(hostDir, 'node_modules');
  const tsconfig = path.join(CACHE, 'tsconfig.sources-against-old-typings.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: path.join(ROOT, 'tsconfig.build.json'),
      compilerOptions: {
        noEmit: true,
        baseUrl: ROOT,
        typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        rootDir: path.join(ROOT, 'src'),
        paths: {
          typeorm: [path.join(modules, 'typeorm')],
          'typeorm/*': [path.join(modules, 'typeorm', '*')],
          express: [path.join(modules, '@types', 'express')],
        },
      },
      include: [path.join(ROOT, 'src')],
    }),
  );
  run(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', tsconfig], ROOT);
  log('the plugin sources compile against TypeORM 0.3 and Express 4 typings');
}

const started = Date.now();
mkdirSync(CACHE, { recursive: true });
const tarball = pack();
for (const host of HOSTS) {
  if (only.length && !only.includes(host.name)) continue;
  await testHost(host, tarball);
  if (host.name === 'express4-typeorm03-mysql') compileSourcesAgainst(path.join(CACHE, 'hosts', host.name));
}
log(`all hosts passed in ${seconds(started)} s`);
