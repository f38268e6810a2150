import fc from 'fast-check';
import { issueKeyOf } from '../src/issues/issue.service';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';
import { ENGINE, ON_MYSQL, ON_POSTGRES, runSql } from './helpers/test-db';

const BASE = '/api/plugins/webhook';

/** Text a hostile or broken sender puts anywhere: injections, markup, 4-byte emoji, controls. */
const NASTY = [
  "'; DROP TABLE issues; --",
  '" OR 1=1 --',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  '../../etc/passwd',
  '%00%27',
  '\u0000',
  '\u202e\u200b\ufeff',
  '😀🚀👩‍👩‍👧‍👦🏳️‍🌈',
  '𝕳𝖊𝖑𝖑𝖔 𠜎𠜱',
  'Ω≈ç√∫˜µ≤≥÷ ٩(-̮̮̃-̃)۶ 田中さん',
  '\\',
  "'",
  ' trailing ',
  'lone \ud83d surrogate',
];

const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 90, maxLength: 300 }) },
);

/** A value of any JSON type, hostile text included, sometimes nested deep or long. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1e308, -0, 1.5, 2 ** 63, 1714557600000) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '2024-05-01T10:00:00Z',
      '2024-02-30',
      '10/05/2024',
      '0000-00-00 00:00:00',
      '2024-05-01T10:00:00',
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 300 }).map((depth) => nest(depth)) },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(70_000), '😀'.repeat(20_000)) },
);

function nest(depth: number): unknown {
  let value: unknown = 'deep';
  for (let i = 0; i < depth; i += 1) value = i % 2 ? [value] : { a: value };
  return value;
}

/** The keys each route knows, in several spellings, plus strangers. */
const ROUTE_KEYS: Record<string, string[]> = {
  deployments: [
    'id',
    'displayTitle',
    'name',
    'result',
    'environment',
    'url',
    'createdDate',
    'startedDate',
    'finishedDate',
    'deploymentCommits',
    'commitSha',
    'commit_sha',
    'repoUrl',
    'repo_url',
    'refName',
    'commitMsg',
    'pipeline_id',
    'start_time',
  ],
  issues: [
    'issueKey',
    'issue_key',
    'title',
    'status',
    'originalStatus',
    'createdDate',
    'created_date',
    'boardKey',
    'description',
    'type',
    'storyPoint',
    'leadTimeMinutes',
    'priority',
    'severity',
    'deploymentId',
    'resolutionDate',
    'url',
  ],
  close: ['issueKey', 'issue_key', 'ISSUEKEY'],
  pull_requests: [
    'id',
    'displayTitle',
    'title',
    'pullRequestKey',
    'createdDate',
    'status',
    'baseRepoId',
    'headRepoId',
    'mergedDate',
    'mergeCommitSha',
    'url',
    'additions',
    'isDraft',
  ],
  connections: ['name', 'Name', 'NAME'],
};

const commit = fc.record(
  { repoUrl: anyValue, commitSha: anyValue, refName: anyValue, commitMsg: anyValue, extra: anyValue },
  { requiredKeys: [] },
);

function bodyFor(route: string): fc.Arbitrary<unknown> {
  const keys = [...ROUTE_KEYS[route], '__proto__', 'constructor', 'unknown_key', 'ID', 'Id'];
  const objectBody = fc.dictionary(
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: fc.string() }),
    route === 'deployments' ? fc.oneof(anyValue, fc.array(fc.oneof(commit, anyValue), { maxLength: 4 })) : anyValue,
    { maxKeys: 8 },
  );
  return fc.oneof({ weight: 6, arbitrary: objectBody }, { weight: 1, arbitrary: anyValue });
}

interface Sent {
  status: number;
  body: { code?: unknown; success?: unknown; message?: unknown; causes?: unknown } | undefined;
}

let server: TestServer;
let cid: number;
let key: string;
const figures = { sent: 0, ok: 0, clientErrors: 0, serverErrors: 0 };

