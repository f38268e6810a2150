import type { Request, RequestHandler, Response } from 'express';
import { AuthenticationError, NotAllowedError, RateLimitedError } from '../http/errors';
import { addressOf, passwordGuessLimitFor } from '../http/rate-limit';
import type { ResolvedOptions } from '../options';
import type { ApiKey } from './api-key.entity';
import { CONNECTION_KEY_TYPE, type ApiKeyService } from './api-key.service';
import { createBasicVerifier, REALM } from './basic';
import { readAuthorization } from './credentials';
import { connectionOf } from '../connections/resolve-connection';
import { canonicalPath } from '../http/request-target';
import { loggableError } from '../db/database-errors';
import { RE2JS } from 're2js';

/** Who a request was authenticated as; handlers may read it (e.g. to name a key's creator). */
export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'basic'; username: string }
  | { kind: 'host' }
  | { kind: 'connection-key'; apiKey: ApiKey; connectionId: number }
  | { kind: 'general-key'; apiKey: ApiKey }
  /** A native source's delivery, to be verified by its signature on its route (src/sources). */
  | { kind: 'signature'; source: string };

const PRINCIPAL = 'webhookPrincipal';

export function principalOf(res: Response): Principal {
  return (res.locals[PRINCIPAL] as Principal | undefined) ?? { kind: 'anonymous' };
}

/** Runs the rest of a request as `principal` (a replay, which an administrator started). */
export function actAs(res: Response, principal: Principal): void {
  res.locals[PRINCIPAL] = principal;
}

export function principalName(res: Response): string | null {
  const principal = principalOf(res);
  if (principal.kind === 'basic') return principal.username;
  if (principal.kind === 'general-key') return principal.apiKey.name;
  return null;
}

export interface Guards {
  /**
   * Establishes who sends the request (401 when nobody acceptable), without deciding what
   * they may do. Runs before the connection is looked up, so that a request without valid
   * credentials cannot learn which connections exist.
   */
  authenticate: RequestHandler;
  /** Connections, API keys, projects and the admin page. */
  admin: RequestHandler;
  /** Posting data into the connection `resolveConnection` put on the request. */
  ingestion: RequestHandler;
}

/**
 * The request path as DevLake matches a key's `allowed_path` against it: the canonical path
 * the router serves (decoded, no query, fragment or trailing slash; see `canonicalPath`), with
 * the `/api` and `/rest` prefixes removed (docs/devlake-compatibility.md §8). Throws an InputError (400) for a
 * request-target whose path is ambiguous.
 */
export function pathForKeyRule(req: Request): string {
  const path = canonicalPath(req.originalUrl ?? req.url);
  return path.replace(/^\/api(?=\/)/, '').replace(/^\/rest(?=\/)/, '');
}

const compiledRules = new Map<string, RE2JS | null>();

/**
 * A general key's rule, matched against the whole path: DevLake's unanchored match is a hole
 * (docs/devlake-compatibility.md §9). The rule is a Go (RE2) regular expression, as DevLake issues them (`(?i)`,
 * `[[:digit:]]`...), run by a linear-time engine, so no rule can make a request take longer
 * than the path is long (a backtracking engine spends seconds on `(a+)+$`). A rule that does
 * not compile allows nothing.
 */
export function ruleAllows(rule: string, path: string): boolean {
  let compiled = compiledRules.get(rule);
  if (compiled === undefined) {
    try {
      compiled = RE2JS.compile(rule);
    } catch {
      compiled = null;
    }
    if (compiledRules.size > 1000) compiledRules.clear();
    compiledRules.set(rule, compiled);
  }
  return compiled !== null && compiled.matches(path);
}

/** A general key's rule on `path`. A key without a rule (the column may be NULL) allows nothing. */
function keyRuleAllows(key: ApiKey, path: string): boolean {
  // Stryker disable next-line StringLiteral: the empty rule allows nothing (no path is empty), nor does Stryker's stand-in text
  return ruleAllows(key.allowedPath ?? '', path);
}

/**
 * For an admin route that hangs under one connection (`/connections/6/rotate-key`, its
 * activity, its DORA figures), the connection's own path (`/plugins/webhook/connections/6`).
 * A rule must open that too: DevLake's per-connection rule `/plugins/webhook/connections/6/.*`
 * means "post data into connection 6", never "administer connection 6".
 */
function connectionPathOf(path: string): string | undefined {
  // `s`: a segment after the connection's may hold a line separator (U+2028), which must not
  // hide the connection's path from the rule.
  return /(.*?\/connections\/(?:by-name\/[^/]+|(?!by-name\/)[^/]+))\/./s.exec(path)?.[1];
}

function isStateChanging(req: Request): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(req.method);
}

