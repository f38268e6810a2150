/**
 * The one reader of dates in request bodies; the rules are written out for senders in
 * docs/payloads.md ("Dates"). Returns a Date, or a reason the value is not a date that the
 * caller can show next to the field.
 *
 * - A date-time with `Z` or an offset (`+08:00`, `+0800`, `+08`) is that instant.
 * - A date-time without an offset is UTC, whether date and time are separated by `T` or a space
 *   (`2020-01-01T12:00:00` = `2020-01-01 12:00:00` = `2020-01-01T12:00:00Z`); a date alone is
 *   midnight UTC.
 * - Fractions of a second may follow a `.` or a `,` (ISO 8601 allows both); milliseconds are
 *   kept, finer digits dropped.
 * - An epoch number (JSON number, or a string of digits) is read by its magnitude: below
 *   100 000 000 000 it is seconds (what `date +%s` prints; that many seconds is the year 5138),
 *   otherwise milliseconds (what `Date.now()` gives; that many milliseconds is March 1973).
 */
export type ParsedDate = { ok: true; date: Date } | { ok: false; reason: string };

/**
 * A date, then optionally a time: hours and minutes, optional seconds with an optional fraction
 * after `.` or `,`, an optional zone (absent = UTC): `Z`, `z`, or an offset's sign, hours and
 * optional minutes (`+08`, `+0800`, `+08:00`).
 */
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:[Zz]|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;
const EPOCH_TEXT = /^-?\d+(\.\d+)?$/;

/** Epoch numbers below this are seconds, from it on milliseconds (see the rules above). */
export const EPOCH_MILLISECONDS_FROM = 100_000_000_000;

const EXAMPLE = 'e.g. 2020-01-01T12:00:00+00:00';

/**
 * `fields`: year, month, day, hour, minute and second as written; one not written (a date alone
 * has no time, a time may lack its second) is 0. `fraction`: the digits after the second.
 */
function build(fields: (string | undefined)[], fraction: string | undefined, offsetMinutes: number): ParsedDate {
  const [y, mo, d, h, mi, s] = fields.map((field) => Number(field ?? 0));
  const ms = Number((fraction ?? '').padEnd(3, '0').slice(0, 3));
  // A day past the month's end (or day 0) shows in `check` below, as another day of the month.
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59) {
    return { ok: false, reason: `is not a valid date-time (${EXAMPLE})` };
  }
  const utc = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const check = new Date(Date.UTC(y, mo - 1, d));
  if (check.getUTCDate() !== d || y < 1000) {
    return { ok: false, reason: `is not a valid date-time (${EXAMPLE})` };
  }
  const date = new Date(utc - offsetMinutes * 60_000);
  // DevLake's columns are datetime(3); years outside 1000-9999 cannot be stored.
  if (date.getUTCFullYear() < 1000 || date.getUTCFullYear() > 9999) {
    return { ok: false, reason: 'is outside the years 1000-9999' };
  }
  return { ok: true, date };
}

export function parseWebhookDate(value: unknown): ParsedDate {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? { ok: false, reason: 'is not a valid date' } : { ok: true, date: value };
  }
  if (typeof value === 'number') return fromEpoch(value);
  if (typeof value !== 'string') {
    return { ok: false, reason: `must be a date-time string (${EXAMPLE}) or an epoch number` };
  }
  const text = value.trim();
  if (EPOCH_TEXT.test(text)) return fromEpoch(Number(text));
  const m = DATE_TIME.exec(text);
  if (!m) return { ok: false, reason: `is not a date-time this webhook understands (${EXAMPLE})` };
  const [, y, mo, d, h, mi, s, fraction, sign, offsetHours, offsetMinutes] = m;
  // No zone, `Z` and `z` (and a date alone) leave the offset's sign, hours and minutes out: UTC.
  const hours = Number(offsetHours ?? 0);
  const minutes = Number(offsetMinutes ?? 0);
  if (hours > 23 || minutes > 59) return { ok: false, reason: `has an invalid time-zone offset (${EXAMPLE})` };
  return build([y, mo, d, h, mi, s], fraction, (sign === '-' ? -1 : 1) * (hours * 60 + minutes));
}

/** Seconds or milliseconds since 1970-01-01 UTC, told apart by magnitude. */
function fromEpoch(value: number): ParsedDate {
  if (!Number.isFinite(value)) return { ok: false, reason: 'is not a finite epoch number' };
  const ms = Math.abs(value) < EPOCH_MILLISECONDS_FROM ? value * 1000 : value;
  const date = new Date(Math.trunc(ms));
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1000 || date.getUTCFullYear() > 9999) {
    return { ok: false, reason: 'as an epoch number is outside the years 1000-9999' };
  }
  return { ok: true, date };
}

/** Dates before this are most likely a misread or a placeholder: the answer warns about them. */
export const EARLIEST_PLAUSIBLE = new Date(Date.UTC(2000, 0, 1));
/** How far past the time of arrival a date may lie before the answer warns (clock skew). */
export const FUTURE_TOLERANCE_MS = 24 * 60 * 60 * 1000;

/**
 * Why a date that was read fine still looks wrong, or undefined: before 2000, or more than a
 * day after the request arrived. The date is stored as read either way; the warning is there
 * so that a sender sees a misread (seconds sent as milliseconds, a local time sent as UTC) at
 * once.
 */
export function dateWarning(date: Date, receivedAt: Date): string | undefined {
  if (date < EARLIEST_PLAUSIBLE) {
    return `was read as ${date.toISOString()}, before 2000: check the value (epoch numbers are seconds below 100000000000, milliseconds from there on)`;
  }
  if (date.getTime() - receivedAt.getTime() > FUTURE_TOLERANCE_MS) {
    return `was read as ${date.toISOString()}, more than a day after this request arrived: check the value and its time-zone offset`;
  }
  return undefined;
}
