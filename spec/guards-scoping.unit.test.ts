import { EventEmitter } from 'node:events';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import type { ApiKey } from '../src/auth/api-key.entity';
import { CONNECTION_KEY_TYPE, GENERAL_KEY_TYPE, type ApiKeyService } from '../src/auth/api-key.service';
import { readAuthorization } from '../src/auth/credentials';
import {
  actAs,
  comesFromAnotherSite,
  createGuards,
  pathForKeyRule,
  principalName,
  principalOf,
  type Principal,
} from '../src/auth/guards';
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

/**
 * A request the guards neither answer nor pass on would leave its client waiting until the
 * test times out, and so would every later one: the fixture answers such a request 504 after
 * a few seconds, and the tests after it fail at once, so that a guard that hangs fails this
 * file in seconds (and a mutant that makes it hang is caught quickly).
 */
const NO_ANSWER_MS = 3_000;
let stalled: string | undefined;
beforeEach(() => {
  if (stalled) throw new Error(`an earlier request got no answer (${stalled}): the guards hang`);
});

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
  key('generalConn12Admin', { allowedPath: '/plugins/webhook/connections/12(/.*)?' }),
  key('generalConn100', { allowedPath: '/plugins/webhook/connections/100/.*' }),
  key('generalConn100Admin', { allowedPath: '/plugins/webhook/connections/100(/.*)?' }),
  key('generalTeamA', { allowedPath: '/plugins/webhook/connections/by-name/team-a/.*' }),
  key('generalTeamAAdmin', { allowedPath: '/plugins/webhook/connections/by-name/team-a(/.*)?' }),
  key('generalUnderDevlake', { allowedPath: '/devlake/plugins/webhook/connections/12/.*' }),
]);
const idOf = (plaintext: string) => (KEYS.get(plaintext) as ApiKey).id;

interface Fixture {
  app: express.Express;
  lines: LogLine[];
  lookups: string[];
  uses: number[];
  /** Who each refused request was authenticated as, seen by what runs after the refusal. */
  refusedAs: Principal['kind'][];
}

