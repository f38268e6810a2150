import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Express } from 'express';
import type { Response } from 'supertest';
import { loadOpenApiDocument, OPENAPI_PATH, type OpenApiDocument } from '../../src/openapi';

/**
 * Checks that tie `openapi.yaml` to the code (issue 6): the routes Express serves, listed from
 * its router stacks, and answers checked against the document's response schemas.
 */

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** `METHOD /full/path` with OpenAPI's `{param}` templates. */
export type RouteKey = string;

interface RouteLike {
  path: string | string[];
  methods: Record<string, boolean | undefined>;
}

interface LayerLike {
  rawPath?: string | string[] | RegExp;
  route?: RouteLike;
  handle?: { stack?: LayerLike[] };
}

/** `/:connectionId/issue/:issueKey` → `/{connectionId}/issue/{issueKey}`; anything fancier fails loudly. */
export function toOpenApiPath(expressPath: string): string {
  if (/[*?{}()[\]]/.test(expressPath)) {
    throw new Error(`the Express path ${expressPath} has no OpenAPI equivalent; describe it by hand`);
  }
  return expressPath.replace(/:(\w+)/g, '{$1}');
}

function joinPath(prefix: string, path: string): string {
  const joined = `${prefix}/${path}`.replace(/\/+/g, '/');
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
}

function pathsOf(raw: LayerLike['rawPath'], where: string): string[] {
  if (raw instanceof RegExp || raw === undefined) {
    // Express 5 (router 2.x) keeps the registered path on each layer as `rawPath`; without it
    // the walk would silently see nothing, so the drift test must fail instead.
    throw new Error(`cannot read the registered path of a layer under ${where || '/'}`);
  }
  return Array.isArray(raw) ? raw : [raw];
}

/**
 * Every route the app serves, walking Express 5's router stacks recursively from the app down
 * through each mounted router (plain middleware is not a route and is skipped).
 */
export function servedRoutes(app: Express): Set<RouteKey> {
  const out = new Set<RouteKey>();
  const root = (app as unknown as { router?: { stack?: LayerLike[] } }).router;
  if (!root?.stack) throw new Error("cannot read the app's router stack (Express 5's app.router)");
  const walk = (stack: LayerLike[], prefix: string): void => {
    for (const layer of stack) {
      if (layer.route) {
        const methods = Object.keys(layer.route.methods).filter((m) => layer.route?.methods[m]);
        if (methods.includes('_all')) throw new Error(`router.all() under ${prefix} cannot be described`);
        for (const path of pathsOf(layer.rawPath ?? layer.route.path, prefix)) {
          for (const method of methods) out.add(`${method.toUpperCase()} ${toOpenApiPath(joinPath(prefix, path))}`);
        }
      } else if (layer.handle?.stack) {
        for (const path of pathsOf(layer.rawPath, prefix)) walk(layer.handle.stack, joinPath(prefix, path));
      }
    }
  };
  walk(root.stack, '');
  return out;
}

interface OperationLike {
  servers?: { url: string }[];
  responses?: Record<string, ResponseLike>;
  requestBody?: unknown;
}
interface PathItemLike extends Partial<Record<(typeof HTTP_METHODS)[number], OperationLike>> {
  servers?: { url: string }[];
}
interface ResponseLike {
  content?: Record<string, { schema?: object }>;
  headers?: Record<string, unknown>;
}

/** One operation of the document, at one of its server URLs. */
export interface SpecOperation {
  method: string;
  /** The path as the document lists it (relative to the server). */
  path: string;
  /** Server URL + path. */
  fullPath: string;
  operation: OperationLike;
}

/** Each operation at each server URL that applies to it (operation, then path item, then root). */
export function specOperations(document: OpenApiDocument): SpecOperation[] {
  const rootServers = (document.servers as { url: string }[] | undefined) ?? [{ url: '/' }];
  const out: SpecOperation[] = [];
  for (const [path, item] of Object.entries(document.paths as Record<string, PathItemLike>)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!operation) continue;
      for (const server of operation.servers ?? item.servers ?? rootServers) {
        out.push({ method, path, fullPath: joinPath(server.url, path), operation });
      }
    }
  }
  return out;
}

export function specRoutes(document: OpenApiDocument): Set<RouteKey> {
  return new Set(specOperations(document).map((op) => `${op.method.toUpperCase()} ${op.fullPath}`));
}

/**
 * Replaces each local `$ref` by what it points to (the document has no external or circular
 * references; both fail loudly). Sibling keys of a `$ref` (3.1 allows `description`) are kept.
 */