async function post(path: string, body: string, method: 'post' | 'patch' = 'post'): Promise<Sent> {
  const res = await server.request[method](`${BASE}${path}`)
    .set('content-type', 'application/json')
    // The admin API is open in this test (no Basic configured); ingestion uses the connection's key.
    .set(path.startsWith('/connections/') ? { authorization: `Bearer ${key}` } : {})
    .send(body);
  figures.sent += 1;
  if (res.status >= 500) figures.serverErrors += 1;
  else if (res.status >= 400) figures.clientErrors += 1;
  else figures.ok += 1;
  return { status: res.status, body: res.body as Sent['body'] };
}

/** The rule for every answer: 200, or a 4xx in DevLake's envelope; a 400 on an object names its fields. */
function expectWellFormed(answer: Sent, sentAnObject: boolean): void {
  if (answer.status >= 500) throw new Error(`5xx: ${answer.status} ${JSON.stringify(answer.body)}`);
  expect([200, 400, 404, 409, 413]).toContain(answer.status);
  if (answer.status === 200) {
    expect(answer.body?.success ?? true).toBe(true);
    return;
  }
  expect(answer.body).toMatchObject({ code: 0, success: false, message: expect.any(String) });
  expect((answer.body?.message as string).length).toBeGreaterThan(0);
  if (answer.status === 400 && sentAnObject) {
    const causes = answer.body?.causes as { field: unknown; message: unknown }[] | null;
    expect(Array.isArray(causes) && causes.length > 0).toBe(true);
    for (const cause of causes ?? []) {
      expect(typeof cause.field === 'string' && cause.field.length > 0).toBe(true);
      expect(typeof cause.message === 'string' && cause.message.length > 0).toBe(true);
    }
  }
}

/** False for a lone UTF-16 surrogate, which UTF-8 (and so either database) cannot hold. */
/** Text every engine stores as sent: no lone surrogate (UTF-8), no U+0000 (PostgreSQL). */
const wellFormed = (value: string) =>
  !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value) && !value.includes('\0');

const isPlainObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Runs per property: thousands of bodies over all routes in well under a minute on both databases. */
const RUNS = ON_MYSQL || ON_POSTGRES ? 250 : 350;

