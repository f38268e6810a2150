import { PullRequest } from '../src/pull-requests/pull-request.entity';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';

const BASE = '/api/plugins/webhook';

/** The distinct fields an error envelope's causes name (one field may break several rules). */
const fieldsOf = (body: { causes: { field: string }[] }) => [...new Set(body.causes.map((c) => c.field))];

/** DevLake v1.0.3's documented pull request payload. */
const PR_BODY = {
  id: 'pr-1',
  displayTitle: 'Add the checkout page',
  pullRequestKey: 42,
  createdDate: '2026-03-01T10:00:00Z',
  status: 'MERGED',
  originalStatus: 'merged',
  description: 'A long description',
  url: 'https://git.example.com/shop/pull/42',
  authorName: 'Ada',
  authorId: 'ada',
  mergedByName: 'Grace',
  mergedById: 'grace',
  mergedDate: '2026-03-02T08:00:00+00:00',
  mergeCommitSha: 'a'.repeat(40),
  headRef: 'feature/checkout',
  baseRef: 'main',
  headRepoId: 'github:GithubRepo:1:7',
  additions: 120,
  deletions: 4,
  isDraft: false,
};

describe('pull requests (contract §7)', () => {
  let server: TestServer;
  let cid: number;
  let key: string;

  beforeAll(async () => {
    server = await startTestServer();
    ({ id: cid, key } = await createConnection(server, 'shop'));
  });
  afterAll(async () => server.close());

  const stored = (id: string) => server.db.dataSource.getRepository(PullRequest).findOneBy({ id });

  it('stores the pull request as webhook:<cid>:<pullRequestKey> in the connection repo, title from displayTitle', async () => {
    const res = await server.request.post(`${BASE}/connections/${cid}/pull_requests`).send(PR_BODY);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      code: 0,
      success: true,
      message: 'success',
      causes: null,
      data: {
        pullRequestId: `webhook:${cid}:42`,
        dates: { createdDate: '2026-03-01T10:00:00.000Z', mergedDate: '2026-03-02T08:00:00.000Z' },
        warnings: [],
      },
    });
    expect(await stored(`webhook:${cid}:42`)).toMatchObject({
      baseRepoId: `webhook:${cid}`,
      headRepoId: 'github:GithubRepo:1:7',
      title: 'Add the checkout page',
      status: 'MERGED',
      originalStatus: 'merged',
      pullRequestKey: 42,
      createdDate: new Date('2026-03-01T10:00:00Z'),
      mergedDate: new Date('2026-03-02T08:00:00Z'),
      closedDate: null,
      mergeCommitSha: 'a'.repeat(40),
      authorName: 'Ada',
      mergedById: 'grace',
      additions: 120,
      deletions: 4,
      isDraft: false,
    });
  });

  it('accepts the three addressing forms and snake_case keys, and a re-post updates the same row', async () => {
    const body = { ...PR_BODY, pullRequestKey: 7 };
    const first = await server.request.post(`${BASE}/${cid}/pull_requests`).send(body);
    expect(first.status).toBe(200);
    const createdAt = (await stored(`webhook:${cid}:7`))?.createdAt;

    const snake = {
      id: 'pr-7',
      display_title: 'Renamed',
      pull_request_key: '7',
      created_date: '2026-03-01T10:00:00Z',
      merge_commit_sha: 'b'.repeat(40),
      status: 'closed',
    };
    const second = await server.request.post(`${BASE}/connections/by-name/shop/pull_requests`).send(snake);
    expect(second.status).toBe(200);
    const row = await stored(`webhook:${cid}:7`);
    expect(row).toMatchObject({ title: 'Renamed', status: 'CLOSED', mergeCommitSha: 'b'.repeat(40), authorName: '' });
    expect(row?.createdAt).toEqual(createdAt);
  });

  it("stores fields not sent as DevLake does ('', 0, false), truncates fractions and reads isDraft words", async () => {
    const minimal = { id: 'pr-min', displayTitle: 'Minimal', pullRequestKey: 7.9, createdDate: '2026-03-01T10:00:00Z' };
    expect((await server.request.post(`${BASE}/${cid}/pull_requests`).send(minimal)).status).toBe(200);
    expect(await stored(`webhook:${cid}:7`)).toMatchObject({
      pullRequestKey: 7,
      headRepoId: '',
      status: '',
      originalStatus: '',
      description: '',
      authorName: '',
      mergeCommitSha: '',
      additions: 0,
      deletions: 0,
      isDraft: false,
      mergedDate: null,
      // The delivery that wrote it (the event log); the others empty as DevLake leaves them.
      rawDataParams: '',
      rawDataTable: '_raw_webhook_events',
      rawDataId: expect.any(Number),
      rawDataRemark: '',
    });
    for (const [key, word, draft] of [
      [8, 'true', true],
      [9, 'True', true],
      [10, 't', true],
      [11, 1, true],
      [12, 'F', false],
      [13, 0, false],
    ] as const) {
      const res = await server.request
        .post(`${BASE}/${cid}/pull_requests`)
        .send({ ...minimal, pullRequestKey: key, isDraft: word, additions: 1.7, deletions: '2' });
      expect(res.status).toBe(200);
      expect(await stored(`webhook:${cid}:${key}`)).toMatchObject({ isDraft: draft, additions: 1, deletions: 2 });
    }
  });

  it('forces base_repo_id to the connection even when the payload names another repo', async () => {
    await server.request
      .post(`${BASE}/connections/${cid}/pull_requests`)
      .send({ ...PR_BODY, pullRequestKey: 8, baseRepoId: 'github:GithubRepo:1:1' });
    expect((await stored(`webhook:${cid}:8`))?.baseRepoId).toBe(`webhook:${cid}`);
  });

  it.each([
    ['id', { id: undefined }],
    ['displayTitle', { displayTitle: undefined }],
    ['pullRequestKey', { pullRequestKey: undefined }],
    ['createdDate', { createdDate: undefined }],
  ])('answers 400 naming %s when it is missing', async (field, change) => {
    const res = await server.request.post(`${BASE}/connections/${cid}/pull_requests`).send({ ...PR_BODY, ...change });
    expect(res.status).toBe(400);
    expect(res.body.success).toBe(false);
    expect(fieldsOf(res.body)).toEqual([field]);
  });

  it.each([
    ['pullRequestKey', { pullRequestKey: 'four' }],
    ['pullRequestKey', { pullRequestKey: 'forty-two' }],
    ['status', { status: 'DRAFT' }],
    ['mergedDate', { mergedDate: '2026-03-02T08:00:00+24:00' }],
    ['mergeCommitSha', { mergeCommitSha: 'c'.repeat(41) }],
    ['authorName', { authorName: 'x'.repeat(101) }],
    ['headRepoId', { headRepoId: 'x'.repeat(192) }],
    ['url', { url: 'x'.repeat(256) }],
    ['isDraft', { isDraft: 'maybe' }],
  ])('answers 400 naming %s when it cannot be stored (%j)', async (field, change) => {
    const res = await server.request.post(`${BASE}/connections/${cid}/pull_requests`).send({ ...PR_BODY, ...change });
    expect(res.status).toBe(400);
    expect(fieldsOf(res.body)).toEqual([field]);
  });

  it('fits values of exactly the column size (40-character sha, 100-character author)', async () => {
    const res = await server.request
      .post(`${BASE}/connections/${cid}/pull_requests`)
      .send({ ...PR_BODY, pullRequestKey: 9, mergeCommitSha: 'd'.repeat(40), authorName: 'é'.repeat(100) });
    expect(res.status).toBe(200);
    expect((await stored(`webhook:${cid}:9`))?.authorName).toBe('é'.repeat(100));
  });

  it("takes the connection's own key and refuses another connection's", async () => {
    const other = await createConnection(server, 'other');
    const own = await server.request
      .post(`${BASE}/connections/${cid}/pull_requests`)
      .set('Authorization', `Bearer ${key}`)
      .send({ ...PR_BODY, pullRequestKey: 10 });
    expect(own.status).toBe(200);
    const foreign = await server.request
      .post(`${BASE}/connections/${other.id}/pull_requests`)
      .set('Authorization', `Bearer ${key}`)
      .send(PR_BODY);
    expect(foreign.status).toBe(403);
  });

  it('answers 404 for an unknown connection', async () => {
    const res = await server.request.post(`${BASE}/connections/99999/pull_requests`).send(PR_BODY);
    expect(res.status).toBe(404);
  });
});