/**
 * True when a browser says the request comes from a page of another origin: its `Origin` is
 * not this server's (scheme aside: a proxy in front may end TLS), or, without `Origin`,
 * `Sec-Fetch-Site` is `cross-site` or `same-site` (another port or subdomain of this host).
 * Browsers attach cached Basic credentials (and a host's session cookies) to such requests,
 * and the body is read as JSON whatever its Content-Type, so a `text/plain` form on any site
 * could post as the admin. Requests without these headers (curl, CI systems) are not browsers'.
 */
export function comesFromAnotherSite(req: Request): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) {
    // `null` (a sandboxed page, a file) is no URL either: another site.
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return true;
    }
    return host.toLowerCase() !== req.headers.host?.toLowerCase();
  }
  const site = req.headers['sec-fetch-site'];
  return site === 'cross-site' || site === 'same-site';
}

function connectionIdOfKey(key: ApiKey): number | undefined {
  const match = key.extra?.match(/^connectionId:(\d+)$/);
  return match ? Number(match[1]) : undefined;
}

/**
 * Runs the host's authenticator as a step of ours. True when it called `next()`; false when it
 * answered the request itself (e.g. its own 401 or a redirect to its login page).
 */
function runHostAuthenticator(host: RequestHandler, req: Request, res: Response): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const answered = () => resolve(false);
    res.once('finish', answered);
    res.once('close', answered);
    const done = (error?: unknown) => {
      res.off('finish', answered);
      res.off('close', answered);
      if (error) reject(error);
      else resolve(true);
    };
    try {
      const result: unknown = host(req, res, done);
      if (result instanceof Promise) result.catch(done);
    } catch (error) {
      done(error);
    }
  });
}

/**
 * Builds the guards of one router. `requireApiKey` is DevLake's `/rest` form, where only a
 * Bearer key is accepted. Who may do what (docs/devlake-compatibility.md §8):
 * - a connection's key: ingestion into its own connection, in every addressing form; nothing else;
 * - a general key: whatever routes its anchored `allowed_path` rule matches, the admin API included;
 * - Basic (`basicAuth`): everything; the host's `adminAuthenticator`: everything, instead of Basic
 *   (Basic still works beside it when `basicAuth` is also set);
 * - nothing configured: everything is open (the standalone server then listens on loopback only),
 *   but a key that is sent is still checked.
 */
