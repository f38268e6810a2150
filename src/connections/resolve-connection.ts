import type { Request, RequestHandler, Response } from 'express';
import type { WebhookConnection } from './connection.entity';
import { parseConnectionId, type ConnectionRef, type ConnectionService } from './connection.service';
import { InputError } from '../http/errors';

/** The connection a route's path names, from either addressing form (docs/devlake-compatibility.md §2). */
export function connectionRefOf(req: Request): ConnectionRef {
  const params = req.params as Record<string, string | undefined>;
  if (params.connectionName !== undefined) {
    const name = params.connectionName;
    if (name.length < 1 || name.length > 100) {
      throw new InputError('connectionName must be 1 to 100 characters', [
        { field: 'connectionName', message: 'must be 1 to 100 characters' },
      ]);
    }
    return { name };
  }
  return { id: parseConnectionId(params.connectionId ?? '') };
}

/**
 * Loads the connection named by the path into `res.locals` (404 when unknown). Used per route,
 * after the route matched, so that `/:connectionId` never captures `/connections/...` paths.
 */
export function resolveConnection(connections: ConnectionService): RequestHandler {
  return (req, res, next) => {
    const ref = connectionRefOf(req);
    // A cached connection (the usual case under load) goes on at once, without a promise.
    const cached = connections.peekCached(ref);
    if (cached) {
      res.locals.webhookConnection = cached;
      next();
      return;
    }
    return connections.getCached(ref).then((connection) => {
      res.locals.webhookConnection = connection;
      next();
    });
  };
}

export function connectionOf(res: Response): WebhookConnection {
  const connection = res.locals.webhookConnection as WebhookConnection | undefined;
  if (!connection) throw new Error('resolveConnection must run before this handler');
  return connection;
}