function fixture(settings: Partial<WebhookPluginOptions> = {}, requireApiKey = false, noteUseFailure?: Error): Fixture {
  const lines: LogLine[] = [];
  const lookups: string[] = [];
  const uses: number[] = [];
  const refusedAs: Principal['kind'][] = [];
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
  // What the plugin's replay (a host principal) and its native sources (a signature) do.
  const as =
    (principal: Principal): RequestHandler =>
    (_req, res, next) => {
      actAs(res, principal);
      next();
    };
  const signature: Principal = { kind: 'signature', source: 'github' };
  // Mounted as a host mounts the plugin's router: at the root, under /api and under /rest.
  const router = express.Router();
  router.post(
    '/plugins/webhook/connections/:connectionId/deployments',
    guards.authenticate,
    connectionFromPath,
    guards.ingestion,
    who,
  );
  router.all('/plugins/webhook/connections', guards.authenticate, guards.admin, who);
  // Admin routes that hang under one connection, by id and by name.
  router.get('/plugins/webhook/connections/:connectionId/activity', guards.authenticate, guards.admin, who);
  router.get('/plugins/webhook/connections/:connectionId/events/:eventId', guards.authenticate, guards.admin, who);
  router.get('/plugins/webhook/connections/by-name/:connectionName/activity', guards.authenticate, guards.admin, who);
  router.post(
    '/replayed/:connectionId/deployments',
    as({ kind: 'host' }),
    guards.authenticate,
    connectionFromPath,
    guards.ingestion,
    who,
  );
  router.post(
    '/signed/:connectionId/deployments',
    as(signature),
    guards.authenticate,
    connectionFromPath,
    guards.ingestion,
    who,
  );
  router.get('/signed/connections', as(signature), guards.authenticate, guards.admin, who);
  const app = express();
  app.use((req, res, next) => {
    const timer = setTimeout(() => {
      stalled = `${req.method} ${req.originalUrl}`;
      res.status(504).json({ message: 'the guards neither answered nor went on' });
    }, NO_ANSWER_MS);
    res.on('close', () => clearTimeout(timer));
    next();
  });
  app.use('/api', router);
  app.use('/rest', router);
  app.use('/devlake', router);
  app.use(router);
  const observeRefusal: ErrorRequestHandler = (error, _req, res, next) => {
    refusedAs.push(principalOf(res).kind);
    next(error);
  };
  app.use(observeRefusal);
  app.use(errorHandler(options.logger));
  return { app, lines, lookups, uses, refusedAs };
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

describe("a connection's key without its connection", () => {
  it('is, to what runs after the refusal (the event log names the sender), a key of no connection', async () => {
    const f = fixture();
    expect((await post(f, 12, 'connNoExtra')).status).toBe(403);
    expect((await post(f, 12, 'conn12')).status).toBe(200);
    expect((await post(f, 1, 'conn12')).status).toBe(403);
    expect(f.refusedAs).toEqual(['general-key', 'connection-key']);
  });
});

describe('a rule for the routes under one connection must open the connection itself (admin)', () => {
  const admin = (f: Fixture, path: string, plaintext: string) =>
    request(f.app).get(path).set('Authorization', `Bearer ${plaintext}`);

  it.each([
    ['generalConn12', '/plugins/webhook/connections/12/activity'],
    ['generalConn12', '/api/plugins/webhook/connections/12/activity'],
    ['generalConn12', '/plugins/webhook/connections/12/events/7'],
    ['generalConn100', '/plugins/webhook/connections/100/activity'],
    ['generalTeamA', '/plugins/webhook/connections/by-name/team-a/activity'],
  ])('refuses %s, whose rule opens only what lies under the connection, on %s', async (plaintext, path) => {
    const f = fixture();
    const res = await admin(f, path, plaintext);
    expect(res.status).toBe(403);
    expect(res.body.message).toBe('this API key is not allowed on this path');
  });

  it.each([
    ['generalConn12Admin', '/plugins/webhook/connections/12/activity'],
    ['generalConn12Admin', '/rest/plugins/webhook/connections/12/events/7'],
    ['generalConn100Admin', '/plugins/webhook/connections/100/activity'],
    ['generalTeamAAdmin', '/plugins/webhook/connections/by-name/team-a/activity'],
  ])('lets %s, whose rule also opens the connection, in on %s', async (plaintext, path) => {
    const f = fixture();
    const res = await admin(f, path, plaintext);
    expect(res.status).toBe(200);
    expect(res.body.kind).toBe('general-key');
  });

  it('holds a connection named by id to its own rule: 12 opens neither 1 nor 120', async () => {
    const f = fixture();
    expect((await admin(f, '/plugins/webhook/connections/120/activity', 'generalConn12Admin')).status).toBe(403);
    expect((await admin(f, '/plugins/webhook/connections/1/activity', 'generalConn12Admin')).status).toBe(403);
  });

  it('checks the connection even when a later segment holds a line separator', async () => {
    const f = fixture();
    const res = await admin(f, '/plugins/webhook/connections/12/events/%E2%80%A8', 'generalConn12');
    expect(res.status).toBe(403);
  });
});

describe('the path a rule is matched against', () => {
  const at = (originalUrl: string) => pathForKeyRule({ originalUrl, url: originalUrl } as Request);

  it('drops only a leading /api or /rest, never a connection named api or rest', () => {
    expect(at('/api/plugins/webhook/connections/by-name/rest/deployments')).toBe(
      '/plugins/webhook/connections/by-name/rest/deployments',
    );
    expect(at('/rest/plugins/webhook/connections/by-name/api/deployments')).toBe(
      '/plugins/webhook/connections/by-name/api/deployments',
    );
    expect(at('/plugins/webhook/connections/by-name/api/deployments')).toBe(
      '/plugins/webhook/connections/by-name/api/deployments',
    );
  });

  it("is the whole path the client asked for, the host's own mount point included", async () => {
    const f = fixture();
    expect((await post(f, 12, 'generalUnderDevlake', '/devlake')).status).toBe(200);
    expect((await post(f, 12, 'generalConn12', '/devlake')).status).toBe(403);
    expect((await post(f, 12, 'generalUnderDevlake')).status).toBe(403);
  });
});

describe('a principal the request already carries (a replay, a signed delivery)', () => {
  it('sees, without the guards, an anonymous sender', () => {
    expect(principalOf({ locals: {} } as Response)).toEqual({ kind: 'anonymous' });
  });

  it('runs a replay as the principal it names, looking no key up', async () => {
    const f = fixture({ basicAuth: { username: 'admin', password: 'secret' } });
    const res = await request(f.app).post('/replayed/12/deployments').set('Authorization', 'Bearer unknown');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ kind: 'host', name: null });
    expect(f.lookups).toEqual([]);
  });

  it('keeps a signed delivery out of the generic ingestion and admin routes (401)', async () => {
    const f = fixture();
    for (const path of ['/signed/12/deployments', '/signed/connections']) {
      const res = await (path.endsWith('deployments') ? request(f.app).post(path) : request(f.app).get(path));
      expect({ path, status: res.status, message: res.body.message }).toEqual({
        path,
        status: 401,
        message: 'authentication required',
      });
      expect(res.headers['www-authenticate']).toBe('Basic realm="devlake-webhook", Bearer realm="devlake-webhook"');
    }
  });
});

