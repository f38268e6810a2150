import http from 'node:http';
import net from 'node:net';
import { createTestDatabase, type TestDatabase } from './helpers/test-db';
import { freePort, spawnServer, waitForListening } from './helpers/server-process';

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('the standalone server process (issue 2, point 3)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database.drop());

  it('migrates, prints one start-up line without secrets, answers ping, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const server = spawnServer({
      DB_URL: database.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      ENCRYPTION_SECRET: 'do-not-print-me',
    });
    try {
      await waitForListening(server);
      const line =
        server
          .stdout()
          .split('\n')
          .find((l) => l.includes('listening on')) ?? '';
      expect(line).toContain(`http://127.0.0.1:${port}`);
      expect(line).toMatch(/database: (SQLite|MySQL|PostgreSQL)/);
      expect(line).toContain('auth: open on loopback only');
      expect(server.stdout() + server.stderr()).not.toContain('do-not-print-me');

      expect((await get(`http://127.0.0.1:${port}/api/ping`)).status).toBe(200);
      expect((await get(`http://127.0.0.1:${port}/ping`)).status).toBe(200);
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await server.exited).toBe(0);
  });

  it('cuts off a client that never finishes its headers (slowloris), within the 10 s header limit', async () => {
    const port = await freePort();
    const server = spawnServer({ DB_URL: database.url, PORT: String(port), HOST: '127.0.0.1' });
    try {
      await waitForListening(server);
      const socket = net.connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      const started = Date.now();
      // Headers begun, never ended: a slow or hostile client holding a socket open.
      socket.write('POST /api/plugins/webhook/1/deployments HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString()));
      const closedAfter = await new Promise<number>((resolve) => {
        socket.once('close', () => resolve(Date.now() - started));
        setTimeout(() => resolve(-1), 25_000).unref();
      });
      socket.destroy();
      expect(closedAfter).toBeGreaterThan(0);
      expect(closedAfter).toBeLessThan(20_000);
      expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
      // The server itself is unharmed.
      expect((await get(`http://127.0.0.1:${port}/api/ping`)).status).toBe(200);
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await server.exited).toBe(0);
  });

  it.each([
    ['an unparsable DB_URL', { DB_URL: 'postgres://x@y/z' }, /^devlake-webhook: DB_URL: /],
    [
      'a database it cannot reach',
      { DB_URL: 'mysql://nobody:secretpw@127.0.0.1:1/none' },
      /^devlake-webhook: DB_URL: cannot use MySQL nobody@127\.0\.0\.1:1\/none/,
    ],
    ['a bad PORT', { PORT: 'eighty' }, /^devlake-webhook: PORT: /],
    ['only one of ADMIN_USER and ADMIN_PASS', { ADMIN_USER: 'admin' }, /^devlake-webhook: ADMIN_PASS: /],
  ])('exits non-zero with one line naming the setting for %s', async (_label, env, expected) => {
    const server = spawnServer({ DB_URL: database.url, PORT: '0', ...env });
    expect(await server.exited).not.toBe(0);
    const lines = server.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(expected);
    expect(server.stderr()).not.toContain('secretpw');
    expect(server.stderr()).not.toMatch(/\n\s+at /);
  });
});
