import type { Response } from 'supertest';
import { parse } from 'yaml';
import { loadOpenApiDocument, type OpenApiDocument } from '../src/openapi';
import { SWAGGER_PREFIX } from '../src/swagger-ui/swagger-ui.router';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';
import {
  dereference,
  OpenApiAnswers,
  servedRoutes,
  specOperations,
  specRoutes,
  validateWithSwaggerParser,
} from './helpers/openapi-contract';

const BASE = '/api/plugins/webhook';
const AUTH: [string, string] = ['admin', 'openapi-secret'];
const BODY_LIMIT = 4096;

/** The seed doc's deployment curl body, as written there. */
const SEED_DEPLOYMENT = {
  commit_sha: '015e3d3b480e417aede5a1293bd61de9b0fd051d',
  repo_url: 'https://github.com/apache/incubator-devlake/',
  environment: 'PRODUCTION',
  start_time: '2020-01-01T12:00:00+00:00',
  end_time: '2020-01-02T12:00:00+00:00',
};

/** The seed doc's issue-creating curl body, as written there. */
const SEED_ISSUE = JSON.parse(
  '{"board_key":"DLK","url":"","issue_key":"DLK-1234","title":"a feature from DLK","description":"","epic_key":"","type":"BUG","status":"TODO","original_status":"created","story_point":0,"resolution_date":null,"created_date":"2020-01-01T12:00:00+00:00","updated_date":null,"lead_time_minutes":0,"parent_issue_key":"DLK-1200","priority":"","original_estimate_minutes":0,"time_spent_minutes":0,"time_remaining_minutes":0,"creator_id":"user1131","creator_name":"Nick name 1","assignee_id":"user1132","assignee_name":"Nick name 2","severity":"","component":""}',
) as Record<string, unknown>;

/** Routes that are pages for people, not API: the admin page and Swagger UI itself. */
function isPage(route: string): boolean {
  const path = route.split(' ')[1];
  return path === '/' || path === SWAGGER_PREFIX || path.startsWith(`${SWAGGER_PREFIX}/`);
}

type Examples = Record<string, { value: unknown }>;

function requestExamples(document: OpenApiDocument, name: string): Examples {
  const bodies = (document.components as { requestBodies: Record<string, unknown> }).requestBodies;
  const media = (bodies[name] as { content: Record<string, { examples?: Examples; example?: unknown }> }).content[
    'application/json'
  ];
  return media.examples ?? { example: { value: media.example } };
}

describe('openapi.yaml is a valid OpenAPI document (issue 6)', () => {
  const document = loadOpenApiDocument();

  it('passes the @apidevtools/swagger-parser validator', () => {
    const result = validateWithSwaggerParser();
    expect(result).toEqual({ ok: true, output: expect.stringMatching(/^valid 3\.1\.\d+ \d+ paths$/) });
  });

  it("opens the seed doc's deep links: the deployments and issues operations under tag plugins/webhook", () => {
    const ops = specOperations(document);
    for (const [id, path] of [
      ['post_plugins_webhook__connectionId_deployments', '/{connectionId}/deployments'],
      ['post_plugins_webhook__connectionId_issues', '/{connectionId}/issues'],
    ]) {
      const op = ops.find((o) => (o.operation as { operationId?: string }).operationId === id);
      expect(op?.path).toBe(path);
      expect((op?.operation as { tags?: string[] }).tags).toEqual(['plugins/webhook']);
    }
  });

  it("names every webhook operation as DevLake's swagger does, uniquely", () => {
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (method === 'servers' || method === 'parameters') continue;
        const { operationId, tags } = op as { operationId: string; tags: string[] };
        expect(ids.has(operationId)).toBe(false);
        ids.add(operationId);
        if (!tags.includes('plugins/webhook')) continue;
        const devlakePath = `plugins/webhook${path.replace(/\{(\w+)\}/g, ':$1')}`;
        expect(operationId).toBe(`${method}_${devlakePath.replace(/[/:]/g, '_')}`);
      }
    }
  });

  it('lets "Try it out" follow the browser: every server URL is relative', () => {
    for (const op of specOperations(document)) expect(op.fullPath.startsWith('/')).toBe(true);
    expect((document.servers as { url: string }[])[0].url).toBe(BASE);
  });

  it("carries the payloads of DevLake's documentation verbatim as the first examples", () => {
    expect(requestExamples(document, 'Deployment').documented.value).toEqual(SEED_DEPLOYMENT);
    expect(requestExamples(document, 'Issue').documented.value).toEqual(SEED_ISSUE);
  });

  it('has request examples that match their own request schemas', () => {
    const answers = OpenApiAnswers.load(document);
    const dereferenced = dereference(document) as unknown as {
      components: { requestBodies: Record<string, { content: Record<string, { schema: object }> }> };
    };
    for (const name of ['Deployment', 'Issue', 'IssueClose', 'PullRequest']) {
      const validate = answers.compile(dereferenced.components.requestBodies[name].content['application/json'].schema);
      for (const [example, { value }] of Object.entries(requestExamples(document, name))) {
        validate(value);
        expect({ name, example, errors: validate.errors ?? null }).toEqual({ name, example, errors: null });
      }
    }
  });
});

