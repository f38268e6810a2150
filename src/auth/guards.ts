import type { Request, RequestHandler, Response } from 'express';
import { AuthenticationError, NotAllowedError } from '../http/errors';
import type { ResolvedOptions } from '../options';
import type { ApiKey } from './api-key.entity';
import { CONNECTION_KEY_TYPE, type ApiKeyService } from './api-key.service';
import { readAuthorization, secretsEqual } from './credentials';
import { connectionOf } from '../connections/resolve-connection';

/** Who a request was authorised as; handlers may read it (e.g. to name a key's creator). */
export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'basic'; username: string }
  | { kind: 'host' }
  | { kind: 'connection-key'; apiKey: ApiKey; connectionId: number }
  | { kind: 'general-key'; apiKey: ApiKey };

export function principalOf(res: Response): Principal {
  return (res.locals.webhookPrincipal as Principal | undefined) ?? { kind: 'anonymous' };
}

export function principalName(res: Response): string | null {
  const principal = principalOf(res);
  if (principal.kind === 'basic') return principal.username;
  if (principal.kind === 'general-key') return principal.apiKey.name;
  return null;
}

export interface Guards {
  /** Connections, API keys, projects and the admin page. */
  admin: RequestHandler;
  /** Posting data into the connection `resolveConnection` put on the request. */
  ingestion: RequestHandler;
}

/**
 * The request path as DevLake matches a key's `allowed_path` against it: the `/api` and
 * `/rest` prefixes removed (contract §8).
 */
export function pathForKeyRule(req: Request): string {
  const path = (req.originalUrl ?? req.url).split('?')[0];
  return path.replace(/^\/api(?=\/)/, '').replace(/^\/rest(?=\/)/, '');
}

/** A general key's rule, anchored: DevLake's unanchored match is a hole (contract §9). */
export function ruleAllows(rule: string, path: string): boolean {
  try {
    return new RegExp(`^(?:${rule})$`).test(path);
  } catch {
    return false;
  }
}

function connectionIdOfKey(key: ApiKey): number | undefined {
  const match = /^connectionId:(\d+)$/.exec(key.extra ?? '');
  return match ? Number(match[1]) : undefined;
}

const LAST_USED_WRITE_INTERVAL_MS = 60_000;

/**
 * Builds the two guards. `requireApiKey` is DevLake's `/rest` form, where only a Bearer key
 * is accepted.
 */
export function createGuards(options: ResolvedOptions, apiKeys: ApiKeyService, requireApiKey: boolean): Guards {
  const lastUsedWritten = new Map<number, number>();

  /** Records when a key was used, at most once a minute per key: off the hot path. */
  function noteUse(key: ApiKey): void {
    const now = Date.now();
    if (now - (lastUsedWritten.get(key.id) ?? 0) < LAST_USED_WRITE_INTERVAL_MS) return;
    lastUsedWritten.set(key.id, now);
    apiKeys.recordUse(key.id, new Date(now)).catch((error: unknown) => {
      options.logger.debug({ err: error, apiKeyId: key.id }, 'could not record API key use');
    });
  }

  async function keyFrom(req: Request, res: Response): Promise<ApiKey | undefined> {
    const presented = readAuthorization(req.headers.authorization);
    if (presented.kind === 'malformed') throw new AuthenticationError(presented.reason);
    if (presented.kind !== 'bearer') return undefined;
    const key = await apiKeys.findByPlaintext(presented.key);
    if (!key) throw new AuthenticationError('the API key is not valid');
    if (key.expiredAt && key.expiredAt.getTime() <= Date.now())
      throw new AuthenticationError('the API key has expired');
    noteUse(key);
    const connectionId = connectionIdOfKey(key);
    res.locals.webhookPrincipal =
      key.type === CONNECTION_KEY_TYPE && connectionId !== undefined
        ? ({ kind: 'connection-key', apiKey: key, connectionId } satisfies Principal)
        : ({ kind: 'general-key', apiKey: key } satisfies Principal);
    return key;
  }

  /** True when valid Basic credentials were sent; a 401 for wrong ones. */
  function basicFrom(req: Request, res: Response): boolean {
    const presented = readAuthorization(req.headers.authorization);
    if (presented.kind !== 'basic' || !options.basicAuth) return false;
    const userOk = secretsEqual(presented.username, options.basicAuth.username);
    const passOk = secretsEqual(presented.password, options.basicAuth.password);
    if (!(userOk && passOk)) throw new AuthenticationError('wrong username or password');
    res.locals.webhookPrincipal = { kind: 'basic', username: presented.username } satisfies Principal;
    return true;
  }

  function missing(): AuthenticationError {
    return new AuthenticationError(
      requireApiKey
        ? 'this route needs an API key: send Authorization: Bearer <key>'
        : 'authentication required: send Basic credentials or Authorization: Bearer <key>',
    );
  }

  const admin: RequestHandler = async (req, res, next) => {
    const key = await keyFrom(req, res);
    if (key) {
      if (key.type === CONNECTION_KEY_TYPE) {
        throw new NotAllowedError(
          "a connection's API key only posts data to its own connection; it cannot use the admin API",
        );
      }
      if (!ruleAllows(key.allowedPath ?? '', pathForKeyRule(req))) {
        throw new NotAllowedError('this API key is not allowed on this path');
      }
      next();
      return;
    }
    if (requireApiKey) throw missing();
    if (options.adminAuthenticator) {
      res.locals.webhookPrincipal = { kind: 'host' } satisfies Principal;
      options.adminAuthenticator(req, res, next);
      return;
    }
    if (basicFrom(req, res)) {
      next();
      return;
    }
    if (options.basicAuth) throw missing();
    next();
  };

  const ingestion: RequestHandler = async (req, res, next) => {
    const connection = connectionOf(res);
    const key = await keyFrom(req, res);
    if (key) {
      const keyConnection = connectionIdOfKey(key);
      const allowed =
        key.type === CONNECTION_KEY_TYPE
          ? keyConnection === connection.id
          : ruleAllows(key.allowedPath ?? '', pathForKeyRule(req));
      if (!allowed) {
        throw new NotAllowedError(`this API key is not allowed to post to connection ${connection.id}`);
      }
      next();
      return;
    }
    if (requireApiKey) throw missing();
    if (basicFrom(req, res)) {
      next();
      return;
    }
    if (options.basicAuth || options.adminAuthenticator) throw missing();
    next();
  };

  return { admin, ingestion };
}
