import { startTestServer, type TestServer } from './helpers/test-app';

const BASE = '/api/plugins/webhook';

describe('reading bodies and answering errors (contract §3, §4)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ bodyLimitBytes: 4096 });
  });
  afterAll(async () => server.close());

  it('answers 400 in the envelope for invalid JSON, never 500', async () => {
    const res = await server.request
      .post(`${BASE}/connections`)
      .set('Content-Type', 'application/json')
      .send('{"name": ');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      code: 0,
      success: false,
      message: expect.stringContaining('not valid JSON'),
      requestId: res.headers['x-request-id'],
      causes: null,
      data: null,
    });
  });

  it.each([['[1,2]'], ['"a string"'], ['42'], ['null']])(
    'answers 400 when the JSON body is %s, not an object',
    async (body) => {
      const res = await server.request.post(`${BASE}/connections`).set('Content-Type', 'application/json').send(body);
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('JSON object');
    },
  );

  it('answers 413 in the envelope for a body over the limit', async () => {
    const res = await server.request.post(`${BASE}/connections`).send({ name: 'x', filler: 'y'.repeat(5000) });
    expect(res.status).toBe(413);
    expect(res.body.success).toBe(false);
    expect(res.body.message).toContain('4096');
  });

  it('refuses multipart bodies with a 400 that says to send JSON', async () => {
    const res = await server.request.post(`${BASE}/connections`).field('name', 'x');
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('JSON');
  });

  it('answers unknown paths with a 404 envelope', async () => {
    const res = await server.request.get('/api/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body.success).toBe(false);
  });

  it('answers a malformed %-escape in a path with 400, not 500', async () => {
    const res = await server.request.get(`${BASE}/connections/by-name/%E0%A4%A`);
    expect(res.status).toBe(400);
    expect(res.body.success).toBe(false);
  });

  it('answers GET /api/ping and /ping with 200 while the database answers', async () => {
    expect((await server.request.get('/api/ping')).status).toBe(200);
    expect((await server.request.get('/ping')).status).toBe(200);
  });

  it('sends security headers and no X-Powered-By', async () => {
    const res = await server.request.get('/api/ping');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});
