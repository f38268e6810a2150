import { Router, type RequestHandler } from 'express';
import type { Guards } from '../auth/guards';
import type { ConnectionService } from '../connections/connection.service';
import { connectionRefOf } from '../connections/resolve-connection';
import { fieldError, InputError } from '../http/errors';
import { SOURCES } from './source.router';
import { validateSettingsChange, type SourceSettingsService } from './source-settings.service';

export interface SourceAdminRouterDeps {
  connections: ConnectionService;
  settings: SourceSettingsService;
  guards: Guards;
  readBody: RequestHandler[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * A connection's native sources (docs/sources.md), mounted at `/connections`:
 * - `GET …/:connectionId/sources`: the routes to paste, the events to tick, whether a signing
 *   secret is set (never the secret), and the mapping settings;
 * - `PATCH …/:connectionId/sources`: change settings (only the fields sent);
 * - `POST …/:connectionId/sources/signing-secret`: generate one (`{}`) or set the tool's own
 *   (`{"secret": "..."}`); answers it this once. The one it replaces keeps working for a day
 *   unless `dropPrevious: true`.
 */
export function createSourceAdminRouter(deps: SourceAdminRouterDeps): Router {
  const router = Router({ mergeParams: true });

  const describe = async (connectionId: number) => ({
    ...(await deps.settings.view(connectionId)),
    sources: SOURCES.map((source) => ({
      name: source.name,
      title: source.title,
      path: `connections/${connectionId}/${source.name}`,
      signatureHeader: source.scheme.header,
      signature:
        source.scheme.kind === 'token'
          ? 'the secret itself'
          : `HMAC-SHA256 of the body, hex, after "${source.scheme.prefix}"`,
      events: source.events,
    })),
  });

  for (const path of ['/by-name/:connectionName', '/:connectionId']) {
    router.get(`${path}/sources`, deps.guards.admin, async (req, res) => {
      const connection = await deps.connections.get(connectionRefOf(req));
      res.json(await describe(connection.id));
    });

    router.patch(`${path}/sources`, deps.guards.admin, ...deps.readBody, async (req, res) => {
      const connection = await deps.connections.get(connectionRefOf(req));
      await deps.settings.updateSettings(connection.id, validateSettingsChange(req.body));
      res.json(await describe(connection.id));
    });

    router.post(`${path}/sources/signing-secret`, deps.guards.admin, ...deps.readBody, async (req, res) => {
      const connection = await deps.connections.get(connectionRefOf(req));
      const body: unknown = req.body;
      if (!isRecord(body)) throw new InputError('the body must be a JSON object');
      if (body.secret !== undefined && typeof body.secret !== 'string') throw fieldError('secret', 'must be a string');
      if (body.dropPrevious !== undefined && typeof body.dropPrevious !== 'boolean') {
        throw fieldError('dropPrevious', 'must be true or false');
      }
      const secret = await deps.settings.setSecret(
        connection.id,
        body.secret as string | undefined,
        body.dropPrevious === true,
      );
      // The only answer that carries the secret: it is never shown again.
      res.json({ ...(await describe(connection.id)), signingSecret: secret });
    });
  }
  return router;
}