describe('ingestion for those who may do everything', () => {
  const basicAuth = { username: 'admin', password: 'secret' };

  it('lets open mode, Basic credentials and the host post to any connection', async () => {
    const open = fixture();
    expect((await request(open.app).post('/plugins/webhook/connections/5/deployments')).body).toEqual({
      kind: 'anonymous',
      name: null,
    });
    const basic = fixture({ basicAuth });
    const res = await request(basic.app)
      .post('/plugins/webhook/connections/5/deployments')
      .auth(basicAuth.username, basicAuth.password);
    expect(res.body).toEqual({ kind: 'basic', name: 'admin' });
    const host = fixture({ adminAuthenticator: (_req, _res, next) => next() });
    expect((await request(host.app).post('/plugins/webhook/connections/5/deployments')).body).toEqual({
      kind: 'host',
      name: null,
    });
  });
});

describe('wrong passwords, counted per user name and address', () => {
  const basicAuth = { username: 'admin', password: 'secret' };
  const rateLimit = { failedPasswords: 2, failedPasswordWindowMs: 60_000 };
  const list = (f: Fixture, username: string, password: string) =>
    request(f.app).get('/plugins/webhook/connections').auth(username, password);

  it('refuses (429) the user name after too many wrong passwords, even with the right one, and logs it', async () => {
    const f = fixture({ basicAuth, rateLimit });
    expect((await list(f, 'admin', 'wrong')).status).toBe(401);
    expect((await list(f, 'admin', 'wrong')).status).toBe(401);
    const locked = await list(f, 'admin', 'secret');
    expect(locked.status).toBe(429);
    expect(locked.body.message).toBe('too many wrong passwords for this user name from this address; retry after 60 s');
    expect(f.lines.filter((line) => line.msg === 'request refused').map((line) => line.obj)).toContainEqual(
      expect.objectContaining({ status: 429, reason: 'too many wrong passwords', apiKeyId: undefined }),
    );
    // Another user name from the same address is not locked.
    expect((await list(f, 'someone', 'wrong')).status).toBe(401);
  });

  it('clears the count with the right password', async () => {
    const f = fixture({ basicAuth, rateLimit });
    expect((await list(f, 'admin', 'wrong')).status).toBe(401);
    expect((await list(f, 'admin', 'secret')).status).toBe(200);
    expect((await list(f, 'admin', 'wrong')).status).toBe(401);
    expect((await list(f, 'admin', 'secret')).status).toBe(200);
  });
});

