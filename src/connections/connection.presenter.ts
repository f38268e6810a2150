import type { ApiKey } from '../auth/api-key.entity';
import type { WebhookConnection } from './connection.entity';

/**
 * The endpoint strings DevLake puts in a connection, relative to the `/api` prefix (docs/devlake-compatibility.md
 * §2). Real clients build URLs from them, so they are DevLake's exactly.
 */
export function connectionEndpoints(id: number) {
  const base = `/rest/plugins/webhook/connections/${id}`;
  return {
    postIssuesEndpoint: `${base}/issues`,
    closeIssuesEndpoint: `${base}/issue/:issueKey/close`,
    postPipelineDeployTaskEndpoint: `${base}/deployments`,
    postPullRequestsEndpoint: `${base}/pull_requests`,
    // DevLake's connection JSON carries these two too, for routes it no longer serves.
    postPipelineTaskEndpoint: `${base}/cicd_tasks`,
    closePipelineEndpoint: `${base}/cicd_pipeline/:pipelineName/finish`,
  };
}

/** DevLake's API-key JSON; `apiKey` (the plaintext) only when just issued. */
export function presentApiKey(key: ApiKey, plaintext?: string, lastUsedAt?: Date | null) {
  return {
    id: key.id,
    createdAt: key.createdAt,
    updatedAt: key.updatedAt,
    creator: key.creator ?? '',
    creatorEmail: key.creatorEmail ?? '',
    updater: key.updater ?? '',
    updaterEmail: key.updaterEmail ?? '',
    name: key.name,
    ...(plaintext ? { apiKey: plaintext } : {}),
    expiredAt: key.expiredAt,
    allowedPath: key.allowedPath,
    type: key.type,
    extra: key.extra ?? '',
    // Ours: when the key last authorised a request (null: never).
    lastUsedAt: lastUsedAt ?? null,
  };
}

/** The bare connection object DevLake answers with (no envelope). */
export function presentConnection(
  connection: WebhookConnection,
  extras: { apiKey?: ApiKey | null; plaintextKey?: string; lastUsedAt?: Date | null; projectName?: string | null } = {},
) {
  return {
    name: connection.name,
    id: connection.id,
    createdAt: connection.createdAt,
    updatedAt: connection.updatedAt,
    ...connectionEndpoints(connection.id),
    ...(extras.apiKey ? { apiKey: presentApiKey(extras.apiKey, extras.plaintextKey, extras.lastUsedAt) } : {}),
    ...(extras.projectName !== undefined ? { projectName: extras.projectName } : {}),
  };
}