describe('the routers and openapi.yaml agree (drift)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  it('documents every route the server serves, under every prefix', () => {
    const documented = specRoutes(server.plugin.openapi);
    const served = [...servedRoutes(server.app)].filter((route) => !isPage(route));
    // A walk that found nothing would make the comparison pass vacuously.
    expect(served).toContain(`POST ${BASE}/connections`);
    expect(served.filter((route) => !documented.has(route)).sort()).toEqual([]);
  });

  it('serves every route the document lists, under every server URL', () => {
    const served = servedRoutes(server.app);
    expect([...specRoutes(server.plugin.openapi)].filter((route) => !served.has(route)).sort()).toEqual([]);
  });
});

describe('real answers match the response schemas of openapi.yaml', () => {
  let server: TestServer;
  let answers: OpenApiAnswers;
  let connection: { id: number; key: string };
  let other: { id: number; key: string };
  const NAME = 'openapi-conn';

  /** The answer has the expected status and matches the document. */
  function expectDocumented(res: Response, status: number): void {
    expect({ status: res.status, body: res.body }).toMatchObject({ status });
    expect(answers.problems(res)).toEqual([]);
  }

  beforeAll(async () => {
    server = await startTestServer({
      basicAuth: { username: AUTH[0], password: AUTH[1] },
      bodyLimitBytes: BODY_LIMIT,
      encryptionSecret: 'openapi-test-secret',
    });
    answers = OpenApiAnswers.load(server.plugin.openapi);
    connection = await createConnection(server, NAME, AUTH);
    other = await createConnection(server, 'openapi-other', AUTH);
  });
  afterAll(async () => server.close());

  const post = (path: string) => server.request.post(path).auth(...AUTH);
  const get = (path: string) => server.request.get(path).auth(...AUTH);

  it('connections: create, list, get, rename, delete', async () => {
    expectDocumented(await post(`${BASE}/connections`).send({ name: 'openapi-temp' }), 200);
    expectDocumented(await get(`${BASE}/connections`), 200);
    expectDocumented(await get(`${BASE}/connections/${connection.id}`), 200);
    expectDocumented(await get(`${BASE}/connections/by-name/${NAME}`), 200);
    expectDocumented(
      await server.request
        .patch(`${BASE}/connections/by-name/openapi-temp`)
        .auth(...AUTH)
        .send({ name: 'openapi-t2' }),
      200,
    );
    expectDocumented(await server.request.delete(`${BASE}/connections/by-name/openapi-t2`).auth(...AUTH), 200);
  });

  it('connections: the documented errors 400, 401, 403, 404, 409', async () => {
    expectDocumented(await post(`${BASE}/connections`).send({ name: 'x'.repeat(101) }), 400);
    expectDocumented(await server.request.get(`${BASE}/connections`), 401);
    expectDocumented(
      await server.request.get(`${BASE}/connections`).set('Authorization', `Bearer ${connection.key}`),
      403,
    );
    expectDocumented(await get(`${BASE}/connections/999999`), 404);
    expectDocumented(await post(`${BASE}/connections`).send({ name: NAME }), 409);
  });

  it('deployments: the seed, CircleCI and v1.0 examples in the three addressing forms', async () => {
    const examples = requestExamples(server.plugin.openapi, 'Deployment');
    expectDocumented(await post(`${BASE}/${connection.id}/deployments`).send(examples.documented.value as object), 200);
    expectDocumented(
      await post(`${BASE}/connections/${connection.id}/deployments`).send(examples.circleci.value as object),
      200,
    );
    expectDocumented(
      await post(`${BASE}/connections/by-name/${NAME}/deployments`).send(examples.v1.value as object),
      200,
    );
  });

  it('deployments: the documented errors 400, 401, 403, 404, 413', async () => {
    expectDocumented(await post(`${BASE}/${connection.id}/deployments`).send({ repo_url: 'https://x/' }), 400);
    expectDocumented(await server.request.post(`${BASE}/${connection.id}/deployments`).send(SEED_DEPLOYMENT), 401);
    expectDocumented(
      await server.request
        .post(`${BASE}/${connection.id}/deployments`)
        .set('Authorization', `Bearer ${other.key}`)
        .send(SEED_DEPLOYMENT),
      403,
    );
    expectDocumented(await post(`${BASE}/999999/deployments`).send(SEED_DEPLOYMENT), 404);
    expectDocumented(
      await post(`${BASE}/${connection.id}/deployments`).send({ ...SEED_DEPLOYMENT, pad: 'x'.repeat(BODY_LIMIT) }),
      413,
    );
  });

  it('issues: the seed issue and an incident, closed in every form, and an unknown issue', async () => {
    const examples = requestExamples(server.plugin.openapi, 'Issue');
    expectDocumented(await post(`${BASE}/${connection.id}/issues`).send(examples.documented.value as object), 200);
    expectDocumented(
      await post(`${BASE}/connections/${connection.id}/issues`).send(examples.incident.value as object),
      200,
    );
    expectDocumented(await post(`${BASE}/${connection.id}/issue/DLK/DLK-1234/close`), 200);
    expectDocumented(await post(`${BASE}/connections/${connection.id}/issue/INC-7/close`), 200);
    expectDocumented(await post(`${BASE}/connections/by-name/${NAME}/issue/close`).send({ issueKey: 'DLK-1234' }), 200);
    expectDocumented(await post(`${BASE}/${connection.id}/issue/NOPE-1/close`), 404);
    expectDocumented(await post(`${BASE}/${connection.id}/issues`).send({ title: 'no key' }), 400);
  });

  it('pull requests: the example is stored', async () => {
    const example = requestExamples(server.plugin.openapi, 'PullRequest').example.value as object;
    expectDocumented(await post(`${BASE}/connections/${connection.id}/pull_requests`).send(example), 200);
  });

  it('DORA: a connection in each addressing form, a project, and a bad benchmark', async () => {
    const window = '?from=2019-12-01T00:00:00Z&to=2020-02-01T00:00:00Z';
    expectDocumented(await get(`${BASE}/${connection.id}/dora${window}`), 200);
    expectDocumented(await get(`${BASE}/connections/${connection.id}/dora${window}&benchmark=2021`), 200);
    expectDocumented(await get(`${BASE}/connections/by-name/${NAME}/dora`), 200);
    expectDocumented(await get(`${BASE}/${connection.id}/dora?benchmark=1999`), 400);
    expectDocumented(
      await server.request
        .patch(`${BASE}/connections/${connection.id}`)
        .auth(...AUTH)
        .send({ projectName: 'openapi-project' }),
      200,
    );
    expectDocumented(await get(`${BASE}/projects`), 200);
    expectDocumented(await get(`${BASE}/projects/openapi-project/dora${window}`), 200);
  });

  it("the admin page's activity API and key rotation", async () => {
    expectDocumented(await get(`${BASE}/activity`), 200);
    expectDocumented(await get(`${BASE}/connections/${connection.id}/activity?limit=5`), 200);
    expectDocumented(await post(`${BASE}/connections/${other.id}/rotate-key`), 200);
  });

  it("DevLake's core API-key routes", async () => {
    const created = await post('/api/api-keys').send({ name: 'jenkins', allowedPath: '.*' });
    expectDocumented(created, 201);
    expectDocumented(await get('/api/api-keys'), 200);
    expectDocumented(
      await server.request
        .put(`/api/api-keys/${created.body.id}`)
        .auth(...AUTH)
        .send({}),
      200,
    );
    expectDocumented(await server.request.delete(`/api/api-keys/${created.body.id}`).auth(...AUTH), 200);
    expectDocumented(
      await server.request
        .put('/api/api-keys/999999')
        .auth(...AUTH)
        .send({}),
      404,
    );
  });

  it('the health check', async () => {
    expectDocumented(await server.request.get('/api/ping'), 200);
  });
});