describe('state-changing requests a page of another site sends with the browser’s credentials', () => {
  const basicAuth = { username: 'admin', password: 'secret' };
  const CROSS_SITE =
    'refused: a state-changing request sent by a page of another site with the browser’s credentials ' +
    '(Origin or Sec-Fetch-Site). Scripts and CI systems send no Origin; or use Authorization: Bearer <key>';
  const probe = (f: Fixture, method: 'get' | 'head' | 'options' | 'post' | 'put' | 'patch' | 'delete') =>
    request(f.app)[method]('/plugins/webhook/connections');

  it.each([['post'], ['put'], ['patch'], ['delete']] as const)(
    'refuses (403) a %s from another origin in open mode, and logs it',
    async (method) => {
      const f = fixture();
      const res = await probe(f, method).set('Origin', 'https://evil.example');
      expect(res.status).toBe(403);
      expect(res.body.message).toBe(CROSS_SITE);
      expect(f.lines.filter((line) => line.msg === 'request refused').map((line) => line.obj)).toEqual([
        expect.objectContaining({ status: 403, apiKeyId: undefined, reason: 'cross-site request' }),
      ]);
    },
  );

  it.each([['get'], ['head'], ['options']] as const)('lets a %s from another origin through', async (method) => {
    const f = fixture();
    expect((await probe(f, method).set('Origin', 'https://evil.example')).status).toBe(200);
    expect((await probe(f, method).set('Sec-Fetch-Site', 'cross-site')).status).toBe(200);
  });

  it.each([
    ['an Origin of another host', { Origin: 'https://evil.example' }],
    ['an Origin of another port', { Origin: 'http://webhook.example:9090' }],
    ['the Origin "null" (a sandboxed page, a file)', { Origin: 'null' }],
    ['an Origin that is no URL', { Origin: 'webhook.example:8080' }],
    ['no Origin and Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site' }],
    ['no Origin and Sec-Fetch-Site: same-site (another port or subdomain)', { 'Sec-Fetch-Site': 'same-site' }],
  ])('refuses a post with %s', async (_label, headers) => {
    const f = fixture();
    const res = await probe(f, 'post').set('Host', 'webhook.example:8080').set(headers);
    expect(res.status).toBe(403);
  });

  it.each([
    ['an Origin of this host and port', { Origin: 'http://webhook.example:8080' }],
    ['an Origin of this host in other letter case, over another scheme', { Origin: 'https://WebHook.Example:8080' }],
    ['no Origin and Sec-Fetch-Site: same-origin', { 'Sec-Fetch-Site': 'same-origin' }],
    ['no Origin and Sec-Fetch-Site: none (typed by the user)', { 'Sec-Fetch-Site': 'none' }],
    ['neither header (curl, a CI system)', {}],
  ])('lets a post through with %s', async (_label, headers) => {
    const f = fixture();
    const res = await probe(f, 'post').set('Host', 'WebHook.example:8080').set(headers);
    expect(res.status).toBe(200);
  });

  it('takes an Origin sent without a Host header (HTTP/1.0) as another site', () => {
    expect(comesFromAnotherSite({ headers: { origin: 'https://webhook.example' } } as Request)).toBe(true);
  });

  it("refuses it with Basic credentials or the host's authenticator, but not with a key (no browser sends one)", async () => {
    const basic = fixture({ basicAuth });
    const withBasic = await probe(basic, 'post').auth('admin', 'secret').set('Origin', 'https://evil.example');
    expect(withBasic.status).toBe(403);
    const host = fixture({ adminAuthenticator: (_req, _res, next) => next() });
    expect((await probe(host, 'post').set('Origin', 'https://evil.example')).status).toBe(403);
    const keyed = fixture({ basicAuth });
    expect((await post(keyed, 12, 'conn12').set('Origin', 'https://evil.example')).status).toBe(200);
    expect(
      (await probe(keyed, 'post').set('Authorization', 'Bearer generalAll').set('Origin', 'https://evil.example'))
        .status,
    ).toBe(200);
  });
});

