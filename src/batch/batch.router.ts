import express, { Router, type RequestHandler } from 'express';
import type { PluginContext } from '../context';
import { connectionOf } from '../connections/resolve-connection';
import { eventIdOf } from '../events/event-log.middleware';
import { rawDataOf } from '../events/event-log.service';
import { isDryRun } from '../http/dry-run';
import { successEnvelope } from '../http/envelope';
import { InputError } from '../http/errors';
import { parseRecords, type ParsedRecord } from './batch-records';

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Reads a batch body (a JSON array or NDJSON, whatever the Content-Type) up to its own limit. */
function readRecords(limitBytes: number): RequestHandler[] {
  const raw = express.raw({ type: () => true, limit: limitBytes });
  const parse: RequestHandler = (req, res, next) => {
    const buffer: unknown = req.body;
    let text = '';
    if (Buffer.isBuffer(buffer)) {
      try {
        text = UTF8.decode(buffer);
      } catch {
        next(new InputError('the body is not valid UTF-8: send JSON encoded as UTF-8'));
        return;
      }
    }
    const records = parseRecords(text);
    if (!Array.isArray(records)) {
      next(new InputError(records.error));
      return;
    }
    res.locals.batchRecords = records;
    // The records are in res.locals; the body stays an object for what logs or replays it.
    req.body = {};
    next();
  };
  return [raw, parse];
}

/**
 * `POST X/batch`: many records in one request (a JSON array, or NDJSON with one record per
 * line), each a deployment, an issue, a close (`"kind": "close"`) or a pull request in any form
 * its single route accepts. Answers 200 with one result per record (index, line, status, ids or
 * causes), so that one bad record does not sink the rest; `?dryRun=true` checks them all and
 * writes nothing. The body limit is its own (`batchBodyLimitBytes`).
 */
export function createBatchRouter(context: PluginContext): Router {
  const { services, guards, resolveConnection, options } = context;
  const router = Router({ mergeParams: true });
  router.post(
    '/batch',
    resolveConnection,
    guards.ingestion,
    ...readRecords(options.batchBodyLimitBytes),
    async (req, res) => {
      const dryRun = isDryRun(req);
      const records = res.locals.batchRecords as ParsedRecord[];
      const outcome = await services.batch.ingest(connectionOf(res), records, {
        dryRun,
        raw: rawDataOf(eventIdOf(res)),
      });
      res.json(successEnvelope(outcome));
    },
  );
  return router;
}
