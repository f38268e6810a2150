import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import { errorHandler } from '../http/error-handler';
import { checkRequestTarget } from '../http/request-target';
import type { Logger } from '../logger';

/**
 * The page's files. They ship as they are (no build step), in `src/admin-ui/public`; the path
 * is the same from `src/admin-ui` (ts-node, jest) and from `dist/admin-ui` (the package).
 */
export const ADMIN_UI_PUBLIC_DIR = path.join(__dirname, '..', '..', 'src', 'admin-ui', 'public');

/** Where the page finds the plugin's routes; each defaults to where the standalone server mounts them. */
export interface AdminUiOptions {
  /** The admin API (connections, activity): default `/api/plugins/webhook`. */
  apiBase?: string;
  /** The API-key form the shown curl commands post to: default `/api/rest/plugins/webhook`. */
  postBase?: string;
}

export const DEFAULT_ADMIN_UI_OPTIONS: Required<AdminUiOptions> = {
  apiBase: '/api/plugins/webhook',
  postBase: '/api/rest/plugins/webhook',
};

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Our own CSP for the page: helmet's default adds `upgrade-insecure-requests`, which breaks a
 * page served over plain http on a closed network (every fetch would go to https).
 */
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'self'",
].join('; ');

/**
 * The admin page as a router a host mounts where it likes (e.g. `app.use('/webhook-admin',
 * router)`). The page and its assets are behind the admin guard, so Basic credentials (or the
 * host's authenticator) protect it as they protect the API.
 */
export function createAdminUiRouter(guard: RequestHandler, logger: Logger, options: AdminUiOptions = {}): Router {
  const settings = { ...DEFAULT_ADMIN_UI_OPTIONS, ...options };
  const template = readFileSync(path.join(ADMIN_UI_PUBLIC_DIR, 'index.html'), 'utf8');
  const page = template
    .replace('{{API_BASE}}', escapeAttribute(settings.apiBase.replace(/\/+$/, '')))
    .replace('{{POST_BASE}}', escapeAttribute(settings.postBase.replace(/\/+$/, '')));

  const router = Router();
  router.use(checkRequestTarget);
  router.get('/', guard, (req, res) => {
    // The assets are referenced relatively: mounted at `/x`, the page must be `/x/` to find them.
    const [pathname, query] = req.originalUrl.split('?');
    if (!pathname.endsWith('/')) {
      res.redirect(301, `${pathname}/${query === undefined ? '' : `?${query}`}`);
      return;
    }
    res.setHeader('Content-Security-Policy', PAGE_CSP);
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(page);
  });
  router.use(
    '/admin-ui',
    guard,
    express.static(ADMIN_UI_PUBLIC_DIR, { index: false, fallthrough: false, cacheControl: true, maxAge: 0 }),
  );
  router.use(errorHandler(logger));
  return router;
}
