import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import type { DataSource } from 'typeorm';
import { actAs, principalOf, type Guards } from '../auth/guards';
import { connectionOf } from '../connections/resolve-connection';
import { DeploymentDto } from '../deployments/deployment.dto';
import type { DeploymentService } from '../deployments/deployment.service';
import { eventIdOf } from '../events/event-log.middleware';
import { rawDataOf } from '../events/event-log.service';
import type { Envelope } from '../http/envelope';
import { successEnvelope } from '../http/envelope';
import { AuthenticationError } from '../http/errors';
import { validateBody } from '../http/validate-body';
import { IssueDto } from '../issues/issue.dto';
import type { IssueService } from '../issues/issue.service';
import { PullRequestDto } from '../pull-requests/pull-request.dto';
import type { PullRequestService } from '../pull-requests/pull-request.service';
import { githubSource } from './github/github.translator';
import { gitlabSource } from './gitlab/gitlab.translator';
import { pagerdutySource } from './pagerduty/pagerduty.translator';
import { checkSignature } from './signature';
import type { SourceTranslator } from './source';
import type { SourceSettingsService } from './source-settings.service';
import { SourceState } from './source-state';

/** Every native source, by the last segment of its route. */
export const SOURCES: SourceTranslator[] = [githubSource, gitlabSource, pagerdutySource];

const SOURCE_PATH = new RegExp(`^/(${SOURCES.map((source) => source.name).join('|')})/?$`);

/**
 * Mount before authentication on the ingestion router: a POST to a source's route without an
 * `Authorization` header is to be authenticated by its signature, once the connection (and so
 * its secret) is known, by the source's route. With `Authorization`, Basic and keys work as on
 * every route.
 */
export const acceptSignedDeliveries: RequestHandler = (req, res, next) => {
  const match = SOURCE_PATH.exec(req.path);
  if (req.method === 'POST' && match && req.headers.authorization === undefined) {
    actAs(res, { kind: 'signature', source: match[1] });
  }
  next();
};

export interface SourceRouterDeps {
  deployments: DeploymentService;
  issues: IssueService;
  pullRequests: PullRequestService;
  settings: SourceSettingsService;
  dataSource: DataSource;
  guards: Guards;
  readBody: RequestHandler[];
  resolveConnection: RequestHandler;
  bodyLimitBytes: number;
}

function answer(res: Response, status: number, message: string, data: Record<string, unknown>): void {
  const envelope: Envelope<Record<string, unknown>> = { ...successEnvelope(data), message };
  res.status(status).json(envelope);
}

/**
 * `POST X/github`, `X/gitlab`, `X/pagerduty` (docs/sources.md), relative to a connection's
 * prefix. Each delivery is verified (its signature, or Basic/Bearer), turned by its source into
 * the generic routes' DTO bodies, validated by the same `validateBody` and written by the same
 * services. The event log's middleware, in front, records it with its outcome.
 */
export function createSourceRouter(deps: SourceRouterDeps): Router {
  const router = Router({ mergeParams: true });
  const state = new SourceState(deps.dataSource);
  const readRaw = express.raw({ type: () => true, limit: deps.bodyLimitBytes });

  for (const source of SOURCES) {
    /** The signature is checked over the bytes exactly as received, before they are parsed. */
    const verify: RequestHandler = async (req, res, next) => {
      const principal = principalOf(res);
      if (principal.kind !== 'signature') {
        deps.guards.ingestion(req, res, next);
        return;
      }
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const connection = connectionOf(res);
      const secrets = await deps.settings.secretsOf(connection.id);
      if (secrets.length === 0) {
        throw new AuthenticationError(
          `connection ${connection.id} has no signing secret yet: set one on the admin page (or send Basic or Bearer credentials)`,
        );
      }
      const check = checkSignature(source.scheme, req.headers, raw, secrets);
      if (check !== 'valid') {
        throw new AuthenticationError(
          check === 'missing'
            ? `${source.title} deliveries must carry ${source.scheme.header}: set the connection's signing secret in ${source.title}'s webhook settings`
            : `${source.scheme.header} does not match the connection's signing secret`,
        );
      }
      next();
    };

    const handle = async (req: Request, res: Response): Promise<void> => {
      const connection = connectionOf(res);
      const body = req.body as Record<string, unknown>;
      const deliveryId = source.deliveryIdOf(req.headers, body);
      if (deliveryId && (await deps.settings.alreadyProcessed(connection.id, source.name, deliveryId))) {
        answer(res, 200, `delivery ${deliveryId} was already processed: nothing changed`, {
          source: source.name,
          deliveryId,
          duplicate: true,
        });
        return;
      }
      const settings = await deps.settings.settingsOf(connection.id);
      const action = source.translate(req.headers, body, settings);
      const raw = rawDataOf(eventIdOf(res));
      let written: Record<string, unknown>;
      switch (action.kind) {
        case 'answer':
          answer(res, action.status, action.message, {
            source: source.name,
            ignored: action.status === 202,
            ...action.data,
          });
          return;
        case 'deployment': {
          const dto = await validateBody(DeploymentDto, action.body);
          written = { ...(await deps.deployments.record(connection.id, dto, new Date(), raw)) };
          break;
        }
        case 'pull-request': {
          const dto = await validateBody(PullRequestDto, action.body);
          const stale = await state.stalePullRequest(
            connection.id,
            dto.pullRequestKey,
            dto.status ?? 'OPEN',
            action.changedAt,
          );
          if (stale) {
            answer(res, 202, stale, { source: source.name, ignored: true });
            return;
          }
          written = await deps.pullRequests.save(connection, dto, undefined, raw);
          break;
        }
        case 'issue': {
          const dto = await validateBody(IssueDto, action.body);
          const stale = await state.staleIssue(connection.id, dto.issueKey, action.changedAt);
          if (stale) {
            answer(res, 202, stale, { source: source.name, ignored: true });
            return;
          }
          written = { ...(await deps.issues.save(connection, dto, undefined, raw)) };
          break;
        }
      }
      if (deliveryId) await deps.settings.remember(connection.id, source.name, deliveryId);
      res.status(200).json(successEnvelope({ source: source.name, ...written }));
    };

    router.post(`/${source.name}`, deps.resolveConnection, readRaw, verify, ...deps.readBody, handle);
  }
  return router;
}
