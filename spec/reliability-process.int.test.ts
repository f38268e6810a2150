import http from 'node:http';
import { createConnection as createMysqlConnection } from 'mysql2/promise';
import { send, type Answer } from './helpers/http-client';
import { createConnectionOn, startServer, WEBHOOK, type RunningServer } from './helpers/reliability';
import { Client as PgClient } from 'pg';
import { createTestDatabase, ON_MYSQL, ON_POSTGRES, TEST_DB_URL, type TestDatabase } from './helpers/test-db';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function deployment(id: string, commits: number) {
  return {
    id,
    deploymentCommits: Array.from({ length: commits }, (_, i) => ({
      repoUrl: `https://git.example.com/r${i}`,
      commitSha: `${i}`.padStart(40, 'a'),
    })),
  };
}

/** Starts a POST whose body arrives in two parts: in flight until `finish` is called. */
function slowPost(url: string, body: unknown, headers: Record<string, string>) {
  const payload = Buffer.from(JSON.stringify(body));
  let resolveAnswer: (answer: { status: number; text: string }) => void;
  let rejectAnswer: (error: Error) => void;
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    resolveAnswer = resolve;
    rejectAnswer = reject;
  });
  const req = http.request(
    url,
    {
      method: 'POST',
      agent: false,
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(payload.length) },
    },
    (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolveAnswer({ status: res.statusCode ?? 0, text }));
    },
  );
  req.on('error', (error) => rejectAnswer(error));
  req.write(payload.subarray(0, 10));
  return { answer, finish: () => req.end(payload.subarray(10)) };
}

/** Issue 9, point 5. */
describe('shutdown under load (issue 9, point 5)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database.drop());

  it('on SIGTERM finishes the requests in flight (200), refuses new connections, and exits 0 in bounded time', async () => {
    const server = await startServer({
      DB_URL: database.url,
      SHUTDOWN_TIMEOUT_MS: '8000',
      RATE_LIMIT_DISABLED: 'true',
    });
    let exitCode: number | null = -1;
    try {
      const { id: cid, key } = await createConnectionOn(server, 'ci');
      const url = `${server.url}${WEBHOOK}/connections/${cid}/deployments`;
      const auth = { authorization: `Bearer ${key}` };
      // In flight for sure: their bodies are half sent when the signal arrives. Twelve are heavy
      // (300 commits), so the database is busy with them while the server shuts down. (A request
      // whose bytes Node has not read yet when the signal arrives is not in flight: Node resets
      // such connections, as any closing server does.)
      const inFlight = Array.from({ length: 15 }, (_, i) =>
        slowPost(url, deployment(`in-flight-${i}`, i < 12 ? 300 : 3), auth),
      );
      await sleep(400);
      const signalledAt = Date.now();
      server.process.child.kill('SIGTERM');
      // The signal is handled once the event loop is free; until then connections still queue.
      while (!server.process.stdout().includes('SIGTERM: no new connections') && Date.now() - signalledAt < 5000) {
        await sleep(20);
      }

      const refused = await send(url, { body: deployment('late', 1), headers: auth, agent: new http.Agent() }).catch(
        (error: NodeJS.ErrnoException) => error,
      );
      expect(refused).toMatchObject({ code: 'ECONNREFUSED' });

      for (const request of inFlight) request.finish();
      const answers = await Promise.all(inFlight.map((request) => request.answer.catch((error: Error) => error)));
      // (Errors from Node's http module come from another realm than Jest's: no instanceof.)
      expect(answers.map((answer) => ('status' in answer ? answer.status : answer.message))).toEqual(
        answers.map(() => 200),
      );

      exitCode = await server.process.exited;
      const tookMs = Date.now() - signalledAt;
      process.stdout.write(`shutdown: ${JSON.stringify({ inFlight: inFlight.length, exitCode, tookMs })}\n`);
      expect(tookMs).toBeLessThan(10_000);
      expect(exitCode).toBe(0);
      expect(server.process.stdout()).toMatch(/SIGTERM: no new connections/);
    } finally {
      if (exitCode === -1) server.process.child.kill('SIGKILL');
    }
  });
});

