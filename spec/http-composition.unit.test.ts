import express, { Router, type ErrorRequestHandler, type RequestHandler } from 'express';
import request from 'supertest';
import { routeMatcherOf } from '../src/http/route-shapes';
import { series } from '../src/http/series';

/** An app whose answer lists the steps a request went through, or the error that ended it. */
function appWith(...handlers: RequestHandler[]) {
  const app = express();
  app.use((_req, res, next) => {
    res.locals.steps = [];
    next();
  });
  app.use(series(...handlers));
  app.use((_req, res) => {
    res.json({ steps: res.locals.steps, reached: 'after' });
  });
  const onError: ErrorRequestHandler = (error: Error, _req, res, _next) => {
    res.status(500).json({ steps: res.locals.steps, error: error.message });
  };
  app.use(onError);
  return app;
}

const step =
  (name: string): RequestHandler =>
  (_req, res, next) => {
    (res.locals.steps as string[]).push(name);
    next();
  };

describe('series: several middlewares as one layer', () => {
  it('runs them in order, then what follows it', async () => {
    const res = await request(appWith(step('a'), step('b'), step('c'))).get('/');
    expect(res.body).toEqual({ steps: ['a', 'b', 'c'], reached: 'after' });
  });

  it('stops where one answers: the rest never run', async () => {
    const answer: RequestHandler = (_req, res) => {
      res.status(401).json({ steps: res.locals.steps, answered: true });
    };
    const res = await request(appWith(step('a'), answer, step('never'))).get('/');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ steps: ['a'], answered: true });
  });

  it('hands an error passed to next, thrown, or rejected to the error handling, skipping the rest', async () => {
    const passed: RequestHandler = (_req, _res, next) => next(new Error('passed'));
    const thrown: RequestHandler = () => {
      throw new Error('thrown');
    };
    const rejected: RequestHandler = async () => {
      await Promise.resolve();
      throw new Error('rejected');
    };
    for (const [failing, message] of [
      [passed, 'passed'],
      [thrown, 'thrown'],
      [rejected, 'rejected'],
    ] as const) {
      const res = await request(appWith(step('a'), failing, step('never'))).get('/');
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ steps: ['a'], error: message });
    }
  });

  it('waits for a middleware that calls next later', async () => {
    const later: RequestHandler = (_req, res, next) => {
      setTimeout(() => {
        (res.locals.steps as string[]).push('later');
        next();
      }, 5);
    };
    const res = await request(appWith(later, step('b'))).get('/');
    expect(res.body).toEqual({ steps: ['later', 'b'], reached: 'after' });
  });

  it("passes next('router') up: the router it is in is left", async () => {
    const inner = Router();
    inner.use(series(step('a'), (_req, _res, next) => next('router'), step('never')));
    inner.use((_req, res) => {
      res.json({ reached: 'inner' });
    });
    const app = express();
    app.use((_req, res, next) => {
      res.locals.steps = [];
      next();
    });
    app.use(inner);
    app.use((_req, res) => {
      res.json({ steps: res.locals.steps, reached: 'outer' });
    });
    const res = await request(app).get('/');
    expect(res.body).toEqual({ steps: ['a'], reached: 'outer' });
  });
});

describe('routeMatcherOf: which requests a router certainly has a route for', () => {
  const ok: RequestHandler = (_req, res) => {
    res.end();
  };
  function ingestionLike(): Router {
    const router = Router({ mergeParams: true });
    router.use((_req, _res, next) => next());
    const events = Router({ mergeParams: true });
    events.get('/events', ok);
    events.post('/events/:eventId/replay', ok);
    router.use(events);
    const issues = Router({ mergeParams: true });
    issues.post('/issues', ok);
    issues.post('/issue/:issueKey/close', ok);
    issues.post('/issue/:boardKey/:issueKey/close', ok);
    router.use(issues);
    // Mounted at a path, and routes in another syntax: left out, never guessed.
    const mounted = Router();
    mounted.post('/inside', ok);
    router.use('/mounted', mounted);
    router.post('/with.dot', ok);
    router.post('/{optional}', ok);
    return router;
  }
  const matches = routeMatcherOf(ingestionLike());

  it('knows each route by method and exact path, parameters included', () => {
    expect(matches('GET', '/events')).toBe(true);
    expect(matches('POST', '/events/17/replay')).toBe(true);
    expect(matches('POST', '/issues')).toBe(true);
    expect(matches('POST', '/issue/BUG-1/close')).toBe(true);
    expect(matches('POST', '/issue/board/BUG-1/close')).toBe(true);
    expect(matches('POST', '/with.dot')).toBe(true);
  });

  it('answers false for another method, path, case, a trailing slash or an empty parameter', () => {
    expect(matches('POST', '/events')).toBe(false);
    expect(matches('HEAD', '/events')).toBe(false);
    expect(matches('GET', '/events/17/replay')).toBe(false);
    expect(matches('POST', '/Issues')).toBe(false);
    expect(matches('POST', '/issues/')).toBe(false);
    expect(matches('POST', '/issue//close')).toBe(false);
    expect(matches('POST', '/issue/a/b/c/close')).toBe(false);
    expect(matches('POST', '/withxdot')).toBe(false);
    expect(matches('POST', '/')).toBe(false);
  });

  it('leaves out routers mounted at a path and routes in other syntax', () => {
    expect(matches('POST', '/mounted/inside')).toBe(false);
    expect(matches('POST', '/inside')).toBe(false);
    expect(matches('POST', '/optional')).toBe(false);
    expect(matches('POST', '/{optional}')).toBe(false);
  });
});
