import { runInNewContext } from 'node:vm';
import { ruleAllows } from '../src/auth/guards';
import { canonicalPath } from '../src/http/request-target';
import { InputError } from '../src/http/errors';
import { listen, type Listening } from './helpers/listening';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';

const ADMIN: [string, string] = ['admin', 'paths-admin-pw'];
const BASE = '/api/plugins/webhook';
const DEPLOYMENT = { commit_sha: 'f'.repeat(40), repo_url: 'https://github.com/acme/paths' };

/** A general key's `allowedPath` is matched against the path the router serves, as RE2 reads it. */
describe('general keys: allowedPath rules cannot be escaped', () => {
  let server: TestServer;
  let http: Listening;
  let one: { id: number; key: string };
  let two: { id: number; key: string };

  let keys = 0;
  async function generalKey(allowedPath: string): Promise<string> {
    keys += 1;
    const res = await server.request
      .post('/api/api-keys')
      .auth(...ADMIN)
      .send({ name: `rule ${keys}`, allowedPath });
    expect(res.status).toBe(201);
    return res.body.apiKey as string;
  }
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  beforeAll(async () => {
    server = await startTestServer({ basicAuth: { username: ADMIN[0], password: ADMIN[1] } });
    http = await listen(server.app);
    one = await createConnection(server, 'paths one', ADMIN);
    two = await createConnection(server, 'paths two', ADMIN);
  });
  afterAll(async () => {
    await http.close();
    await server.close();
  });

  it('answers 400 to a fragment, so `#webhook` cannot make `.*webhook.*` open the key list', async () => {
    const key = await generalKey('.*webhook.*');
    const res = await http.raw('GET', '/api/api-keys#webhook', { headers: bearer(key) });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 0, success: false, data: null });
    expect(res.body.message).toMatch(/fragment/);
    expect(res.text).not.toContain('apikeys');
  });

  it('answers 400 to an absolute-form target, so a `.*webhook.*` key cannot create a `.*` key', async () => {
    const key = await generalKey('.*webhook.*');
    const res = await http.raw('POST', 'http://webhook/api/api-keys', {
      headers: bearer(key),
      body: { name: 'escaped', allowedPath: '.*' },
    });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/absolute-form/);
    const keys = await server.request.get('/api/api-keys').auth(...ADMIN);
    expect(keys.body.apikeys.map((k: { name: string }) => k.name)).not.toContain('escaped');
  });

  it('keeps a `.*/connections/<one>/.*` key out of connection two, whatever follows the path', async () => {
    const key = await generalKey(`.*/connections/${one.id}/.*`);
    const fragment = await http.raw('POST', `${BASE}/connections/${two.id}/deployments#/connections/${one.id}/`, {
      headers: bearer(key),
      body: DEPLOYMENT,
    });
    expect(fragment.status).toBe(400);
    const query = await http.raw('POST', `${BASE}/connections/${two.id}/deployments?x=/connections/${one.id}/`, {
      headers: bearer(key),
      body: DEPLOYMENT,
    });
    expect(query.status).toBe(403);
    const dots = await http.raw('POST', `${BASE}/connections/${one.id}/../${two.id}/deployments`, {
      headers: bearer(key),
      body: DEPLOYMENT,
    });
    expect(dots.status).toBe(400);
    const own = await http.raw('POST', `${BASE}/connections/${one.id}/deployments`, {
      headers: bearer(key),
      body: DEPLOYMENT,
    });
    expect(own.status).toBe(200);
  });

  it("opens only ingestion with DevLake's per-connection rule: no delete, rename, rotate or link", async () => {
    const key = await generalKey(`/plugins/webhook/connections/${one.id}/.*`);
    const auth = bearer(key);
    const posted = await server.request.post(`${BASE}/connections/${one.id}/deployments`).set(auth).send(DEPLOYMENT);
    expect(posted.status).toBe(200);
    const attempts = [
      server.request.delete(`${BASE}/connections/${one.id}/`).set(auth),
      server.request.patch(`${BASE}/connections/${one.id}/`).set(auth).send({ name: 'renamed' }),
      server.request.patch(`${BASE}/connections/${one.id}/`).set(auth).send({ projectName: 'elsewhere' }),
      server.request.post(`${BASE}/connections/${one.id}/rotate-key`).set(auth),
      server.request.post(`${BASE}/connections/${one.id}/rotate-key/`).set(auth),
      server.request.post(`${BASE}/connections/${two.id}/deployments`).set(auth).send(DEPLOYMENT),
    ];
    for (const attempt of attempts) {
      const res = await attempt;
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: 0, success: false });
    }
    const after = await server.request.get(`${BASE}/connections/${one.id}`).auth(...ADMIN);
    expect(after.status).toBe(200);
    expect(after.body.name).toBe('paths one');
    expect(after.body.projectName ?? null).toBeNull();
    const rotatedAway = await server.request
      .post(`${BASE}/connections/${one.id}/deployments`)
      .set(bearer(one.key))
      .send(DEPLOYMENT);
    expect(rotatedAway.status).toBe(200);
  });

  it('reads rules as Go (RE2) regular expressions, as DevLake issues them: (?i) and [[:digit:]]', async () => {
    const key = await generalKey('(?i)/PLUGINS/WEBHOOK/connections/[[:digit:]]+/deployments');
    const res = await server.request
      .post(`/api/rest/plugins/webhook/connections/${one.id}/deployments`)
      .set(bearer(key))
      .send(DEPLOYMENT);
    expect(res.status).toBe(200);
    const issues = await server.request.post(`${BASE}/connections/${one.id}/issues`).set(bearer(key)).send({
      issueKey: 'P-1',
      title: 't',
      status: 'TODO',
      originalStatus: 'open',
      createdDate: '2024-05-01T10:00:00Z',
    });
    expect(issues.status).toBe(403);
  });

  it('matches a nested-quantifier rule like /(a+)+ against a long path without backtracking', () => {
    const path = `/${'a'.repeat(48)}!`;
    // A backtracking engine tries 2^48 ways before saying no; the vm's watchdog stops it (and
    // fails the test) long before. A linear-time engine answers at once.
    const allowed = runInNewContext('ruleAllows(rule, path)', { ruleAllows, rule: '/(a+)+', path }, { timeout: 5000 });
    expect(allowed).toBe(false);
    expect(ruleAllows('/(a+)+', `/${'a'.repeat(48)}`)).toBe(true);
  });

  it('allows nothing for a rule that does not compile or would escape its anchors', () => {
    expect(ruleAllows('a)|(.*', '/api-keys')).toBe(false);
    expect(ruleAllows('(', '/api-keys')).toBe(false);
    expect(ruleAllows('/plugins/webhook/connections', '/x/plugins/webhook/connections')).toBe(false);
  });
});

