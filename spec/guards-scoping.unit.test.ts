import express, { type RequestHandler } from 'express';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import type { ApiKey } from '../src/auth/api-key.entity';
import { CONNECTION_KEY_TYPE, GENERAL_KEY_TYPE, type ApiKeyService } from '../src/auth/api-key.service';
import { readAuthorization } from '../src/auth/credentials';
import { createGuards, principalName, principalOf } from '../src/auth/guards';
import { errorHandler } from '../src/http/error-handler';
import type { Logger } from '../src/logger';
import { resolveOptions, type WebhookPluginOptions } from '../src/options';

// Who may do what with which credentials, over real HTTP against a small Express app that
// mounts the guards the way the plugin's routers do. The key store is an in-memory stand-in
// for ApiKeyService (its database side is covered by the auth integration tests): these
// tests are about the decisions the guards take once a key is found.

interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: object | string;
  msg?: string;
}

function recordingLogger(lines: LogLine[]): Logger {
  const at =
    (level: LogLine['level']) =>
    (obj: object | string, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

let nextKeyId = 1;
function key(plaintext: string, fields: Partial<ApiKey>): [string, ApiKey] {
  const apiKey = {
    id: nextKeyId++,
    name: `key ${plaintext}`,
    apiKey: 'hash',
    type: GENERAL_KEY_TYPE,
    allowedPath: '.*',
    extra: null,
    expiredAt: null,
    createdAt: null,
    updatedAt: null,
    creator: null,
    creatorEmail: null,
    updater: null,
    updaterEmail: null,
    ...fields,
  } as ApiKey;
  return [plaintext, apiKey];
}

const connectionKey = (plaintext: string, extra: string | null) =>
  key(plaintext, { type: CONNECTION_KEY_TYPE, extra, allowedPath: '.*' });

const KEYS = new Map<string, ApiKey>([
  connectionKey('conn1', 'connectionId:1'),
  connectionKey('conn2', 'connectionId:2'),
  connectionKey('conn10', 'connectionId:10'),
  connectionKey('conn12', 'connectionId:12'),
  connectionKey('conn100', 'connectionId:100'),
  connectionKey('connPrefixed', 'xconnectionId:12'),
  connectionKey('connSuffixed', 'connectionId:12x'),
  connectionKey('connEmpty', 'connectionId:'),
  connectionKey('connNoExtra', null),
  key('generalAll', { allowedPath: '.*' }),
  key('generalConn12', { allowedPath: '/plugins/webhook/connections/12/.*' }),
  key('generalAdmin', { allowedPath: '/plugins/webhook/connections' }),
  key('generalNoPath', { allowedPath: null as unknown as string }),
  key('otherTypeWithConnection', { type: 'devlake', extra: 'connectionId:12' }),
  key('expired', { expiredAt: new Date(Date.now() - 60_000) }),
  key('notYetExpired', { expiredAt: new Date(Date.now() + 3_600_000) }),
  key('expiresAtNoon', { expiredAt: new Date('2026-03-02T12:00:00Z') }),
  key('noteUseFails', { allowedPath: '.*' }),
]);
const idOf = (plaintext: string) => (KEYS.get(plaintext) as ApiKey).id;

interface Fixture {
  app: express.Express;
  lines: LogLine[];
  lookups: string[];
  uses: number[];
}

function fixture(settings: Partial<WebhookPluginOptions> = {}, requireApiKey = false, noteUseFailure?: Error): Fixture {
  const lines: LogLine[] = [];
  const lookups: string[] = [];
  const uses: number[] = [];
  const apiKeys = {
    findByPlaintext: async (plaintext: string) => {
      lookups.push(plaintext);
      return KEYS.get(plaintext) ?? null;
    },
    noteUse: (id: number) => {
      uses.push(id);
      if (noteUseFailure && id === idOf('noteUseFails')) return Promise.reject(noteUseFailure);
      return undefined;
    },
  } as unknown as ApiKeyService;
  const options = resolveOptions({
    dataSource: {} as DataSource,
    rateLimit: false,
    logger: recordingLogger(lines),
    ...settings,
  });
  const guards = createGuards(options, apiKeys, requireApiKey);
  const connectionFromPath: RequestHandler = (req, res, next) => {
    res.locals.webhookConnection = { id: Number(req.params.connectionId), name: `c${req.params.connectionId}` };
    next();
  };
  const who: RequestHandler = (_req, res) => {
    res.json({ kind: principalOf(res).kind, name: principalName(res) });
  };
  // Mounted as a host mounts the plugin's router: at the root, under /api and under /rest.
  const router = express.Router();
  router.post(
    '/plugins/webhook/connections/:connectionId/deployments',
    guards.authenticate,
    connectionFromPath,
    guards.ingestion,
    who,
  );
  router.get('/plugins/webhook/connections', guards.authenticate, guards.admin, who);
  const app = express();
  app.use('/api', router);
  app.use('/rest', router);
  app.use(router);
  app.use(errorHandler(options.logger));
  return { app, lines, lookups, uses };
}

const post = (f: Fixture, connectionId: number, plaintext: string, prefix = '') =>
  request(f.app)
    .post(`${prefix}/plugins/webhook/connections/${connectionId}/deployments`)
    .set('Authorization', `Bearer ${plaintext}`);

describe("a connection's key posts to its own connection only", () => {
  it.each([
    ['conn1', 1],
    ['conn10', 10],
    ['conn12', 12],
    ['conn100', 100],
  ])('the key of connection %s posts to connection %i', async (plaintext, connectionId) => {
    const f = fixture();
    const res = await post(f, connectionId, plaintext);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ kind: 'connection-key', name: null });
  });

  it.each([
    ['conn1', 10],
    ['conn1', 100],
    ['conn1', 2],
    ['conn2', 1],
    ['conn10', 1],
    ['conn10', 100],
    ['conn12', 1],
    ['conn12', 2],
    ['conn12', 120],
    ['conn100', 1],
    ['conn100', 10],
    ['conn100', 1000],
  ])('the key of %s is refused (403) on connection %i', async (plaintext, connectionId) => {
    const f = fixture();
    const res = await post(f, connectionId, plaintext);
    expect(res.status).toBe(403);
    expect(res.body.message).toBe(`this API key is not allowed to post to connection ${connectionId}`);
  });

  it('reads the connection from the whole of `extra` (connectionId:<digits> and nothing else)', async () => {
    const f = fixture();
    for (const plaintext of ['connPrefixed', 'connSuffixed', 'connEmpty', 'connNoExtra']) {
      const res = await post(f, 12, plaintext);
      expect({ plaintext, status: res.status }).toEqual({ plaintext, status: 403 });
    }
  });

  it('treats a key of another type as a general key even when `extra` names a connection', async () => {
    const f = fixture();
    const res = await post(f, 1, 'otherTypeWithConnection');
    expect(res.status).toBe(200);
    expect(res.body.kind).toBe('general-key');
  });

  it('keeps every connection key, with or without its connection, out of the admin API', async () => {
    const f = fixture();
    for (const plaintext of ['conn12', 'connNoExtra', 'connPrefixed']) {
      const res = await request(f.app).get('/plugins/webhook/connections').set('Authorization', `Bearer ${plaintext}`);
      expect({ plaintext, status: res.status, message: res.body.message }).toEqual({
        plaintext,
        status: 403,
        message: "a connection's API key only posts data to its own connection; it cannot use the admin API",
      });
    }
  });

  it('accepts the key in the /api and /rest forms of the path too', async () => {
    const f = fixture();
    expect((await post(f, 12, 'conn12', '/api')).status).toBe(200);
    expect((await post(f, 12, 'conn12', '/rest')).status).toBe(200);
    expect((await post(f, 1, 'conn12', '/rest')).status).toBe(403);
  });
});