describe('Swagger UI and the raw document', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  it('serves Swagger UI at /api/swagger/index.html and /api/swagger/, from local assets', async () => {
    for (const path of [`${SWAGGER_PREFIX}/index.html`, `${SWAGGER_PREFIX}/`]) {
      const page = await server.request.get(path);
      expect(page.status).toBe(200);
      expect(page.text).toContain('<div id="swagger-ui"></div>');
      // Relative asset URLs only: nothing from a CDN.
      expect(page.text).not.toMatch(/(src|href)=["']https?:/);
    }
    const bundle = await server.request.get(`${SWAGGER_PREFIX}/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers['content-type']).toMatch(/javascript/);
    const init = await server.request.get(`${SWAGGER_PREFIX}/swagger-ui-init.js`);
    expect(init.text).toContain('post_plugins_webhook__connectionId_deployments');
    expect(init.text).toContain('"deepLinking": true');
    // The seed doc's deep link has a tag with a slash, which Swagger UI alone misreads.
    expect(init.text).toMatch(/"slashTags": \[\s*"plugins\/webhook"/);
    expect(init.text).toContain('function devlakeDeepLinks');
  });

  it('redirects /api/swagger to /api/swagger/ so the relative asset URLs resolve', async () => {
    const res = await server.request.get(SWAGGER_PREFIX);
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe(`${SWAGGER_PREFIX}/`);
  });

  it('serves the document as doc.json and doc.yaml, equal to the plugin’s openapi object', async () => {
    const json = await server.request.get(`${SWAGGER_PREFIX}/doc.json`);
    expect(json.status).toBe(200);
    expect(json.body).toEqual(server.plugin.openapi);
    const yamlAnswer = await server.request.get(`${SWAGGER_PREFIX}/doc.yaml`);
    expect(yamlAnswer.headers['content-type']).toMatch(/^application\/yaml/);
    expect(parse(yamlAnswer.text)).toEqual(server.plugin.openapi);
  });

  it('does not upgrade the page’s requests to https, so it works over plain http by address', async () => {
    const page = await server.request.get(`${SWAGGER_PREFIX}/index.html`);
    expect(page.headers['content-security-policy']).toBeDefined();
    expect(page.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
  });
});
