import { Router, type Request } from 'express';
import type { PluginContext } from '../context';
import { presentApiKey } from '../connections/connection.presenter';
import { successEnvelope } from '../http/envelope';
import { fieldError } from '../http/errors';
import { sentKeys, validateBody } from '../http/validate-body';
import { ApiKeyDto, ApiKeyListQuery, ApiKeyRenewDto, DEFAULT_PAGE_SIZE } from './api-key.dto';
import { GENERAL_KEY_TYPE } from './api-key.service';
import { principalName } from './guards';

function apiKeyIdOf(req: Request): number {
  const raw = String(req.params.apiKeyId ?? '');
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < 1) throw fieldError('apiKeyId', 'must be a positive integer');
  return Number(raw);
}

/**
 * DevLake's core API-key routes (docs/devlake-compatibility.md §2), administration routes: list (keys never shown),
 * create and renew (the plaintext shown once), delete. Answers are bare objects, as DevLake's.
 * Mounted at `/api-keys`.
 */
export function createApiKeyRouter(context: PluginContext): Router {
  const { services, guards, readBody } = context;
  const router = Router();

  router.get('/', guards.admin, async (req, res) => {
    const query = await validateBody(ApiKeyListQuery, { ...req.query });
    const { keys, count } = await services.apiKeys.list(query.page ?? 1, query.pageSize ?? DEFAULT_PAGE_SIZE);
    const lastUsed = await services.apiKeys.lastUsed(keys.map((key) => key.id));
    res.json({ apikeys: keys.map((key) => presentApiKey(key, undefined, lastUsed.get(key.id))), count });
  });

  router.post('/', guards.admin, ...readBody, async (req, res) => {
    const body = await validateBody(ApiKeyDto, req.body);
    const issued = await services.apiKeys.createGeneral({
      name: body.name,
      type: body.type ?? GENERAL_KEY_TYPE,
      allowedPath: body.allowedPath,
      expiredAt: body.expiredAt ?? null,
      creator: principalName(res),
    });
    res.status(201).json(presentApiKey(issued.record, issued.plaintext));
  });

  router.put('/:apiKeyId', guards.admin, ...readBody, async (req, res) => {
    const id = apiKeyIdOf(req);
    const body = await validateBody(ApiKeyRenewDto, req.body);
    // `expiredAt: null` removes the expiry; leaving it out keeps the one the key has.
    const expiredAt = sentKeys(req.body, ApiKeyRenewDto).has('expiredAt') ? (body.expiredAt ?? null) : undefined;
    const issued = await services.apiKeys.rotate(id, principalName(res), expiredAt);
    const lastUsed = await services.apiKeys.lastUsed([id]);
    res.json(presentApiKey(issued.record, issued.plaintext, lastUsed.get(id)));
  });

  // DevLake answers a delete with its bare success envelope.
  router.delete('/:apiKeyId', guards.admin, async (req, res) => {
    await services.apiKeys.deleteGeneral(apiKeyIdOf(req));
    res.json(successEnvelope(null));
  });

  return router;
}