describe('a general key is held to its anchored path rule, without the /api or /rest prefix', () => {
  it('posts where its rule matches the path and nowhere else', async () => {
    const f = fixture();
    expect((await post(f, 12, 'generalConn12')).status).toBe(200);
    expect((await post(f, 12, 'generalConn12', '/api')).status).toBe(200);
    expect((await post(f, 12, 'generalConn12', '/rest')).status).toBe(200);
    expect((await post(f, 1, 'generalConn12')).status).toBe(403);
    expect((await post(f, 120, 'generalConn12')).status).toBe(403);
  });

  it('uses the admin API where its rule matches, and only there', async () => {
    const f = fixture();
    const admin = (prefix: string, plaintext: string) =>
      request(f.app).get(`${prefix}/plugins/webhook/connections?x=1`).set('Authorization', `Bearer ${plaintext}`);
    const allowed = await admin('/api', 'generalAdmin');
    expect(allowed.status).toBe(200);
    expect(allowed.body).toEqual({ kind: 'general-key', name: 'key generalAdmin' });
    const refused = await admin('', 'generalConn12');
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe('this API key is not allowed on this path');
    expect((await post(f, 12, 'generalAdmin')).status).toBe(403);
  });

  it('allows nothing to a key without a rule', async () => {
    const f = fixture();
    expect((await post(f, 1, 'generalNoPath')).status).toBe(403);
    const res = await request(f.app).get('/plugins/webhook/connections').set('Authorization', 'Bearer generalNoPath');
    expect(res.status).toBe(403);
  });

  it('records the use of a key on allowed requests only', async () => {
    const f = fixture();
    await post(f, 12, 'conn12');
    await post(f, 1, 'conn12');
    await request(f.app).get('/plugins/webhook/connections').set('Authorization', 'Bearer generalAdmin');
    await request(f.app).get('/plugins/webhook/connections').set('Authorization', 'Bearer generalConn12');
    expect(f.uses).toEqual([idOf('conn12'), idOf('generalAdmin')]);
  });

  it('logs, at debug and without failing the request, a use that could not be recorded', async () => {
    const f = fixture({}, false, new Error('database is down'));
    const res = await post(f, 1, 'noteUseFails');
    expect(res.status).toBe(200);
    await new Promise((resolve) => setImmediate(resolve));
    expect(f.lines).toContainEqual({
      level: 'debug',
      obj: { err: new Error('database is down'), apiKeyId: idOf('noteUseFails') },
      msg: 'could not record API key use',
    });
  });
});

