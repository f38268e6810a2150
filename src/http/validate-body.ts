import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import { InputError, type FieldCause } from './errors';
import { fieldRegistryOf, keyForm } from './fields';
import { rememberDto } from './sender-names';

type DtoClass<T> = new () => T;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Maps every key of `body` to the DTO's own property names (docs/payloads.md, "Field names"): keys match without
 * regard to case or underscores (`commit_sha`, `CommitSha`, `COMMITSHA` are `commitSha`), the
 * older names listed as aliases map to their field (`start_time` → `startedDate`), and keys the
 * DTO does not know are dropped, since senders add their own. When both a field's own name and
 * an alias are sent, the own name wins.
 */
export function normalizeKeys(
  body: Record<string, unknown>,
  dto: abstract new (...args: never[]) => unknown,
): Record<string, unknown> {
  const registry = fieldRegistryOf(dto);
  const out: Record<string, unknown> = {};
  if (!registry) return out;
  const fromAlias = new Set<string>();
  for (const [key, value] of Object.entries(body)) {
    const form = keyForm(key);
    const own = registry.byKey.get(form);
    const info = own ?? registry.aliases.get(form);
    if (!info) continue;
    if (!own && info.property in out && !fromAlias.has(info.property)) continue;
    let normalized = value;
    if (info.nested && (Array.isArray(value) || isPlainObject(value))) {
      // A single object where a list is expected is a list of one, as DevLake's decoder reads it.
      const nestedDto = info.nested();
      const items: unknown[] = Array.isArray(value) ? value : [value];
      normalized = items.map((item) => (isPlainObject(item) ? normalizeKeys(item, nestedDto) : item));
    }
    out[info.property] = normalized;
    if (own) fromAlias.delete(info.property);
    else fromAlias.add(info.property);
  }
  return out;
}

/** Which DTO fields the body sent at all, even as `null` or `""` (for PATCH semantics). */
export function sentKeys(body: unknown, dto: abstract new (...args: never[]) => unknown): Set<string> {
  return new Set(isPlainObject(body) ? Object.keys(normalizeKeys(body, dto)) : []);
}

/** Flattens class-validator's tree into `causes` with paths like `deploymentCommits[1].commitSha`. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldCause[] {
  const causes: FieldCause[] = [];
  for (const error of errors) {
    const path = /^\d+$/.test(error.property)
      ? `${parent}[${error.property}]`
      : parent
        ? `${parent}.${error.property}`
        : error.property;
    for (const message of Object.values(error.constraints ?? {})) {
      causes.push({ field: path, message });
    }
    if (error.children?.length) causes.push(...flattenValidationErrors(error.children, path));
  }
  return causes;
}

/**
 * Turns causes into the one-line message of the envelope. A message that starts with the
 * field's own name is shown after the full path once (`deploymentCommits[1].commitSha is
 * required`), not as `path: name is required`.
 */
export function summarizeCauses(causes: FieldCause[]): string {
  const shown = causes.slice(0, 5).map(({ field, message }) => {
    const name = /([^.[\]]+)$/.exec(field)?.[1] ?? field;
    return message.startsWith(`${name} `) ? `${field}${message.slice(name.length)}` : `${field}: ${message}`;
  });
  const more = causes.length > 5 ? ` (and ${causes.length - 5} more)` : '';
  return `invalid request: ${shown.join('; ')}${more}`;
}

/**
 * Causes for values of the wrong shape, found before class-transformer sees them: an object or
 * array where a single value belongs, or an element of a list of objects that is not an
 * object. class-transformer would otherwise construct from them (a key `constructor` made it
 * call a number, nested arrays or thousands of nesting levels overflowed it): a 500 for a
 * client's mistake. Each such field is removed from `plain` (our own copy, from
 * `normalizeKeys`), so that the other fields are still validated and named.
 */
function isJsonContainer(value: unknown): boolean {
  if (Array.isArray(value)) return true;
  if (value === null || typeof value !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function takeMisshapen(
  plain: Record<string, unknown>,
  dto: abstract new (...args: never[]) => unknown,
  parent = '',
): FieldCause[] {
  const registry = fieldRegistryOf(dto);
  const causes: FieldCause[] = [];
  for (const [property, value] of Object.entries(plain)) {
    // Only what JSON makes (plain objects, arrays): a service may pass a Date it built itself.
    if (!isJsonContainer(value)) continue;
    const path = parent ? `${parent}.${property}` : property;
    const info = registry?.byKey.get(keyForm(property));
    const nested = info?.nested;
    if (info?.list && Array.isArray(value)) {
      // A list of single values: only an element that is itself an object or array is misshapen.
      const bad = value.findIndex((item) => isJsonContainer(item));
      if (bad >= 0) {
        causes.push({ field: `${path}[${bad}]`, message: `each element of ${property} must be a single value` });
        delete plain[property];
      }
    } else if (!nested) {
      causes.push({ field: path, message: `${property} must be a single value, not an object or an array` });
      delete plain[property];
    } else if (Array.isArray(value)) {
      const found: FieldCause[] = [];
      value.forEach((item, index) => {
        if (isPlainObject(item)) found.push(...takeMisshapen(item, nested(), `${path}[${index}]`));
        else if (isJsonContainer(item)) {
          found.push({ field: `${path}[${index}]`, message: `each element of ${property} must be an object` });
        }
      });
      if (found.length > 0) {
        causes.push(...found);
        delete plain[property];
      }
    }
  }
  return causes;
}

/**
 * The one validation step of every route: normalise keys, build the DTO with
 * DevLake's weak typing, validate, and throw an InputError that names every bad field.
 */
export async function validateBody<T extends object>(dto: DtoClass<T>, body: unknown): Promise<T> {
  rememberDto(body, dto);
  const plain = isPlainObject(body) ? normalizeKeys(body, dto) : {};
  const misshapen = takeMisshapen(plain, dto);
  const instance = plainToInstance(dto, plain, { exposeUnsetFields: false });
  const errors = await validate(instance, {
    whitelist: true,
    forbidNonWhitelisted: false,
    forbidUnknownValues: false,
    // One cause per field: "is required" alone, not also "must be a string" and "must not be empty".
    stopAtFirstError: true,
    validationError: { target: false, value: false },
  });
  if (errors.length > 0 || misshapen.length > 0) {
    // A removed field must not also be reported as missing.
    const removed = (field: string) =>
      misshapen.some((cause) => field === cause.field || cause.field.startsWith(`${field}[`));
    const causes = [...misshapen, ...flattenValidationErrors(errors).filter((cause) => !removed(cause.field))];
    throw new InputError(summarizeCauses(causes), causes);
  }
  return instance;
}
