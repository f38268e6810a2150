import { Router, type RequestHandler } from 'express';
import helmet from 'helmet';
import swaggerUi from 'swagger-ui-express';
import { stringify } from 'yaml';
import type { OpenApiDocument } from '../openapi';

/** Where the standalone server serves Swagger UI: DevLake's address, which DevLake's documentation links to. */
export const SWAGGER_PREFIX = '/api/swagger';

/** Swagger UI's global in the browser, used by the plugin below. */
declare const SwaggerUIBundle: { plugins: { DownloadUrl: unknown } };

type ShownKey = string[];
interface LayoutSystem {
  getConfigs(): { slashTags?: string[] };
}

/**
 * A Swagger UI plugin, serialised into the page by swagger-ui-express (so it must not use
 * anything from this module). Swagger UI decodes the hash before splitting it on `/`, so
 * DevLake's tag `plugins/webhook` makes DevLake's documentation's deep link
 * `#/plugins%2Fwebhook/post_plugins_webhook__connectionId_deployments` read as tag `plugins`,
 * operation `webhook`: this reads the tags that contain `/` (from the `slashTags` option) whole.
 */
function devlakeDeepLinks(): unknown[] {
  const slashTagKeys = {
    statePlugins: {
      layout: {
        wrapSelectors: {
          isShownKeyFromUrlHashArray:
            (original: (parts: string[]) => ShownKey, system: LayoutSystem) =>
            (_state: unknown, parts: string[]): ShownKey => {
              for (const tag of system.getConfigs().slashTags ?? []) {
                const n = tag.split('/').length;
                if (parts.length >= n && parts.slice(0, n).join('/') === tag) {
                  const operation = parts.slice(n).join('/');
                  return operation ? ['operations', tag, operation] : ['operations-tag', tag];
                }
              }
              return original(parts);
            },
        },
      },
    },
  };
  return [SwaggerUIBundle.plugins.DownloadUrl, slashTagKeys];
}

/**
 * Swagger UI and the raw document, served from swagger-ui-dist inside the package (no CDN: many
 * users run on a closed network). The document's server URLs are relative, so "Try it out"
 * posts to whatever host and port the browser is using.
 */
export function createSwaggerRouter(document: OpenApiDocument): Router {
  const router = Router();
  const options: swaggerUi.SwaggerUiOptions = {
    customSiteTitle: 'devlake-webhook API',
    // No call to validator.swagger.io: the page works offline.
    swaggerOptions: {
      deepLinking: true,
      validatorUrl: null,
      // Replaces swagger-ui-express's default list (DownloadUrl), which the function keeps.
      plugins: [devlakeDeepLinks],
      slashTags: ((document.tags as { name: string }[] | undefined) ?? [])
        .map((tag) => tag.name)
        .filter((name) => name.includes('/')),
    },
  };
  const yamlText = stringify(document, { lineWidth: 0 });

  // helmet's default CSP upgrades every request to https, which breaks the page (and "Try it
  // out") on a plain-http server reached by address rather than as localhost.
  router.use(helmet.contentSecurityPolicy({ directives: { upgradeInsecureRequests: null } }));

  router.get('/doc.json', (_req, res) => {
    res.json(document);
  });
  router.get('/doc.yaml', (_req, res) => {
    res.type('application/yaml').send(yamlText);
  });

  // The page loads its assets by relative URL (`./swagger-ui.css`), so `/api/swagger` must
  // become `/api/swagger/` before it is served.
  const trailingSlash: RequestHandler = (req, res, next) => {
    const [path, query] = req.originalUrl.split('?');
    if (!path.endsWith('/') && !path.endsWith('/index.html')) {
      res.redirect(301, `${path}/${query === undefined ? '' : `?${query}`}`);
      return;
    }
    next();
  };
  // Before the static files: swagger-ui-dist ships its own index.html, the Petstore demo.
  router.get(['/', '/index.html'], trailingSlash, swaggerUi.setup(document, options));
  router.use(swaggerUi.serveFiles(document, options));
  return router;
}