describe('keys that do not authenticate', () => {
  it('answers 401 with both challenges for an unknown key', async () => {
    const f = fixture();
    const res = await post(f, 1, 'unknown');
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('the API key is not valid');
    expect(res.headers['www-authenticate']).toBe('Basic realm="devlake-webhook", Bearer realm="devlake-webhook"');
  });

  it('answers 401 for an expired key and accepts one that expires later', async () => {
    const f = fixture();
    const expired = await post(f, 1, 'expired');
    expect(expired.status).toBe(401);
    expect(expired.body.message).toBe('the API key has expired');
    expect((await post(f, 1, 'notYetExpired')).status).toBe(200);
  });

  it('takes a key as expired from the very instant of its expiry', async () => {
    const f = fixture();
    const now = jest.spyOn(Date, 'now');
    try {
      now.mockReturnValue(Date.parse('2026-03-02T11:59:59.999Z'));
      expect((await post(f, 1, 'expiresAtNoon')).status).toBe(200);
      now.mockReturnValue(Date.parse('2026-03-02T12:00:00Z'));
      expect((await post(f, 1, 'expiresAtNoon')).status).toBe(401);
    } finally {
      now.mockRestore();
    }
  });

  it('answers 401 for a malformed Authorization header', async () => {
    const f = fixture();
    const res = await request(f.app).get('/plugins/webhook/connections').set('Authorization', 'Bearer a-b');
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('the API key is malformed');
  });

  it('looks a key up once per request, though two guards ask who sent it', async () => {
    const f = fixture();
    await post(f, 12, 'conn12');
    expect(f.lookups).toEqual(['conn12']);
  });
});

describe('the refusal log line', () => {
  it('names status, method, path without the query, address, key id and reason, never the key', async () => {
    const f = fixture();
    await request(f.app)
      .post('/api/plugins/webhook/connections/1/deployments?token=conn12')
      .set('Authorization', 'Bearer conn12');
    const refusals = f.lines.filter((line) => line.msg === 'request refused');
    expect(refusals).toHaveLength(1);
    expect(refusals[0].level).toBe('info');
    expect(refusals[0].obj).toEqual({
      status: 403,
      method: 'POST',
      path: '/api/plugins/webhook/connections/1/deployments',
      ip: expect.stringMatching(/127\.0\.0\.1|::1/),
      apiKeyId: idOf('conn12'),
      reason: 'this API key is not allowed to post to connection 1',
    });
    expect(JSON.stringify(f.lines)).not.toContain('conn12');
  });

  it('logs a 401 without a key id', async () => {
    const f = fixture();
    await post(f, 1, 'unknown');
    expect(f.lines.filter((line) => line.msg === 'request refused').map((line) => line.obj)).toEqual([
      expect.objectContaining({ status: 401, method: 'POST', apiKeyId: undefined, reason: 'the API key is not valid' }),
    ]);
    expect(JSON.stringify(f.lines)).not.toContain('unknown');
  });
});