/** Issue 9, point 6. */
describe('security of a running server (issue 9, point 6)', () => {
  const ADMIN_PASS = 'admin-pass-9f3c1';
  const ENCRYPTION_SECRET = 'encryption-secret-7d2e4';
  const DB_PASSWORD = 'db-password-51aa0';
  const DB_USER = `dlw_sec_${process.pid}`;
  let database: TestDatabase;
  let server: RunningServer;
  let dbUrl: string;
  const answers: Answer[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    dbUrl = database.url;
    if (ON_MYSQL) {
      // A user with a password, so that DB_URL holds one that must never be shown.
      const admin = await createMysqlConnection({ uri: TEST_DB_URL });
      const name = new URL(database.url).pathname.slice(1);
      await admin.query(`CREATE USER IF NOT EXISTS '${DB_USER}'@'%' IDENTIFIED BY '${DB_PASSWORD}'`);
      await admin.query(`GRANT ALL ON \`${name}\`.* TO '${DB_USER}'@'%'`);
      await admin.end();
      const url = new URL(database.url);
      url.username = DB_USER;
      url.password = DB_PASSWORD;
      dbUrl = url.toString();
    } else if (ON_POSTGRES) {
      // The same on PostgreSQL: a role with a password that owns the test's database.
      const name = new URL(database.url).pathname.slice(1);
      const admin = new PgClient({ connectionString: TEST_DB_URL });
      await admin.connect();
      await admin.query(`CREATE ROLE ${DB_USER} LOGIN PASSWORD '${DB_PASSWORD}'`);
      await admin.query(`ALTER DATABASE "${name}" OWNER TO ${DB_USER}`);
      await admin.end();
      const url = new URL(database.url);
      url.username = DB_USER;
      url.password = DB_PASSWORD;
      dbUrl = url.toString();
    }
    server = await startServer({
      DB_URL: dbUrl,
      LOG_LEVEL: 'debug',
      ADMIN_USER: 'admin',
      ADMIN_PASS,
      ENCRYPTION_SECRET,
    });
  }, 120_000);

  afterAll(async () => {
    expect(await server.stop()).toBe(0);
    if (ON_MYSQL) {
      const admin = await createMysqlConnection({ uri: TEST_DB_URL });
      await admin.query(`DROP USER IF EXISTS '${DB_USER}'@'%'`);
      await admin.end();
    }
    await database.drop();
    if (ON_POSTGRES) {
      const admin = new PgClient({ connectionString: TEST_DB_URL });
      await admin.connect();
      await admin.query(`DROP ROLE IF EXISTS ${DB_USER}`);
      await admin.end();
    }
  });

  const basic = (user: string, pass: string) => ({
    authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`,
  });
  const call = async (path: string, options: Parameters<typeof send>[1] = {}) => {
    const answer = await send(`${server.url}${path}`, options);
    answers.push(answer);
    return answer;
  };

  it('keeps admin routes out of reach of an ingestion key, in every form, the admin page included', async () => {
    const { id: cid, key } = await createConnectionOn(server, 'ci', basic('admin', ADMIN_PASS));
    const bearer = { authorization: `Bearer ${key}` };
    expect(
      (await call(`${WEBHOOK}/connections/${cid}/deployments`, { body: deployment('d1', 2), headers: bearer })).status,
    ).toBe(200);
    const adminCalls: [string, string, unknown?][] = [
      ['GET', `${WEBHOOK}/connections`],
      ['POST', `${WEBHOOK}/connections`, { name: 'mine' }],
      ['GET', `${WEBHOOK}/connections/${cid}`],
      ['PATCH', `${WEBHOOK}/connections/${cid}`, { name: 'renamed' }],
      ['DELETE', `${WEBHOOK}/connections/${cid}`],
      ['GET', '/api/rest/plugins/webhook/connections'],
      ['GET', '/api/api-keys'],
      ['POST', '/api/api-keys', { name: 'k', expiredAt: null, allowedPath: '.*' }],
      ['GET', '/api/rest/api-keys'],
      ['GET', '/'],
    ];
    for (const [method, path, body] of adminCalls) {
      const answer = await call(path, { method, body, headers: bearer });
      expect([path, answer.status]).toEqual([path, 403]);
    }
    // Still there, under its own name.
    const list = await call(`${WEBHOOK}/connections`, { headers: basic('admin', ADMIN_PASS) });
    expect(list.body.map((c: { name: string }) => c.name)).toEqual(['ci']);

    // Wrong and odd credentials, a key in a query string, a failing body: refusals that get logged.
    await call(`${WEBHOOK}/connections`, { headers: basic('admin', `${ADMIN_PASS}x`) });
    await call(`${WEBHOOK}/connections`, { headers: { authorization: `Token ${key}` } });
    await call(`${WEBHOOK}/connections/${cid}/issues?apiKey=${key}`, { body: { title: 1 } });
    await call(`${WEBHOOK}/connections/${cid}/issues`, { body: { issueKey: ['x'] }, headers: bearer });
    await call(`${WEBHOOK}/connections/${cid + 1}/deployments`, { body: deployment('d2', 1), headers: bearer });

    const secrets = { key, ADMIN_PASS, ENCRYPTION_SECRET, basic: basic('admin', ADMIN_PASS).authorization.slice(6) };
    if (ON_MYSQL || ON_POSTGRES) Object.assign(secrets, { DB_PASSWORD });
    const logs = server.process.stdout() + server.process.stderr();
    expect(logs.split('\n').filter((line) => line.includes('"level"')).length).toBeGreaterThan(5);
    for (const [name, secret] of Object.entries(secrets)) {
      expect([name, logs.includes(secret)]).toEqual([name, false]);
      for (const answer of answers) expect([name, answer.text.includes(secret)]).toEqual([name, false]);
    }
    process.stdout.write(
      `security: ${JSON.stringify({ answersChecked: answers.length, logBytes: logs.length, secrets: Object.keys(secrets) })}\n`,
    );
  });

  it('sends security headers on every answer: API, errors, ping and the admin page', async () => {
    await call('/api/ping');
    await call('/', { headers: basic('admin', ADMIN_PASS) });
    await call('/no/such/route');
    await call(`${WEBHOOK}/connections`, { body: '{"name":' });
    expect(answers.length).toBeGreaterThan(15);
    for (const answer of answers) {
      expect(answer.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'content-security-policy': expect.stringContaining("default-src 'self'"),
        'strict-transport-security': expect.stringContaining('max-age='),
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
      });
      expect(answer.headers['x-powered-by']).toBeUndefined();
    }
  });
});