describe("the guards' wait for the host's authenticator", () => {
  // Called directly, with a response that only emits what the host's authenticator makes it
  // emit, to see the guard settle (or not) and what it leaves behind.
  function exchange() {
    const res = Object.assign(new EventEmitter(), { locals: {}, setHeader: () => undefined });
    const req = {
      method: 'GET',
      headers: {},
      originalUrl: '/plugins/webhook/connections',
      url: '/plugins/webhook/connections',
      ip: '127.0.0.1',
    };
    return { req: req as unknown as Request, res: res as unknown as Response & EventEmitter };
  }

  function guardsWith(adminAuthenticator: RequestHandler) {
    const options = resolveOptions({
      dataSource: {} as DataSource,
      rateLimit: false,
      logger: recordingLogger([]),
      adminAuthenticator,
    });
    return createGuards(options, {} as ApiKeyService, false);
  }

  /** 'settled' once the guard's promise resolves; 'waiting' when it still waits after 500 ms. */
  async function outcome(run: unknown): Promise<'settled' | 'waiting'> {
    let timer: NodeJS.Timeout | undefined;
    const waiting = new Promise<'waiting'>((resolve) => {
      timer = setTimeout(() => resolve('waiting'), 500);
    });
    try {
      return await Promise.race([Promise.resolve(run).then(() => 'settled' as const), waiting]);
    } finally {
      clearTimeout(timer);
    }
  }

  it.each([
    ['answers the request itself (the response finishes)', 'finish'],
    ['waits until the client goes away (the response closes)', 'close'],
  ])('stops, without going on, when the host %s', async (_label, event) => {
    const guards = guardsWith((_req, res) => void res.emit(event));
    for (const guard of [guards.authenticate, guards.admin, guards.ingestion]) {
      const { req, res } = exchange();
      const next = jest.fn();
      expect(await outcome(guard(req, res, next))).toBe('settled');
      expect(next).not.toHaveBeenCalled();
    }
  });

  it('authenticates in the ingestion guard itself when no guard did before it', async () => {
    const guards = guardsWith((_req, _res, next) => void setImmediate(() => next()));
    const { req, res } = exchange();
    res.locals.webhookConnection = { id: 1 };
    const next = jest.fn();
    expect(await outcome(guards.ingestion(req, res, next))).toBe('settled');
    expect(next).toHaveBeenCalledWith();
    expect(principalOf(res)).toEqual({ kind: 'host' });
  });

  it('lets an authenticated request through the ingestion guard at once, without waiting for a promise', async () => {
    const guards = guardsWith((_req, _res, next) => void setImmediate(() => next()));
    const { req, res } = exchange();
    await outcome(guards.authenticate(req, res, jest.fn()));
    res.locals.webhookConnection = { id: 1 };
    const next = jest.fn();
    void guards.ingestion(req, res, next);
    // Decided in the same turn: the hot path of every ingestion request.
    expect(next).toHaveBeenCalledWith();
  });

  it('goes on as the host when its authenticator calls next() later (a session looked up)', async () => {
    const guards = guardsWith((_req, _res, next) => void setImmediate(() => next()));
    const { req, res } = exchange();
    const next = jest.fn();
    expect(await outcome(guards.admin(req, res, next))).toBe('settled');
    expect(next).toHaveBeenCalledWith();
    expect(principalOf(res)).toEqual({ kind: 'host' });
    // It leaves no listener on the response.
    expect([res.listenerCount('finish'), res.listenerCount('close')]).toEqual([0, 0]);
  });
});
