import type { Router } from 'express';

/** What this module reads of Express's route table (Express 4 and 5 both have it). */
interface LayerLike {
  handle: { stack?: unknown };
  route?: { path?: unknown; methods?: Record<string, boolean> };
  /** Express 5: a middleware mounted at `/` (every path). */
  slash?: boolean;
  /** Express 4: the same, on the layer's regexp. */
  regexp?: { fast_slash?: boolean };
}

/** A literal path segment, or a `:name` parameter: the route syntax this module understands. */
const SEGMENT = /^(?:[A-Za-z0-9_.~-]+|:[A-Za-z_][A-Za-z0-9_]*)$/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `/issue/:issueKey/close` → `/issue/[^/]+/close`; undefined for any other syntax. */
function patternOf(path: string): string | undefined {
  if (path === '/' || !path.startsWith('/')) return undefined;
  const segments = path.slice(1).split('/');
  if (!segments.every((segment) => SEGMENT.test(segment))) return undefined;
  return segments.map((segment) => (segment.startsWith(':') ? '/[^/]+' : `/${escapeRegExp(segment)}`)).join('');
}

/**
 * A quick test of whether a router has a route for a request (its method and its path relative
 * to the router), read from the router's own route table: routes directly in it and in routers
 * mounted in it at `/`.
 *
 * It answers true only where the router's route certainly matches: exact case, no trailing
 * slash, plain segments and `:name` parameters (a route written another way, or a router
 * mounted at a path, is left out). The plugin uses it to send ingestion deliveries to the
 * ingestion routes before the admin routers, which they never match; a request it leaves out
 * still reaches the ingestion routes the usual way.
 */
export function routeMatcherOf(router: Router): (method: string, path: string) => boolean {
  const patterns = new Map<string, string[]>();
  const walk = (stack: LayerLike[]) => {
    for (const layer of stack) {
      const { route } = layer;
      if (route) {
        const pattern = typeof route.path === 'string' ? patternOf(route.path) : undefined;
        if (!pattern) continue;
        for (const [method, handled] of Object.entries(route.methods ?? {})) {
          if (!handled || method === '_all') continue;
          const key = method.toUpperCase();
          patterns.set(key, [...(patterns.get(key) ?? []), pattern]);
        }
      } else if (Array.isArray(layer.handle.stack) && (layer.slash === true || layer.regexp?.fast_slash === true)) {
        walk(layer.handle.stack as LayerLike[]);
      }
    }
  };
  walk((router as unknown as { stack: LayerLike[] }).stack);
  const compiled = new Map([...patterns].map(([method, list]) => [method, new RegExp(`^(?:${list.join('|')})$`)]));
  return (method, path) => compiled.get(method)?.test(path) ?? false;
}
