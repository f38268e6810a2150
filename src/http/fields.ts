import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateBy,
  ValidateNested,
  type ValidationArguments,
} from 'class-validator';
import { parseWebhookDate } from './dates';

/**
 * Field decorators for request DTOs. Each one carries DevLake's weak typing (docs/payloads.md):
 * `null` means absent, an empty string means absent for an optional field, a number where a
 * string is expected becomes that string, a numeric string where a number is expected is that
 * number. Each also registers the field for key normalisation (`normalize-keys.ts`), so a DTO
 * lists its fields once.
 */

type Ctor = abstract new (...args: never[]) => unknown;

export interface FieldInfo {
  /** The DTO property the key maps to. */
  property: string;
  /** For arrays of objects: the DTO of each element. */
  nested?: () => Ctor;
  /** A date field: the answer reports how it was read. */
  date?: boolean;
  /** A list of single values (numbers, strings): an array is its shape, not a mistake. */
  list?: boolean;
}

export interface FieldRegistry {
  /** Lower-case key without underscores → the field. */
  byKey: Map<string, FieldInfo>;
  /** Older names that mean another field (`start_time` → startedDate), same key form. */
  aliases: Map<string, FieldInfo>;
}

const registries = new WeakMap<object, FieldRegistry>();

/** The normalised form of a key: case and underscores do not matter (`commit_sha` = `CommitSha`). */
export function keyForm(key: string): string {
  return key.toLowerCase().replace(/_/g, '');
}

export function fieldRegistryOf(target: Ctor): FieldRegistry | undefined {
  return registries.get(target);
}

function register(
  target: object,
  property: string,
  aliases: string[] = [],
  nested?: () => Ctor,
  date?: boolean,
  list?: boolean,
): void {
  const ctor = target.constructor;
  let registry = registries.get(ctor);
  if (!registry) {
    registry = { byKey: new Map(), aliases: new Map() };
    registries.set(ctor, registry);
  }
  const info: FieldInfo = { property, nested, date, list };
  registry.byKey.set(keyForm(property), info);
  for (const alias of aliases) registry.aliases.set(keyForm(alias), info);
}

interface CommonOptions {
  required?: boolean;
  /** Other names senders use for this field (older DevLake versions). */
  aliases?: string[];
}

function compose(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => {
    for (const decorator of decorators) decorator(target, key);
  };
}

function registered(options: CommonOptions, nested?: () => Ctor, date?: boolean, list?: boolean): PropertyDecorator {
  return (target, key) => register(target, String(key), options.aliases, nested, date, list);
}

function presence(required: boolean | undefined): PropertyDecorator[] {
  return required ? [IsDefined({ message: '$property is required' })] : [IsOptional()];
}

/** Length in characters as MySQL counts them (code points), so 4-byte emoji count once. */
function characterLength(value: string): number {
  let count = 0;
  for (const _char of value) count += 1;
  return count;
}

const MaxCharacters = (max: number): PropertyDecorator =>
  ValidateBy({
    name: 'maxCharacters',
    constraints: [max],
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || characterLength(value) <= max,
      defaultMessage: (args?: ValidationArguments) =>
        `${args?.property} is longer than ${max} characters, the size of DevLake's column`,
    },
  });

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Refuses a lone UTF-16 surrogate (JSON allows `"\ud83d"`): UTF-8 cannot hold it, so MySQL and
 * SQLite would store U+FFFD instead, a silent change of what was sent (found by the fuzz test).
 * Refuses U+0000 too: PostgreSQL's text types cannot hold it, and an answer should not depend on
 * the engine behind the server.
 */
const WellFormedText = (): PropertyDecorator =>
  ValidateBy({
    name: 'wellFormedText',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || (!LONE_SURROGATE.test(value) && !value.includes('\0')),
      defaultMessage: (args?: ValidationArguments) =>
        typeof args?.value === 'string' && args.value.includes('\0')
          ? `${args.property} holds the character U+0000, which cannot be stored`
          : `${args?.property} holds a lone UTF-16 surrogate (e.g. half of an emoji), which cannot be stored`,
    },
  });

/**
 * A JSON number whose digits a string can keep: JSON.parse has already rounded an integer
 * above 2^53 (9007199254740993 arrives as ...992), so turning it into a string would store
 * another id than the one sent, and two ids would collide.
 */
function isExactNumber(value: number): boolean {
  return Number.isFinite(value) && (!Number.isInteger(value) || Number.isSafeInteger(value));
}

const ExactNumber = (): PropertyDecorator =>
  ValidateBy({
    name: 'exactNumber',
    validator: {
      validate: (value: unknown) => typeof value !== 'number' || isExactNumber(value),
      defaultMessage: (args?: ValidationArguments) =>
        `${args?.property} is a number above 2^53 whose digits JSON numbers cannot keep: send it as a string`,
    },
  });

/** A decimal number as text: digits, one optional point and exponent; no hex, octal or binary. */
const DECIMAL = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** A text field. `max` is the column's size in characters (omit for long text). */
export function StringField(options: CommonOptions & { max?: number } = {}): PropertyDecorator {
  return compose(
    registered(options),
    Transform(({ value }) => {
      if (value === null || value === undefined) return undefined;
      if (typeof value === 'number' && !isExactNumber(value)) return value;
      if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
      if (value === '' && !options.required) return undefined;
      return value;
    }),
    ...presence(options.required),
    ExactNumber(),
    IsString({ message: '$property must be a string' }),
    ...(options.required ? [IsNotEmpty({ message: '$property must not be empty' })] : []),
    ...(options.max !== undefined ? [MaxCharacters(options.max)] : []),
    WellFormedText(),
    // Long text columns are longtext on MySQL; 16 MiB is far above any body we accept anyway.
  );
}

