import { Router } from 'express';
import type { PluginContext } from '../context';
import { principalName } from '../auth/guards';
import { sentKeys, validateBody } from '../http/validate-body';
import { ConnectionDto, ConnectionPatchDto } from './connection.dto';
import { presentConnection } from './connection.presenter';
import { connectionRefOf } from './resolve-connection';

/**
 * The connections admin API (docs/devlake-compatibility.md §2): DevLake answers these with the bare object, no
 * envelope. Mounted at `/connections`.
 */
export function createConnectionRouter(context: PluginContext): Router {
  const { services, guards, readBody } = context;
  const router = Router({ mergeParams: true });

  async function present(connection: Parameters<typeof presentConnection>[0], plaintextKey?: string) {
    const key = await services.apiKeys.findConnectionKey(connection.id);
    const lastUsed = key ? (await services.apiKeys.lastUsed([key.id])).get(key.id) : undefined;
    const projectName = await services.projects.projectOf(connection.id);
    return presentConnection(connection, { apiKey: key, plaintextKey, lastUsedAt: lastUsed ?? null, projectName });
  }

  router.get('/', guards.admin, async (_req, res) => {
    const connections = await services.connections.list();
    const ids = connections.map((c) => c.id);
    const keys = await services.apiKeys.findConnectionKeys(ids);
    const lastUsed = await services.apiKeys.lastUsed([...keys.values()].map((k) => k.id));
    const projects = await services.projects.projectsOf(ids);
    res.json(
      connections.map((connection) => {
        const key = keys.get(connection.id) ?? null;
        return presentConnection(connection, {
          apiKey: key,
          lastUsedAt: key ? (lastUsed.get(key.id) ?? null) : null,
          projectName: projects.get(connection.id) ?? null,
        });
      }),
    );
  });

  router.post('/', guards.admin, ...readBody, async (req, res) => {
    const body = await validateBody(ConnectionDto, req.body);
    const { connection, issued } = await services.connections.create(body.name, principalName(res));
    if (body.projectName) await services.projects.link(connection, body.projectName);
    res.status(200).json(await present(connection, issued.plaintext));
  });

  for (const path of ['/by-name/:connectionName', '/:connectionId']) {
    router.get(path, guards.admin, async (req, res) => {
      const connection = await services.connections.get(connectionRefOf(req));
      res.json(await present(connection));
    });

    router.patch(path, guards.admin, ...readBody, async (req, res) => {
      const body = await validateBody(ConnectionPatchDto, req.body);
      let connection = await services.connections.get(connectionRefOf(req));
      if (body.name !== undefined) connection = await services.connections.rename({ id: connection.id }, body.name);
      // `projectName: null` or `""` unlinks; leaving the key out leaves the link as it is.
      if (sentKeys(req.body, ConnectionPatchDto).has('projectName')) {
        await services.projects.setProject(connection, body.projectName ?? null);
      }
      res.json(await present(connection));
    });

    router.delete(path, guards.admin, async (req, res) => {
      const ref = connectionRefOf(req);
      const shown = await present(await services.connections.get(ref));
      await services.connections.delete(ref, (connectionId, manager) =>
        services.projects.unlinkAll(connectionId, manager),
      );
      res.json(shown);
    });
  }

  return router;
}
