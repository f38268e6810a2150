import { createTestDatabase, type TestDatabase } from './helpers/test-db';
import { freePort, spawnServer, waitForListening, type ServerProcess } from './helpers/server-process';

const ADMIN_USER = 'ops';
const ADMIN_PASS = 'server-pass-0123';
const SEED_DEPLOYMENT = JSON.stringify({
  commit_sha: '015e3d3b480e417aede5a1293bd61de9b0fd051d',
  repo_url: 'https://github.com/apache/incubator-devlake/',
  environment: 'PRODUCTION',
  start_time: '2020-01-01T12:00:00+00:00',
  end_time: '2020-01-02T12:00:00+00:00',
});

function startupLine(server: ServerProcess): string {
  return (
    server
      .stdout()
      .split('\n')
      .find((line) => line.includes('listening on')) ?? ''
  );
}

describe('the standalone server is secure by default (issue 5 §5)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database.drop());

  // Other public addresses are checked through loadConfig (auth.unit.test.ts): a process each costs seconds.
  it.each([['0.0.0.0']])('refuses to start open on %s, in one line saying how to set credentials', async (host) => {
    const server = spawnServer({ DB_URL: database.url, PORT: '0', HOST: host, ADMIN_USER: '', ADMIN_PASS: '' });
    expect(await server.exited).toBe(1);
    const lines = server.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `devlake-webhook: HOST: refusing to listen on ${host} without credentials: set ADMIN_USER and ADMIN_PASS, ` +
        'or ALLOW_UNAUTHENTICATED=true if a proxy in front authenticates every request',
    );
    expect(server.stdout()).not.toContain('listening on');
  });

  it("with ADMIN_USER/ADMIN_PASS: the seed's curl -u answers 200, without -u 401, the key works on /api/rest", async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const basic = `Basic ${Buffer.from(`${ADMIN_USER}:${ADMIN_PASS}`).toString('base64')}`;
    const server = spawnServer({
      DB_URL: database.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_USER,
      ADMIN_PASS,
    });
    const keys: string[] = [];
    try {
      await waitForListening(server);
      expect(startupLine(server)).toContain('auth: Basic (ADMIN_USER) and API keys');

      const post = (path: string, body: string, authorization?: string) =>
        fetch(`${base}${path}`, {
          method: 'POST',
          // What curl -d sends.
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            ...(authorization ? { Authorization: authorization } : {}),
          },
          body,
        });
      const created = await Promise.all(
        ['server hook', 'server other'].map(async (name) => {
          const res = await post('/api/plugins/webhook/connections', JSON.stringify({ name }), basic);
          expect(res.status).toBe(200);
          const body = (await res.json()) as { id: number; apiKey: { apiKey: string } };
          keys.push(body.apiKey.apiKey);
          return { id: body.id, key: body.apiKey.apiKey };
        }),
      );
      const [hook, other] = created;

      expect((await post(`/api/plugins/webhook/${hook.id}/deployments`, SEED_DEPLOYMENT, basic)).status).toBe(200);
      const without = await post(`/api/plugins/webhook/${hook.id}/deployments`, SEED_DEPLOYMENT);
      expect(without.status).toBe(401);
      expect(without.headers.get('www-authenticate')).toContain('Basic');

      const rest = `/api/rest/plugins/webhook/connections/${hook.id}/deployments`;
      expect((await post(rest, SEED_DEPLOYMENT, `Bearer ${hook.key}`)).status).toBe(200);
      expect((await post(rest, SEED_DEPLOYMENT, `Bearer ${other.key}`)).status).toBe(403);
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await server.exited).toBe(0);
    const output = server.stdout() + server.stderr();
    expect(output).not.toContain(ADMIN_PASS);
    for (const key of keys) expect(output).not.toContain(key);
  });

  it('says loudly when ALLOW_UNAUTHENTICATED=true opens it', async () => {
    const server = spawnServer({
      DB_URL: database.url,
      PORT: '0',
      HOST: '127.0.0.1',
      ALLOW_UNAUTHENTICATED: 'true',
      ADMIN_USER: '',
      ADMIN_PASS: '',
    });
    try {
      await waitForListening(server);
      expect(startupLine(server)).toContain('auth: NONE: ALLOW_UNAUTHENTICATED=true');
      expect(server.stdout()).toMatch(/"level":40.*ALLOW_UNAUTHENTICATED=true/);
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await server.exited).toBe(0);
  });
});