/**
 * A number. Numeric strings are read as numbers. With `truncate`, a fraction is cut toward zero
 * (`1.7` is 1, `-2.5` is -2), as DevLake's decoder does for its integer fields; without it (our
 * own query parameters) a fraction is refused.
 */
export function NumberField(
  options: CommonOptions & { integer?: boolean; truncate?: boolean; min?: number; max?: number } = {},
): PropertyDecorator {
  const max = options.max ?? (options.integer ? Number.MAX_SAFE_INTEGER : undefined);
  return compose(
    registered(options),
    Transform(({ value }) => {
      if (value === null || value === undefined || value === '') return undefined;
      let read = value as unknown;
      // Decimal only: Number() also reads "0x10" as 16, "0b1" and "0o7", which no sender means.
      if (typeof read === 'string' && DECIMAL.test(read) && Number.isFinite(Number(read))) read = Number(read);
      // `|| 0`: -0.5 truncates to -0, which is 0.
      if (options.truncate && typeof read === 'number' && Number.isFinite(read)) return Math.trunc(read) || 0;
      return read;
    }),
    ...presence(options.required),
    // IsInt, not IsNumber's maxDecimalPlaces: that counts digits after a '.', so 3e-323 passed as
    // whole and reached a BIGINT column as a 500 (found by the fuzz test).
    options.integer
      ? IsInt({ message: '$property must be a whole number' })
      : IsNumber({ allowNaN: false, allowInfinity: false }, { message: '$property must be a number' }),
    ...(options.min !== undefined ? [Min(options.min, { message: `$property must be at least ${options.min}` })] : []),
    ...(max !== undefined ? [Max(max, { message: `$property must be at most ${max}` })] : []),
  );
}

/** The words Go's `strconv.ParseBool` reads, which DevLake's decoder uses for a string. */
const TRUE_WORDS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * A boolean, read as DevLake reads one: the words of Go's `ParseBool` (`"true"`, `"True"`,
 * `"t"`, `"1"`, ...) and any number (non-zero is true).
 */
export function BooleanField(options: CommonOptions = {}): PropertyDecorator {
  return compose(
    registered(options),
    Transform(({ value }) => {
      if (value === null || value === undefined || value === '') return undefined;
      if (typeof value === 'string' && TRUE_WORDS.has(value)) return true;
      if (typeof value === 'string' && FALSE_WORDS.has(value)) return false;
      if (typeof value === 'number' && Number.isFinite(value)) return value !== 0;
      return value;
    }),
    ...presence(options.required),
    IsBoolean({ message: '$property must be true or false' }),
  );
}

/** A date in any form docs/payloads.md lists ("Dates"); becomes a `Date`. */
export function DateField(options: CommonOptions = {}): PropertyDecorator {
  return compose(
    registered(options, undefined, true),
    Transform(({ value }) => {
      if (value === null || value === undefined || value === '') return undefined;
      const parsed = parseWebhookDate(value);
      return parsed.ok ? parsed.date : value;
    }),
    ...presence(options.required),
    ValidateBy({
      name: 'webhookDate',
      validator: {
        validate: (value: unknown) => value instanceof Date,
        defaultMessage: (args?: ValidationArguments) => {
          const parsed = parseWebhookDate(args?.value);
          return `${args?.property} ${parsed.ok ? 'is not a date' : parsed.reason}`;
        },
      },
    }),
  );
}

/** One of a fixed set of words, matched in any case and stored upper-case. */
export function EnumField(values: readonly string[], options: CommonOptions = {}): PropertyDecorator {
  return compose(
    registered(options),
    Transform(({ value }) => {
      if (value === null || value === undefined || value === '') return undefined;
      return typeof value === 'string' ? value.trim().toUpperCase() : value;
    }),
    ...presence(options.required),
    IsIn([...values], { message: `$property must be one of ${values.join(', ')}` }),
  );
}

/** An array of nested objects, each validated with its own DTO; a single object is a list of one (as in DevLake). */
export function NestedArrayField(
  nested: () => Ctor,
  options: CommonOptions & { min?: number; max?: number } = {},
): PropertyDecorator {
  return compose(
    registered(options, nested),
    Transform(({ value }) => (value === null ? undefined : value), { toClassOnly: true }),
    Type(nested as () => new () => unknown),
    ...presence(options.required),
    IsArray({ message: '$property must be an array of objects' }),
    ...(options.min ? [ArrayMinSize(options.min, { message: `$property must list at least ${options.min}` })] : []),
    ...(options.max ? [ArrayMaxSize(options.max, { message: `$property must list at most ${options.max}` })] : []),
    ValidateNested({ each: true }),
  );
}

/**
 * A list of whole numbers (keys such as pull request numbers); numeric strings are read as
 * numbers and a single number as a list of one.
 */
export function IntegerListField(options: CommonOptions & { max?: number } = {}): PropertyDecorator {
  return compose(
    registered(options, undefined, false, true),
    Transform(({ value }) => {
      if (value === null || value === undefined || value === '') return undefined;
      const list: unknown[] = Array.isArray(value) ? value : [value];
      return list.map((item) =>
        typeof item === 'string' && item.trim() !== '' && Number.isFinite(Number(item)) ? Number(item) : item,
      );
    }),
    ...presence(options.required),
    IsArray({ message: '$property must be a list of whole numbers' }),
    ...(options.max ? [ArrayMaxSize(options.max, { message: `$property must list at most ${options.max}` })] : []),
    IsInt({ each: true, message: '$property must list whole numbers only' }),
    Min(0, { each: true, message: '$property must list numbers of at least 0' }),
    Max(Number.MAX_SAFE_INTEGER, {
      each: true,
      message: `$property must list numbers of at most ${Number.MAX_SAFE_INTEGER}`,
    }),
  );
}
