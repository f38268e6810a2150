import { listen, type Listening } from './helpers/listening';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';

const ADMIN: [string, string] = ['admin', 'csrf-admin-pw'];
const BASE = '/api/plugins/webhook';
const EVIL = 'http://evil.example';
const DEPLOYMENT = { commit_sha: 'e'.repeat(40), repo_url: 'https://github.com/acme/csrf' };
const basic = ([user, pass]: [string, string]) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

/**
 * What a page on another site can make the admin's browser send: a `text/plain` form POST
 * (no CORS preflight), with the Basic credentials the browser cached for this server.
 */
function formPost(http: Listening, target: string, body: unknown, headers: Record<string, string>) {
  return http.raw('POST', target, {
    rawBody: Buffer.from(JSON.stringify(body)),
    headers: { 'content-type': 'text/plain', ...headers },
  });
}

describe('cross-site request forgery: refused for Basic and open servers', () => {
  let server: TestServer;
  let http: Listening;
  let connection: { id: number; key: string };

  beforeAll(async () => {
    server = await startTestServer({ basicAuth: { username: ADMIN[0], password: ADMIN[1] } });
    http = await listen(server.app);
    connection = await createConnection(server, 'csrf hook', ADMIN);
  });
  afterAll(async () => {
    await http.close();
    await server.close();
  });

  it.each([
    ['an Origin of another site', { origin: EVIL }],
    ['an Origin on another port of the same host', { origin: 'http://127.0.0.1:1' }],
    ['the opaque Origin null (sandboxed frame)', { origin: 'null' }],
    ['no Origin but Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['no Origin but Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site' }],
  ])('answers 403 in the envelope to a Basic-authenticated key creation with %s', async (_what, headers) => {
    const res = await formPost(
      http,
      '/api/api-keys',
      { name: `csrf ${_what}`, allowedPath: '.*' },
      {
        authorization: basic(ADMIN),
        ...headers,
      },
    );
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 0, success: false, data: null });
    expect(res.body.message).toMatch(/another site/);
    const keys = await server.request.get('/api/api-keys').auth(...ADMIN);
    expect(keys.body.apikeys.map((k: { name: string }) => k.name)).not.toContain(`csrf ${_what}`);
  });

  it('refuses a cross-site connection create and deployment injection made with Basic credentials', async () => {
    const created = await formPost(
      http,
      `${BASE}/connections`,
      { name: 'planted' },
      {
        authorization: basic(ADMIN),
        origin: EVIL,
      },
    );
    expect(created.status).toBe(403);
    const injected = await formPost(http, `${BASE}/connections/${connection.id}/deployments`, DEPLOYMENT, {
      authorization: basic(ADMIN),
      origin: EVIL,
    });
    expect(injected.status).toBe(403);
    const list = await server.request.get(`${BASE}/connections`).auth(...ADMIN);
    expect(list.body.map((c: { name: string }) => c.name)).not.toContain('planted');
  });

  it("keeps the admin page's own calls working: same Origin, Sec-Fetch-Site same-origin", async () => {
    const res = await http.raw('POST', `${BASE}/connections`, {
      body: { name: 'from the admin page' },
      headers: { authorization: basic(ADMIN), origin: http.origin, 'sec-fetch-site': 'same-origin' },
    });
    expect(res.status).toBe(200);
  });

  it('keeps curl and CI systems working: no Origin, no Sec-Fetch-Site', async () => {
    const res = await formPost(http, `${BASE}/connections/${connection.id}/deployments`, DEPLOYMENT, {
      authorization: basic(ADMIN),
    });
    expect(res.status).toBe(200);
  });

  it('keeps Bearer keys working from any origin: browsers never attach them on their own', async () => {
    const res = await formPost(http, `${BASE}/connections/${connection.id}/deployments`, DEPLOYMENT, {
      authorization: `Bearer ${connection.key}`,
      origin: EVIL,
    });
    expect(res.status).toBe(200);
  });

  it('lets reads through: a cross-site page cannot read the answer anyway', async () => {
    const res = await http.raw('GET', `${BASE}/connections`, {
      headers: { authorization: basic(ADMIN), origin: EVIL },
    });
    expect(res.status).toBe(200);
  });
});

describe('cross-site request forgery on an open server (no credentials configured)', () => {
  let server: TestServer;
  let http: Listening;

  beforeAll(async () => {
    server = await startTestServer();
    http = await listen(server.app);
  });
  afterAll(async () => {
    await http.close();
    await server.close();
  });

  it('answers 403 to a cross-site form post that would create a .* key, and 201 to the same from curl', async () => {
    const evil = await formPost(http, '/api/api-keys', { name: 'planted', allowedPath: '.*' }, { origin: EVIL });
    expect(evil.status).toBe(403);
    expect(evil.body).toMatchObject({ code: 0, success: false });
    const curl = await formPost(http, '/api/api-keys', { name: 'from curl', allowedPath: '.*' }, {});
    expect(curl.status).toBe(201);
    const names = (await server.request.get('/api/api-keys')).body.apikeys.map((k: { name: string }) => k.name);
    expect(names).toEqual(['from curl']);
  });
});