describe('the canonical path of a request-target', () => {
  const refused = (target: string) => () => canonicalPath(target);

  it('decodes, drops the query and one trailing slash', () => {
    expect(canonicalPath('/plugins/webhook/connections/6/?a=b')).toBe('/plugins/webhook/connections/6');
    expect(canonicalPath('/plugins/webhook/connections/by-name/my%20hook%23%3F/deployments')).toBe(
      '/plugins/webhook/connections/by-name/my hook#?/deployments',
    );
    expect(canonicalPath('/')).toBe('/');
    // An encoded "/" or "%" stays inside its segment: `1%2F..%2F2` never reads as `1/../2`.
    expect(canonicalPath('/plugins/webhook/connections/1/issue/A%2FB%25/close')).toBe(
      '/plugins/webhook/connections/1/issue/A%2FB%25/close',
    );
    expect(canonicalPath('/plugins/webhook/connections/1%2F..%2F2/deployments')).toBe(
      '/plugins/webhook/connections/1%2F..%2F2/deployments',
    );
  });

  it.each([
    ['an absolute-form target', 'http://webhook/api/api-keys'],
    ['the asterisk form', '*'],
    ['a fragment', '/api/api-keys#webhook'],
    ['a dot segment', '/plugins/webhook/connections/1/../2/deployments'],
    ['an encoded dot segment', '/plugins/webhook/connections/1/%2e%2e/2/deployments'],
    ['a backslash', '/plugins/webhook/connections/1\\deployments'],
    ['an empty segment', '/api//api-keys'],
    ['an encoded letter the router would not read', '/api/%61pi-keys'],
    ['a malformed escape', '/plugins/webhook/connections/by-name/%E0%A4%A/deployments'],
    ['an encoded control character', '/plugins/webhook/connections/by-name/a%00b/deployments'],
  ])('refuses %s with a 400 InputError', (_what, target) => {
    expect(refused(target)).toThrow(InputError);
  });
});