describe(`hostile and broken input on ${ON_MYSQL ? 'MariaDB (utf8mb4)' : ENGINE} (issue 9, point 3)`, () => {
  beforeAll(async () => {
    server = await startTestServer();
    ({ id: cid, key } = await createConnection(server, 'fuzz'));
  });
  afterAll(async () => {
    process.stdout.write(`fuzz (${ENGINE}): ${JSON.stringify(figures)}\n`);
    await server.close();
  });

  it.each([
    ['deployments', '/deployments'],
    ['issues', '/issues'],
    ['close', '/issue/close'],
    ['pull_requests', '/pull_requests'],
    ['connections', ''],
  ])(
    'answers every generated body to %s with 200 or a 4xx envelope naming the fields, never a 5xx',
    async (route, path) => {
      const target = route === 'connections' ? '/connections' : `/connections/${cid}${path}`;
      await fc.assert(
        fc.asyncProperty(bodyFor(route), async (body) => {
          expectWellFormed(await post(target, JSON.stringify(body)), isPlainObject(body));
        }),
        { numRuns: RUNS },
      );
    },
  );

  it('answers broken JSON and odd issue keys in the close path with a 4xx envelope, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 50 }),
          fc.constantFrom('{', '{"a":', '[1,2', '\u0000', 'null', '"x"', '{"issueKey":}'),
        ),
        // A URL cannot carry a lone surrogate (encodeURIComponent throws): those go in bodies only.
        text.filter(wellFormed),
        async (raw, issueKey) => {
          expectWellFormed(await post(`/connections/${cid}/deployments`, raw), false);
          expectWellFormed(await post(`/connections/${cid}/issue/${encodeURIComponent(issueKey)}/close`, raw), false);
        },
      ),
      { numRuns: RUNS / 2 },
    );
  });

  let serial = 0;
  it('stores accepted text exactly as sent (4-byte emoji, markup, SQL), and refuses values too long for their column naming the field', async () => {
    await fc.assert(
      fc.asyncProperty(text, text, text, text, async (title, description, originalStatus, refName) => {
        serial += 1;
        const issueKey = `K${serial}-${title.slice(0, 20)}`;
        const issue = await post(
          `/connections/${cid}/issues`,
          JSON.stringify({
            issueKey,
            title,
            description,
            status: 'TODO',
            originalStatus,
            createdDate: '2024-05-01T10:00:00Z',
          }),
        );
        // The refusals: required text empty, too long for its column, or not storable as UTF-8.
        const sent: Record<string, string> = { issueKey, title, description, originalStatus };
        const refused = Object.keys(sent).filter(
          (field) =>
            !wellFormed(sent[field]) ||
            (field === 'originalStatus' && [...originalStatus].length > 100) ||
            (['title', 'originalStatus'].includes(field) && sent[field] === ''),
        );
        if (refused.length > 0) {
          expect(issue.status).toBe(400);
          const named = JSON.stringify(issue.body?.causes);
          for (const field of refused) expect(named).toContain(`"field":"${field}"`);
        } else {
          expect(issue.status).toBe(200);
          const [row] = await runSql<{ title: string; description: string; original_status: string }[]>(
            server.db.dataSource,
            'SELECT title, description, original_status FROM issues WHERE id = ?',
            // Trailing spaces of a key are dropped (MySQL's PAD SPACE would merge them anyway).
            [`webhook:${cid}:${issueKeyOf(issueKey)}`],
          );
          // An empty optional value counts as not sent (DevLake's Go zero values): NULL.
          expect(row).toEqual({
            title,
            description,
            original_status: originalStatus,
          });
        }

        const id = `D${serial}-${refName}`;
        const deployment = await post(
          `/connections/${cid}/deployments`,
          JSON.stringify({
            id,
            displayTitle: title,
            deploymentCommits: [
              { repoUrl: 'https://git.example.com/r', commitSha: 'abc', refName, commitMsg: description },
            ],
          }),
        );
        const refusedDeployment = [
          ...(!wellFormed(id) || [...`webhook:${cid}:${id}`].length > 255 ? ['id'] : []),
          ...(!wellFormed(title) ? ['displayTitle'] : []),
          ...(!wellFormed(refName) ? ['deploymentCommits[0].refName'] : []),
          ...(!wellFormed(description) ? ['deploymentCommits[0].commitMsg'] : []),
        ];
        if (refusedDeployment.length > 0) {
          expect(deployment.status).toBe(400);
          const named = JSON.stringify(deployment.body?.causes);
          for (const field of refusedDeployment) expect(named).toContain(`"field":"${field}"`);
        } else {
          expect(deployment.status).toBe(200);
          const [row] = await runSql<{ display_title: string; ref_name: string; commit_msg: string }[]>(
            server.db.dataSource,
            'SELECT d.display_title, c.ref_name, c.commit_msg FROM cicd_deployments d JOIN cicd_deployment_commits c ON c.cicd_deployment_id = d.id WHERE d.id = ?',
            [`webhook:${cid}:${id}`],
          );
          expect(row).toEqual({ display_title: title, ref_name: refName, commit_msg: description });
        }
      }),
      { numRuns: RUNS / 2 },
    );
  });

  it('refuses a body over the limit with 413 in the envelope', async () => {
    const answer = await post(`/connections/${cid}/issues`, JSON.stringify({ title: 'x'.repeat(1024 * 1024 + 1) }));
    expect(answer.status).toBe(413);
    expect(answer.body).toMatchObject({ code: 0, success: false });
  });
});
