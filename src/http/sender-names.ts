import { dateWarning } from './dates';
import type { FieldCause } from './errors';
import { fieldRegistryOf, keyForm, type FieldRegistry } from './fields';

/**
 * Speaking the sender's language: a body may spell a field `commit_sha`, `commitSha`,
 * `CommitSha` or by an older name (`start_time` for `startedDate`). Validation works on the
 * DTO's names; every cause and every date read back in the answer is named again as the sender
 * wrote it, or, for a field the sender left out, in the spelling the body uses (snake_case when
 * its keys are snake_case, camelCase otherwise).
 */

type Ctor = abstract new (...args: never[]) => unknown;

interface Naming {
  registry: FieldRegistry | undefined;
  /** DTO property → the key as sent. */
  sent: Map<string, string>;
  snake: boolean;
  /** For arrays of objects: the naming of each element, by index. */
  items: Map<string, Naming[]>;
}

/** Which DTO each request body was validated with, so that errors can be named later. */
const validatedWith = new WeakMap<object, Ctor>();

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Called by `validateBody`: remembers the DTO a body is read with. */
export function rememberDto(body: unknown, dto: Ctor): void {
  if (isPlainObject(body)) validatedWith.set(body, dto);
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

function namingOf(body: Record<string, unknown>, dto: Ctor, parentSnake = false): Naming {
  const registry = fieldRegistryOf(dto);
  const keys = Object.keys(body);
  const snake = keys.length > 0 ? keys.some((key) => key.includes('_')) : parentSnake;
  const naming: Naming = { registry, sent: new Map(), snake, items: new Map() };
  if (!registry) return naming;
  for (const [key, value] of Object.entries(body)) {
    const form = keyForm(key);
    const own = registry.byKey.get(form);
    const info = own ?? registry.aliases.get(form);
    if (!info) continue;
    // The field's own name wins over an alias, as in `normalizeKeys`.
    if (own || !naming.sent.has(info.property)) naming.sent.set(info.property, key);
    if (info.nested && Array.isArray(value)) {
      const nested = info.nested();
      naming.items.set(
        info.property,
        value.map((item) => namingOf(isPlainObject(item) ? item : {}, nested, snake)),
      );
    }
  }
  return naming;
}

function nameIn(naming: Naming, property: string): string {
  return naming.sent.get(property) ?? (naming.snake ? snakeCase(property) : property);
}

/** `deploymentCommits[1].commitSha` → `deployment_commits[1].commit_sha`, and the naming of its last level. */
function translatePath(root: Naming, path: string): { path: string; last: Naming; lastProperty: string } {
  let naming = root;
  let out = '';
  let lastProperty = '';
  for (const [, property, index] of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (property !== undefined) {
      out += `${out ? '.' : ''}${nameIn(naming, property)}`;
      lastProperty = property;
    } else {
      out += `[${index}]`;
      const next = naming.items.get(lastProperty)?.[Number(index)];
      naming = next ?? { registry: undefined, sent: new Map(), snake: naming.snake, items: new Map() };
    }
  }
  return { path: out, last: naming, lastProperty };
}

/**
 * Renames the DTO's names in a message: its leading word (the field itself) and any other
 * camelCase field name of the same level (plain words such as `id` or `name` are left alone,
 * since they are also English).
 */
function translateMessage(message: string, naming: Naming, lastProperty: string): string {
  return message.replace(/\b[A-Za-z][A-Za-z0-9]*\b/g, (word, offset: number) => {
    const isField = naming.registry?.byKey.get(keyForm(word))?.property === word;
    if (!isField) return word;
    if (offset === 0 && word === lastProperty) return nameIn(naming, word);
    return /[A-Z]/.test(word) ? nameIn(naming, word) : word;
  });
}

/** The causes of an error about `body`, named as its sender wrote the fields. */
export function causesInSenderWords(body: unknown, causes: FieldCause[]): FieldCause[] {
  const dto = isPlainObject(body) ? validatedWith.get(body) : undefined;
  if (!dto || !isPlainObject(body)) return causes;
  const root = namingOf(body, dto);
  return causes.map((cause) => {
    const { path, last, lastProperty } = translatePath(root, cause.field);
    return { field: path, message: translateMessage(cause.message, last, lastProperty) };
  });
}

/** How the dates of a body were read: the stored instants, and warnings about unlikely ones. */
export interface DatesRead {
  /** Each date sent, by the sender's name (`start_time`, `deploymentCommits[0].finishedDate`), as an ISO instant. */
  dates: Record<string, string>;
  /** Dates before 2000 or more than a day after arrival (stored anyway). */
  warnings: FieldCause[];
}

/**
 * Reports every date field of a validated DTO under the sender's name, with a warning for
 * the unlikely ones (see `dateWarning`).
 */
export function datesRead(body: unknown, instance: object, receivedAt: Date): DatesRead {
  const report: DatesRead = { dates: {}, warnings: [] };
  const dto = instance.constructor as Ctor;
  const root = namingOf(isPlainObject(body) ? body : {}, dto);
  const visit = (value: object, registry: FieldRegistry | undefined, prefix: string) => {
    if (!registry) return;
    for (const info of registry.byKey.values()) {
      const field = (value as Record<string, unknown>)[info.property];
      const path = `${prefix}${prefix ? '.' : ''}${info.property}`;
      if (info.date && field instanceof Date) {
        const name = translatePath(root, path).path;
        report.dates[name] = field.toISOString();
        const warning = dateWarning(field, receivedAt);
        if (warning) report.warnings.push({ field: name, message: `${name} ${warning}` });
      } else if (info.nested && Array.isArray(field)) {
        const nested = fieldRegistryOf(info.nested());
        field.forEach((item: unknown, index) => {
          if (item && typeof item === 'object') visit(item, nested, `${path}[${index}]`);
        });
      }
    }
  };
  visit(instance, fieldRegistryOf(dto), '');
  return report;
}
