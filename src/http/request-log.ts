import type { RequestHandler, Response } from 'express';
import type { Logger } from '../logger';
import type { WebhookMetrics } from '../metrics/metrics';
import { errorAnswerOf, requestContextOf, routeTemplateOf, runInContext } from './request-context';

/** The connection a request addressed, once `resolveConnection` found it. */
function connectionIdOf(res: Response): number | undefined {
  return (res.locals.webhookConnection as { id?: number } | undefined)?.id;
}

/**
 * One structured line per request, when it is answered: method, route template (never the
 * path itself, which may hold a key or anything a sender typed), status, duration, database
 * time, connection id and request id, and for 4xx the causes. Successes log at `debug`,
 * refusals at `info`, 5xx at `warn`. The same numbers feed the metrics when they are on.
 */
export function requestLog(logger: Logger, metrics: WebhookMetrics | undefined): RequestHandler {
  return (req, res, next) => {
    const context = requestContextOf(req, res);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const status = res.statusCode;
      const route = routeTemplateOf(context);
      const durationMs = Math.round((performance.now() - context.startedAt) * 10) / 10;
      const dbMs = Math.round(context.dbMs * 10) / 10;
      const dbRetries = context.dbRetries;
      metrics?.observe({ method: req.method, route, status, dbMs, dbRetries, answer: context.answer });
      const line: Record<string, unknown> = {
        requestId: context.id,
        method: req.method,
        route,
        status,
        durationMs,
        dbMs,
        ...(dbRetries > 0 ? { dbRetries } : {}),
        connectionId: connectionIdOf(res),
      };
      if (status >= 400) {
        const error = errorAnswerOf(context);
        line.message = error?.message;
        if (error?.causes) line.causes = error.causes;
      }
      if (!res.writableFinished) line.aborted = true;
      const level = status >= 500 ? 'warn' : status >= 400 ? 'info' : 'debug';
      logger[level](line, 'request');
    };
    res.once('finish', finish);
    res.once('close', finish);
    runInContext(context, next);
  };
}
