/**
 * Date parsing as DevLake senders use it (contract §3). Returns a Date, or a reason the value
 * is not a date that the caller can show next to the field.
 */
export type ParsedDate = { ok: true; date: Date } | { ok: false; reason: string };

const ZONED = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)$/;
const UTC_SPACE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const ZONELESS_T = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

const EXAMPLE = 'e.g. 2020-01-01T12:00:00+00:00';

function build(parts: string[], offsetMinutes: number): ParsedDate {
  const [year, month, day, hour = '0', minute = '0', second = '0', fraction = ''] = parts;
  const y = Number(year);
  const mo = Number(month);
  const d = Number(day);
  const h = Number(hour);
  const mi = Number(minute);
  const s = Number(second);
  const ms = fraction ? Math.floor(Number(`0.${fraction}`) * 1000) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) {
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

function offsetOf(zone: string): number | undefined {
  if (zone === 'Z' || zone === 'z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
  if (!m) return undefined;
  const hours = Number(m[2]);
  const minutes = Number(m[3] ?? '0');
  if (hours > 23 || minutes > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

export function parseWebhookDate(value: unknown): ParsedDate {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? { ok: false, reason: 'is not a valid date' } : { ok: true, date: value };
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, reason: 'is not a finite number of epoch milliseconds' };
    const date = new Date(value);
    if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1000 || date.getUTCFullYear() > 9999) {
      return { ok: false, reason: 'as epoch milliseconds is outside the years 1000-9999' };
    }
    return { ok: true, date };
  }
  if (typeof value !== 'string') {
    return { ok: false, reason: `must be a date-time string (${EXAMPLE}) or epoch milliseconds` };
  }
  const text = value.trim();
  let m = ZONED.exec(text);
  if (m) {
    const offset = offsetOf(m[8]);
    if (offset === undefined) return { ok: false, reason: `has an invalid time-zone offset (${EXAMPLE})` };
    return build(m.slice(1, 8), offset);
  }
  m = UTC_SPACE.exec(text);
  if (m) return build(m.slice(1, 8), 0);
  m = DATE_ONLY.exec(text);
  if (m) return build(m.slice(1, 4), 0);
  if (ZONELESS_T.test(text)) {
    return {
      ok: false,
      reason: `has no time-zone offset; add Z or an offset such as +00:00 (${EXAMPLE}) so the time is not guessed`,
    };
  }
  return { ok: false, reason: `is not a date-time this webhook understands (${EXAMPLE})` };
}
