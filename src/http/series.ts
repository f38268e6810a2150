import type { NextFunction, Request, RequestHandler, Response } from 'express';

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * Several middlewares as one: each runs when the one before it calls `next()`; an error (thrown,
 * rejected or passed to `next`) goes to the router's error handling, and `next('router')` leaves
 * the router, as from any middleware.
 *
 * Why: Express charges every layer a request passes through (matching, parameters, its
 * bookkeeping), a cost the ingestion path pays on every delivery. One layer for the checks every
 * request goes through is cheaper than one layer each, and the order stays visible in one place.
 */
export function series(...handlers: RequestHandler[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    let index = 0;
    const step = (signal?: unknown): void => {
      if (signal !== undefined && signal !== null) {
        next(signal);
        return;
      }
      const handler = handlers[index];
      index += 1;
      if (!handler) {
        next();
        return;
      }
      try {
        const result: unknown = handler(req, res, step);
        if (isPromiseLike(result)) result.then(undefined, next);
      } catch (error) {
        next(error);
      }
    };
    step();
  };
}
