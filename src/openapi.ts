import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/** An OpenAPI 3 document as a plain object. */
export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, unknown>> };

/** `openapi.yaml` at the package root: the one source of the API description. */
export const OPENAPI_PATH = path.join(__dirname, '..', 'openapi.yaml');

let cached: OpenApiDocument | undefined;

/** Reads the document once; each caller gets its own deep copy to change freely. */
export function loadOpenApiDocument(): OpenApiDocument {
  cached ??= parse(readFileSync(OPENAPI_PATH, 'utf8')) as OpenApiDocument;
  return structuredClone(cached);
}