export function createGuards(options: ResolvedOptions, apiKeys: ApiKeyService, requireApiKey: boolean): Guards {
  const verifyBasic = options.basicAuth ? createBasicVerifier(options.basicAuth) : undefined;
  // One count for every router of the plugin (and its admin page): they share `options`.
  const guesses = passwordGuessLimitFor(options, options.rateLimit);
  const challenge = requireApiKey ? `Bearer realm="${REALM}"` : `Basic realm="${REALM}", Bearer realm="${REALM}"`;

  /**
   * Logs a refusal for the operator (who knocked, where, why), never the credentials: only
   * the key's id when a valid key was used out of its scope. The path is logged without its
   * query string, which a sender might have filled with anything.
   */
  function logRefusal(req: Request, status: 401 | 403 | 429, reason: string, apiKeyId?: number): void {
    const path = (req.originalUrl ?? req.url).split('?')[0];
    options.logger.info({ status, method: req.method, path, ip: req.ip, apiKeyId, reason }, 'request refused');
  }

  function refuse(req: Request, res: Response, message: string): AuthenticationError {
    logRefusal(req, 401, message);
    res.setHeader('WWW-Authenticate', challenge);
    return new AuthenticationError(message);
  }

  function forbid(req: Request, key: ApiKey, message: string): NotAllowedError {
    logRefusal(req, 403, message, key.id);
    return new NotAllowedError(message);
  }

  function missing(req: Request, res: Response): AuthenticationError {
    return refuse(
      req,
      res,
      requireApiKey
        ? 'this route needs an API key: send Authorization: Bearer <key>'
        : 'authentication required: send Basic credentials or Authorization: Bearer <key>',
    );
  }

  function noteUse(key: ApiKey): void {
    apiKeys.noteUse(key.id)?.catch((error: unknown) => {
      options.logger.debug({ err: loggableError(error), apiKeyId: key.id }, 'could not record API key use');
    });
  }

  /** The principal of the request, or undefined when the host answered it itself. */
  async function establish(req: Request, res: Response): Promise<Principal | undefined> {
    const presented = readAuthorization(req.headers.authorization);
    if (presented.kind === 'malformed') throw refuse(req, res, presented.reason);
    if (presented.kind === 'bearer') {
      const key = await apiKeys.findByPlaintext(presented.key);
      if (!key) throw refuse(req, res, 'the API key is not valid');
      if (key.expiredAt && key.expiredAt.getTime() <= Date.now()) throw refuse(req, res, 'the API key has expired');
      const connectionId = connectionIdOfKey(key);
      return key.type === CONNECTION_KEY_TYPE && connectionId !== undefined
        ? { kind: 'connection-key', apiKey: key, connectionId }
        : { kind: 'general-key', apiKey: key };
    }
    if (requireApiKey) throw missing(req, res);
    if (presented.kind === 'basic' && verifyBasic) {
      const address = addressOf(req);
      const wait = guesses?.lockedFor(presented.username, address) ?? 0;
      if (wait > 0) {
        logRefusal(req, 429, 'too many wrong passwords');
        throw new RateLimitedError(
          `too many wrong passwords for this user name from this address; retry after ${wait} s`,
          wait,
        );
      }
      const username = await verifyBasic(req, res);
      if (username === null) {
        guesses?.failed(presented.username, address);
        throw refuse(req, res, 'wrong username or password');
      }
      guesses?.succeeded(username, address);
      return { kind: 'basic', username };
    }
    if (options.adminAuthenticator) {
      const passed = await runHostAuthenticator(options.adminAuthenticator, req, res);
      return passed ? { kind: 'host' } : undefined;
    }
    if (verifyBasic) throw missing(req, res);
    return { kind: 'anonymous' };
  }

  /** Authenticates once per request, whichever guard asks first. */
  async function authenticated(req: Request, res: Response): Promise<Principal | undefined> {
    const known = res.locals[PRINCIPAL] as Principal | undefined;
    if (known) return known;
    const principal = await establish(req, res);
    if (!principal) return undefined;
    const crossSite = principal.kind === 'basic' || principal.kind === 'anonymous' || principal.kind === 'host';
    if (crossSite && isStateChanging(req) && comesFromAnotherSite(req)) {
      const message =
        'refused: a state-changing request sent by a page of another site with the browser’s credentials ' +
        '(Origin or Sec-Fetch-Site). Scripts and CI systems send no Origin; or use Authorization: Bearer <key>';
      logRefusal(req, 403, 'cross-site request');
      throw new NotAllowedError(message);
    }
    res.locals[PRINCIPAL] = principal;
    return principal;
  }

  const authenticate: RequestHandler = async (req, res, next) => {
    if (await authenticated(req, res)) next();
  };

  const admin: RequestHandler = async (req, res, next) => {
    const principal = await authenticated(req, res);
    if (!principal) return;
    if (principal.kind === 'signature') throw refuse(req, res, 'authentication required');
    // A `plugin:webhook` key without its connection in `extra` is still a connection's key.
    if (
      principal.kind === 'connection-key' ||
      (principal.kind === 'general-key' && principal.apiKey.type === CONNECTION_KEY_TYPE)
    ) {
      throw forbid(
        req,
        principal.apiKey,
        "a connection's API key only posts data to its own connection; it cannot use the admin API",
      );
    }
    if (principal.kind === 'general-key') {
      const path = pathForKeyRule(req);
      const connectionPath = connectionPathOf(path);
      if (
        !keyRuleAllows(principal.apiKey, path) ||
        (connectionPath !== undefined && !keyRuleAllows(principal.apiKey, connectionPath))
      ) {
        throw forbid(req, principal.apiKey, 'this API key is not allowed on this path');
      }
      noteUse(principal.apiKey);
    }
    next();
  };

  /** Throws when `principal` may not post into the connection `resolveConnection` found. */
  function authorizeIngestion(req: Request, res: Response, principal: Principal): void {
    // A signature is checked by the source's own route, never accepted here.
    if (principal.kind === 'signature') throw refuse(req, res, 'authentication required');
    const connection = connectionOf(res);
    if (principal.kind === 'connection-key' || principal.kind === 'general-key') {
      const allowed =
        principal.kind === 'connection-key'
          ? principal.connectionId === connection.id
          : principal.apiKey.type !== CONNECTION_KEY_TYPE && keyRuleAllows(principal.apiKey, pathForKeyRule(req));
      if (!allowed) {
        throw forbid(req, principal.apiKey, `this API key is not allowed to post to connection ${connection.id}`);
      }
      noteUse(principal.apiKey);
    }
  }

  const ingestion: RequestHandler = (req, res, next) => {
    // `authenticate` ran before on every ingestion route: decided at once, without a promise.
    const known = res.locals[PRINCIPAL] as Principal | undefined;
    if (known) {
      authorizeIngestion(req, res, known);
      next();
      return;
    }
    return authenticated(req, res).then((principal) => {
      if (!principal) return;
      authorizeIngestion(req, res, principal);
      next();
    });
  };

  return { authenticate, admin, ingestion };
}
