import { InputError, type FieldCause } from '../http/errors';
import { parseWebhookDate } from '../http/dates';
import { BENCHMARKS, type Benchmark } from './dora.calculations';

/** What `GET .../dora` asks for: the window `[from, to)` (UTC) and the benchmark. */
export interface DoraQuery {
  from: Date;
  to: Date;
  benchmark: Benchmark;
}

const DAY_MS = 86_400_000;
export const DEFAULT_WINDOW_DAYS = 90;
/** A longer window is a mistake, and its weekly series would be tens of thousands of entries. */
export const MAX_WINDOW_DAYS = 3660;

/**
 * Reads `from`, `to` and `benchmark` from a query string, as validateBody does for bodies: every
 * bad parameter is named in `causes`. Dates take the forms of docs/payloads.md (`2026-03-02`,
 * `2026-03-02T00:00:00Z`, ...). Defaults: `to` now, `from` 90 days before `to`, benchmark 2023.
 */
export function parseDoraQuery(query: Record<string, unknown>, now: Date = new Date()): DoraQuery {
  const causes: FieldCause[] = [];
  const single = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') {
      causes.push({ field: name, message: `${name} must be given once` });
      return undefined;
    }
    return value;
  };
  const date = (name: string): Date | undefined => {
    const text = single(name);
    if (text === undefined) return undefined;
    const parsed = parseWebhookDate(text);
    if (parsed.ok) return parsed.date;
    causes.push({ field: name, message: `${name} ${parsed.reason}` });
    return undefined;
  };

  const sentTo = date('to');
  const sentFrom = date('from');
  const benchmarkText = single('benchmark') ?? '2023';
  if (!(BENCHMARKS as readonly string[]).includes(benchmarkText)) {
    causes.push({ field: 'benchmark', message: `benchmark must be one of ${BENCHMARKS.join(', ')}` });
  }
  const to = sentTo ?? now;
  const from = sentFrom ?? new Date(to.getTime() - DEFAULT_WINDOW_DAYS * DAY_MS);
  if (causes.length === 0) {
    if (from.getTime() >= to.getTime()) {
      causes.push({ field: sentTo ? 'to' : 'from', message: 'the window is empty: from must be before to' });
    } else if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY_MS) {
      causes.push({ field: 'from', message: `the window must not be longer than ${MAX_WINDOW_DAYS} days` });
    }
  }
  if (causes.length > 0) {
    throw new InputError(`invalid query: ${causes.map((c) => `${c.field}: ${c.message}`).join('; ')}`, causes);
  }
  return { from, to, benchmark: benchmarkText as Benchmark };
}