describe('Basic credentials, the host authenticator and open mode', () => {
  const basicAuth = { username: 'admin', password: 'pa:ss' };
  const basic = (username: string, password: string) =>
    `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

  it('lets the right Basic credentials in, naming the user, and refuses wrong ones', async () => {
    const f = fixture({ basicAuth });
    const ok = await request(f.app).get('/plugins/webhook/connections').set('Authorization', basic('admin', 'pa:ss'));
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ kind: 'basic', name: 'admin' });
    const wrong = await request(f.app).get('/plugins/webhook/connections').set('Authorization', basic('admin', 'pa'));
    expect(wrong.status).toBe(401);
    expect(wrong.body.message).toBe('wrong username or password');
  });

  it('asks for credentials when Basic is configured and none are sent', async () => {
    const f = fixture({ basicAuth });
    const res = await request(f.app).get('/plugins/webhook/connections');
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('authentication required: send Basic credentials or Authorization: Bearer <key>');
  });

  it('still lets a connection key post when Basic is configured', async () => {
    const f = fixture({ basicAuth });
    expect((await post(f, 12, 'conn12')).status).toBe(200);
  });

  it('accepts only a Bearer key on the /rest form, with a Bearer challenge', async () => {
    const f = fixture({ basicAuth }, true);
    const res = await request(f.app)
      .get('/rest/plugins/webhook/connections')
      .set('Authorization', basic('admin', 'pa:ss'));
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('this route needs an API key: send Authorization: Bearer <key>');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="devlake-webhook"');
    expect((await post(f, 12, 'conn12', '/rest')).status).toBe(200);
  });

  it('is open without credentials when nothing is configured, but still checks a key that is sent', async () => {
    const f = fixture();
    const open = await request(f.app).get('/plugins/webhook/connections');
    expect(open.status).toBe(200);
    expect(open.body).toEqual({ kind: 'anonymous', name: null });
    expect((await post(f, 1, 'unknown')).status).toBe(401);
    // Basic credentials sent to a server without Basic are not checked either.
    expect(
      (await request(f.app).get('/plugins/webhook/connections').set('Authorization', basic('a', 'b'))).status,
    ).toBe(200);
  });

  it("runs the host's authenticator: next() lets the request in as the host", async () => {
    const f = fixture({ adminAuthenticator: (_req, _res, next) => next() });
    const res = await request(f.app).get('/plugins/webhook/connections');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ kind: 'host', name: null });
  });

  it("leaves the answer to the host's authenticator when it answers itself", async () => {
    const f = fixture({ adminAuthenticator: (_req, res) => void res.status(302).set('Location', '/login').end() });
    const res = await request(f.app).get('/plugins/webhook/connections');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/login');
  });

  it("passes on an error of the host's authenticator, whether passed to next, thrown or rejected", async () => {
    const failures: RequestHandler[] = [
      (_req, _res, next) => next(Object.assign(new Error('no session'), { status: 401 })),
      () => {
        throw Object.assign(new Error('no session'), { status: 401 });
      },
      async () => {
        throw Object.assign(new Error('no session'), { status: 401 });
      },
    ];
    for (const adminAuthenticator of failures) {
      const f = fixture({ adminAuthenticator });
      const res = await request(f.app).get('/plugins/webhook/connections');
      expect({ status: res.status, message: res.body.message }).toEqual({ status: 401, message: 'no session' });
    }
  });

  it("prefers Basic credentials to the host's authenticator when both are configured", async () => {
    const f = fixture({ basicAuth, adminAuthenticator: (_req, res) => void res.status(418).end() });
    const res = await request(f.app).get('/plugins/webhook/connections').set('Authorization', basic('admin', 'pa:ss'));
    expect(res.body).toEqual({ kind: 'basic', name: 'admin' });
    expect((await request(f.app).get('/plugins/webhook/connections')).status).toBe(418);
  });
});

describe('reading the Authorization header', () => {
  it('reads no credentials from a missing or blank header', () => {
    expect(readAuthorization(undefined)).toEqual({ kind: 'none' });
    expect(readAuthorization('')).toEqual({ kind: 'none' });
    expect(readAuthorization('   ')).toEqual({ kind: 'none' });
  });

  it('reads the scheme in any case and trims around the credentials', () => {
    expect(readAuthorization('  bEaReR   abc123  ')).toEqual({ kind: 'bearer', key: 'abc123' });
    expect(readAuthorization(`BASIC ${Buffer.from('u:p').toString('base64')}`)).toEqual({
      kind: 'basic',
      username: 'u',
      password: 'p',
    });
  });

  it('accepts keys of 1 to 512 letters and digits', () => {
    expect(readAuthorization('Bearer a')).toEqual({ kind: 'bearer', key: 'a' });
    expect(readAuthorization(`Bearer ${'a'.repeat(512)}`)).toEqual({ kind: 'bearer', key: 'a'.repeat(512) });
    expect(readAuthorization(`Bearer ${'a'.repeat(513)}`)).toEqual({
      kind: 'malformed',
      reason: 'the API key is malformed',
    });
    expect(readAuthorization('Bearer ab.cd')).toEqual({ kind: 'malformed', reason: 'the API key is malformed' });
    expect(readAuthorization('Bearer ab cd')).toEqual({ kind: 'malformed', reason: 'the API key is malformed' });
  });

  it('reads an empty Basic user name or password as given', () => {
    expect(readAuthorization(`Basic ${Buffer.from(':p').toString('base64')}`)).toEqual({
      kind: 'basic',
      username: '',
      password: 'p',
    });
    expect(readAuthorization(`Basic ${Buffer.from('u:').toString('base64')}`)).toEqual({
      kind: 'basic',
      username: 'u',
      password: '',
    });
  });

  it('names the header shape it expects when there is no scheme and credentials', () => {
    expect(readAuthorization('Bearer')).toEqual({
      kind: 'malformed',
      reason: 'the Authorization header is not "<scheme> <credentials>"',
    });
  });
});
