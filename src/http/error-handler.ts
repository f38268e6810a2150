import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../logger';
import { errorEnvelope } from './envelope';
import {
  AuthenticationError,
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  UnavailableError,
  WebhookError,
} from './errors';
import { classifyDatabaseError, loggableError } from '../db/database-errors';
import { answeredByDeadline } from './database-deadline';
import { causesInSenderWords } from './sender-names';
import { summarizeCauses } from './validate-body';
import { existingRequestContext } from './request-context';

/** Status for each typed error; the only place where errors meet HTTP. */
function statusOf(error: WebhookError): number {
  if (error instanceof InputError) return 400;
  if (error instanceof AuthenticationError) return 401;
  if (error instanceof NotAllowedError) return 403;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof ConflictError) return 409;
  if (error instanceof PayloadTooLargeError) return 413;
  if (error instanceof RateLimitedError) return 429;
  if (error instanceof UnavailableError) return 503;
  return 500;
}

/**
 * Errors thrown by Express's own parts (body-parser, path decoding) carry `status`/`type`;
 * they are the client's mistakes and become typed errors here.
 */
function fromFrameworkError(error: unknown): WebhookError | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as { type?: string; status?: number; statusCode?: number; message?: string; limit?: number };
  if (e.type === 'entity.too.large') {
    return new PayloadTooLargeError(`the request body is larger than the limit of ${e.limit} bytes`);
  }
  const status = e.status ?? e.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 401) return new AuthenticationError(e.message ?? 'authentication required');
    if (status === 403) return new NotAllowedError(e.message ?? 'not allowed');
    if (status === 404) return new NotFoundError(e.message ?? 'not found');
    if (status === 413) return new PayloadTooLargeError(e.message ?? 'the request body is too large');
    // URIError from a malformed %-escape in a path, aborted bodies, bad encodings...
    return new InputError(
      e.type === 'request.aborted' ? 'the request body was not fully received' : (e.message ?? 'bad request'),
    );
  }
  return undefined;
}

/** Answers 404 in the envelope for paths no route serves. */
export function notFoundHandler(): RequestHandler {
  return (req, _res, next) => next(new NotFoundError(`no route for ${req.method} ${req.path}`));
}

/**
 * The error middleware: typed errors become their status and DevLake's envelope; database
 * outages become 503 with Retry-After; anything else is a 500 whose details go to the log only.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      // The deadline answered 503 already; the work's late failure has nobody left to tell.
      if (answeredByDeadline(res)) return;
      next(error);
      return;
    }
    const requestId = existingRequestContext(res)?.id;
    const typed = error instanceof WebhookError ? error : (fromFrameworkError(error) ?? classifyDatabaseError(error));
    if (!typed) {
      logger.error({ err: loggableError(error), method: req.method, path: req.path, requestId }, 'unexpected error');
      res.status(500).json(errorEnvelope(500, 'internal error: the server logged the details', null, requestId));
      return;
    }
    const status = statusOf(typed);
    if (typed instanceof UnavailableError || typed instanceof RateLimitedError) {
      res.setHeader('Retry-After', String(typed.retryAfterSeconds));
    }
    if (typed instanceof AuthenticationError && !res.getHeader('WWW-Authenticate')) {
      res.setHeader('WWW-Authenticate', 'Basic realm="devlake-webhook", Bearer');
    }
    if (status >= 500) {
      logger.warn({ err: loggableError(error), method: req.method, path: req.path, requestId }, typed.message);
    }
    let { message, causes } = typed;
    if (typed instanceof InputError && causes) {
      // Causes name fields as the sender wrote them (`start_time`, not `startedDate`).
      const named = causesInSenderWords(req.body, causes);
      if (message === summarizeCauses(causes)) message = summarizeCauses(named);
      causes = named;
    }
    res.status(status).json(errorEnvelope(status, message, causes, requestId));
  };
}
