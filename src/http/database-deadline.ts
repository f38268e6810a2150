import type { RequestHandler, Response } from 'express';
import { UnavailableError } from './errors';

const ANSWERED_LATE = 'webhookDeadlineAnswered';

/** True when the deadline already answered this request (503), so later results are dropped. */
export function answeredByDeadline(res: Response): boolean {
  return res.locals[ANSWERED_LATE] === true;
}

/**
 * Answers 503 with Retry-After when a request is still waiting `timeoutMs` after it was fully
 * received. The driver's own timeouts do not cover every way a database can go away:
 * mysql2 has no time limit on waiting for a pooled connection, and a statement sent on a
 * connection whose server vanished without a reset waits for TCP to give up (minutes). The
 * plugin's requests are a few short statements, so a request waiting this long is stuck.
 *
 * The work already started is not cancelled: it may still commit later, which is safe because
 * every write is an idempotent upsert and a 503 tells the sender to retry. Its late answer is
 * dropped (see `answeredByDeadline`). A slow client still sending its body is left to the
 * server's request timeout: it is not the database's fault.
 */
export function databaseDeadline(timeoutMs: number): RequestHandler {
  return (req, res, next) => {
    const timer = setTimeout(() => {
      if (res.headersSent || !req.complete) return;
      next(new UnavailableError(`the database did not answer within ${timeoutMs} ms; retry later`));
      res.locals[ANSWERED_LATE] = true;
      // The handler still running will try to answer: there is nothing left to answer.
      res.json = () => res;
      res.send = () => res;
    }, timeoutMs);
    timer.unref();
    const clear = () => clearTimeout(timer);
    res.once('finish', clear);
    res.once('close', clear);
    next();
  };
}
