import type { NextFunction, Request, Response, Router } from 'express';

type Handler = (...args: unknown[]) => unknown;
interface LayerLike {
  handle: Handler;
  route?: { stack: LayerLike[] };
}
const WRAPPED = Symbol('forwards rejections');

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * The same handler, passing a rejected promise to `next(error)`. Express 5 does that itself;
 * Express 4 does not, and a rejection there would leave the request hanging. The arity is kept,
 * because Express tells error handlers (four parameters) from the others by it.
 */
function forwarding(handle: Handler): Handler {
  if ((handle as { [WRAPPED]?: true })[WRAPPED]) return handle;
  const wrapped =
    handle.length === 4
      ? function (error: unknown, req: Request, res: Response, next: NextFunction) {
          const result = handle(error, req, res, next);
          if (isPromiseLike(result)) result.then(undefined, next);
        }
      : function (req: Request, res: Response, next: NextFunction) {
          const result = handle(req, res, next);
          if (isPromiseLike(result)) result.then(undefined, next);
        };
  Object.defineProperty(wrapped, WRAPPED, { value: true });
  return wrapped as Handler;
}

/**
 * Makes every handler of a finished router, and of the routers and routes inside it, hand a
 * rejected promise to the error handler, on Express 4 as on Express 5. Called once on each
 * router the plugin hands out, so a route added anywhere inside is covered without wrapping
 * each handler by hand. Nested routers are walked, not wrapped: their own layers are.
 */
export function forwardRejections<T extends Router>(router: T): T {
  const walk = (stack: LayerLike[]) => {
    for (const layer of stack) {
      if (layer.route) {
        walk(layer.route.stack);
      } else if (Array.isArray((layer.handle as { stack?: unknown }).stack)) {
        walk((layer.handle as unknown as { stack: LayerLike[] }).stack);
      } else {
        layer.handle = forwarding(layer.handle);
      }
    }
  };
  walk((router as unknown as { stack: LayerLike[] }).stack);
  return router;
}
