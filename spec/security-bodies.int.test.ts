import { Writable } from 'node:stream';
import pino from 'pino';
import { hashApiKey } from '../src/auth/api-key.service';
import { REDACTED_PATHS } from '../src/logger';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';

const BASE = '/api/plugins/webhook';
const SECRET = 'bodies-secret';
const SHA = 'a'.repeat(40);
const DEPLOYMENT = `"commitSha":"${SHA}","repoUrl":"https://github.com/acme/bodies"`;
const ISSUE = `"title":"t","status":"TODO","originalStatus":"open","createdDate":"2024-05-01T10:00:00Z"`;
const DEPTH = 5000;

/** Bodies that must answer 400 in the envelope, never 500, with the field named. */
const HOSTILE: [string, string, string, string][] = [
  ...['constructor', '__proto__', 'prototype'].flatMap((word): [string, string, string, string][] => [
    [
      `"${word}" as a key inside a text field`,
      'deployments',
      `{${DEPLOYMENT},"displayTitle":{"${word}":1}}`,
      'displayTitle',
    ],
    [
      `"${word}" as a key inside a date field`,
      'deployments',
      `{${DEPLOYMENT},"startedDate":{"${word}":1}}`,
      'startedDate',
    ],
    [`"${word}" as a key inside an issue key`, 'issues', `{${ISSUE},"issueKey":{"${word}":"x"}}`, 'issueKey'],
    [`"${word}" as a key inside an enum field`, 'issues', `{${ISSUE},"issueKey":"A","status":{"${word}":1}}`, 'status'],
    [
      `"${word}" as a value of an enum field`,
      'issues',
      `{${ISSUE.replace('"TODO"', `"${word}"`)},"issueKey":"A"}`,
      'status',
    ],
  ]),
  [
    'arrays nested inside deploymentCommits',
    'deployments',
    `{${DEPLOYMENT},"deploymentCommits":[[{${DEPLOYMENT}}]]}`,
    'deploymentCommits[0]',
  ],
  [
    `${DEPTH} levels of arrays in deploymentCommits`,
    'deployments',
    `{${DEPLOYMENT},"deploymentCommits":${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}}`,
    'deploymentCommits[0]',
  ],
  [
    `${DEPTH} levels of objects in a text field`,
    'deployments',
    `{${DEPLOYMENT},"displayTitle":${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}}`,
    'displayTitle',
  ],
  [
    'an integer id above 2^53 (JSON cannot keep its digits)',
    'issues',
    `{${ISSUE},"issueKey":9007199254740993}`,
    'issueKey',
  ],
  ['a hexadecimal string in a number field', 'issues', `{${ISSUE},"issueKey":"A","storyPoint":"0x10"}`, 'storyPoint'],
  ['a binary string in a number field', 'issues', `{${ISSUE},"issueKey":"A","storyPoint":"0b11"}`, 'storyPoint'],
];

describe('hostile bodies answer 400, never 500, and nothing is stored changed', () => {
  let server: TestServer;
  let connection: { id: number; key: string };
  /** What the default logger (pino, secrets redacted) wrote, line by line. */
  const logged: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = pino({ level: 'debug', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, sink);
    server = await startTestServer({ encryptionSecret: SECRET, logger });
    connection = await createConnection(server, 'bodies hook');
  });
  afterAll(async () => server.close());

  // Buffers go as octet-stream (superagent would wrap them as JSON): the body is read as JSON anyway.
  const post = (route: string, body: string | Buffer) =>
    server.request
      .post(`${BASE}/connections/${connection.id}/${route}`)
      .set('content-type', typeof body === 'string' ? 'application/json' : 'application/octet-stream')
      .send(body);

  it.each(HOSTILE)('answers 400 naming the field to %s', async (_what, route, body, field) => {
    const res = await post(route, body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 0, success: false, data: null });
    expect(res.body.causes.map((cause: { field: string }) => cause.field)).toContain(field);
  });

  it('still reads a decimal number string as a number, and a safe integer id as its digits', async () => {
    const res = await post('issues', `{${ISSUE},"issueKey":9007199254740991,"storyPoint":"1.5e1"}`);
    expect(res.status).toBe(200);
    expect(res.body.data.issueId).toBe(`webhook:${connection.id}:9007199254740991`);
  });

  it('answers 400 to a body that is not valid UTF-8, rather than storing U+FFFD', async () => {
    const broken = Buffer.concat([
      Buffer.from(`{${ISSUE},"issueKey":"K-`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    const res = await post('issues', broken);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/UTF-8/);
    const valid = await post('issues', Buffer.from(`{${ISSUE},"issueKey":"K-é"}`, 'utf8'));
    expect(valid.status).toBe(200);
    expect(valid.body.data.issueId).toBe(`webhook:${connection.id}:K-é`);
  });

  it('refuses general key names that a connection key takes, whatever the case or trailing spaces', async () => {
    for (const name of ['webhook-7 ', 'WEBHOOK-7', `webhook-${connection.id + 1}  `]) {
      const res = await server.request.post('/api/api-keys').send({ name, allowedPath: '.*' });
      expect(res.status).toBe(400);
      expect(res.body.causes).toEqual([{ field: 'name', message: expect.stringMatching(/reserved/) }]);
    }
    const next = await server.request.post(`${BASE}/connections`).send({ name: 'after the reserved names' });
    expect(next.status).toBe(200);
  });

  it('logs the statement of an unexpected database error without its values (a key’s HMAC)', async () => {
    const key = 'Z'.repeat(128);
    const hmac = hashApiKey(SECRET, key);
    const runner = server.db.dataSource;
    await runner.query('ALTER TABLE _devlake_api_keys RENAME TO _devlake_api_keys_away');
    try {
      const res = await post('issues', `{${ISSUE},"issueKey":"A"}`).set('authorization', `Bearer ${key}`);
      expect(res.status).toBe(500);
    } finally {
      await runner.query('ALTER TABLE _devlake_api_keys_away RENAME TO _devlake_api_keys');
    }
    const unexpected = logged.filter((line) => /unexpected error/.test(line));
    expect(unexpected.length).toBeGreaterThan(0);
    expect(unexpected.join('\n')).toMatch(/SELECT .*_devlake_api_keys/);
    for (const line of logged) {
      expect(line).not.toContain(hmac);
      expect(line).not.toContain(key);
    }
  });
});