export function dereference<T>(document: T): T {
  const root = document as unknown;
  const resolve = (ref: string): unknown => {
    if (!ref.startsWith('#/')) throw new Error(`external $ref ${ref} is not supported`);
    return ref
      .slice(2)
      .split('/')
      .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<unknown>((node, key) => {
        const next = (node as Record<string, unknown> | undefined)?.[key];
        if (next === undefined) throw new Error(`$ref ${ref} points to nothing`);
        return next;
      }, root);
  };
  const walk = (node: unknown, seen: string[]): unknown => {
    if (Array.isArray(node)) return node.map((item) => walk(item, seen));
    if (!node || typeof node !== 'object') return node;
    const { $ref, ...rest } = node as Record<string, unknown>;
    const own = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, walk(value, seen)]));
    if (typeof $ref !== 'string') return own;
    if (seen.includes($ref)) throw new Error(`circular $ref ${$ref}`);
    return { ...(walk(resolve($ref), [...seen, $ref]) as object), ...own };
  };
  return walk(root, []) as T;
}

/**
 * Validates a document file with @apidevtools/swagger-parser in a child process: the
 * validator is an ES module that Jest's CommonJS runtime cannot load.
 */
export function validateWithSwaggerParser(file: string = OPENAPI_PATH): { ok: boolean; output: string } {
  const script = path.join(__dirname, 'validate-openapi.mjs');
  const run = spawnSync(process.execPath, [script, file], { encoding: 'utf8', timeout: 30_000 });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}`.trim() };
}

function templateRegExp(fullPath: string): RegExp {
  const escaped = fullPath.replace(/[.+^$|[\]\\()*?]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+');
  return new RegExp(`^${escaped}/?$`);
}

/**
 * Validates real answers against the document: the status must be documented for the
 * operation the request reached, the JSON body must match its schema, and the headers the
 * document promises (Retry-After, WWW-Authenticate) must be there.
 */
export class OpenApiAnswers {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true });
  private readonly compiled = new Map<object, ValidateFunction>();

  private constructor(private readonly operations: SpecOperation[]) {
    addFormats(this.ajv);
    // OpenAPI's own keywords inside Schema Objects.
    this.ajv.addVocabulary(['example', 'xml', 'externalDocs', 'discriminator']);
  }

  /** Dereferences the document first, so each response schema compiles on its own. */
  static load(document: OpenApiDocument = loadOpenApiDocument()): OpenApiAnswers {
    return new OpenApiAnswers(specOperations(dereference(document)));
  }

  /** The operation a request reached: the match with the fewest templated segments wins. */
  operationFor(method: string, urlPath: string): SpecOperation {
    const matches = this.operations
      .filter((op) => op.method === method.toLowerCase() && templateRegExp(op.fullPath).test(urlPath))
      .sort((a, b) => (a.fullPath.match(/\{/g)?.length ?? 0) - (b.fullPath.match(/\{/g)?.length ?? 0));
    if (matches.length === 0) throw new Error(`openapi.yaml has no operation for ${method} ${urlPath}`);
    return matches[0];
  }

  /** The problems of one answer, empty when it matches the document. */
  problems(res: Response): string[] {
    const req = (res as unknown as { req: { method: string; path: string } }).req;
    const urlPath = decodeURI(req.path.split('?')[0]);
    const op = this.operationFor(req.method, urlPath);
    const where = `${req.method} ${op.path} (${urlPath})`;
    const documented = op.operation.responses?.[String(res.status)] ?? op.operation.responses?.default;
    if (!documented) return [`${where}: status ${res.status} is not documented`];
    const problems: string[] = [];
    for (const header of Object.keys(documented.headers ?? {})) {
      if (res.headers[header.toLowerCase()] === undefined) problems.push(`${where}: header ${header} is missing`);
    }
    const schema = documented.content?.['application/json']?.schema;
    if (!schema) {
      if (res.text) problems.push(`${where}: ${res.status} has a body the document does not describe`);
      return problems;
    }
    if (!/^application\/json\b/.test(String(res.headers['content-type']))) {
      return [...problems, `${where}: answered ${res.headers['content-type']}, not JSON`];
    }
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.compiled.set(schema, validate);
    }
    if (!validate(res.body)) {
      for (const error of validate.errors ?? []) {
        problems.push(
          `${where} ${res.status}: body${error.instancePath} ${error.message} ${JSON.stringify(error.params)}`,
        );
      }
    }
    return problems;
  }

  /** Compiles any schema of the document (e.g. a request body's) for a direct check. */
  compile(schema: object): ValidateFunction {
    return this.ajv.compile(schema);
  }
}
