import { parseWebhookDate } from '../src/http/dates';

// Every bound of the calendar check, exactly at the bound and one past it, in each written form
// that reaches it (with an offset, UTC with a space, a date alone).

const iso = (value: unknown) => {
  const parsed = parseWebhookDate(value);
  return parsed.ok ? parsed.date.toISOString() : `invalid: ${parsed.reason}`;
};

const NOT_A_DATE = /^invalid: is not a valid date-time/;
const OUT_OF_YEARS = /^invalid: is outside the years 1000-9999/;

describe('calendar bounds of a written date-time', () => {
  it.each([
    ['month 01', '2020-01-15T00:00:00Z', '2020-01-15T00:00:00.000Z'],
    ['month 12', '2020-12-15T00:00:00Z', '2020-12-15T00:00:00.000Z'],
    ['day 01', '2020-03-01T00:00:00Z', '2020-03-01T00:00:00.000Z'],
    ['day 31 of a 31-day month', '2020-03-31T00:00:00Z', '2020-03-31T00:00:00.000Z'],
    ['29 February of a leap year', '2020-02-29T00:00:00Z', '2020-02-29T00:00:00.000Z'],
    ['hour 23', '2020-03-01T23:00:00Z', '2020-03-01T23:00:00.000Z'],
    ['minute 59', '2020-03-01T00:59:00Z', '2020-03-01T00:59:00.000Z'],
    ['second 59', '2020-03-01T00:00:59Z', '2020-03-01T00:00:59.000Z'],
    ['the last instant of a day', '2020-03-01T23:59:59.999Z', '2020-03-01T23:59:59.999Z'],
    ['hour 00, minute 00, second 00', '2020-03-01T00:00:00Z', '2020-03-01T00:00:00.000Z'],
  ])('accepts %s', (_label, input, expected) => {
    expect(iso(input)).toBe(expected);
  });

  it.each([
    ['month 00', '2020-00-15T00:00:00Z'],
    ['month 13', '2020-13-15T00:00:00Z'],
    ['day 00', '2020-03-00T00:00:00Z'],
    ['day 32', '2020-03-32T00:00:00Z'],
    ['day 31 of a 30-day month', '2020-04-31T00:00:00Z'],
    ['29 February of a common year', '2021-02-29T00:00:00Z'],
    ['hour 24', '2020-03-01T24:00:00Z'],
    ['minute 60', '2020-03-01T00:60:00Z'],
    ['second 60', '2020-03-01T00:00:60Z'],
  ])('rejects %s as not a valid date-time', (_label, input) => {
    expect(iso(input)).toMatch(NOT_A_DATE);
  });

  it.each([
    ['month 13', '2020-13-01 00:00:00'],
    ['day 32', '2020-01-32 00:00:00'],
    ['hour 24', '2020-01-01 24:00:00'],
    ['minute 60', '2020-01-01 00:60'],
    ['second 60', '2020-01-01 00:00:60'],
  ])('rejects %s in the UTC form with a space', (_label, input) => {
    expect(iso(input)).toMatch(NOT_A_DATE);
  });

  it.each([['2020-00-01'], ['2020-13-01'], ['2020-01-00'], ['2020-01-32'], ['2020-06-31']])(
    'rejects the date alone %s',
    (input) => {
      expect(iso(input)).toMatch(NOT_A_DATE);
    },
  );

  it('reads an omitted second (and hour and minute of a date alone) as zero', () => {
    expect(iso('2020-03-01T07:08Z')).toBe('2020-03-01T07:08:00.000Z');
    expect(iso('2020-03-01 07:08')).toBe('2020-03-01T07:08:00.000Z');
    expect(iso('2020-03-01')).toBe('2020-03-01T00:00:00.000Z');
  });

  it('keeps milliseconds of a fraction and drops finer digits without rounding', () => {
    expect(iso('2020-03-01T00:00:00.5Z')).toBe('2020-03-01T00:00:00.500Z');
    expect(iso('2020-03-01T00:00:00.123456789Z')).toBe('2020-03-01T00:00:00.123Z');
    expect(iso('2020-03-01T00:00:00.9999Z')).toBe('2020-03-01T00:00:00.999Z');
    expect(iso('2020-03-01 00:00:00.25')).toBe('2020-03-01T00:00:00.250Z');
  });
});

describe('the years DevLake can store (1000-9999)', () => {
  it.each([
    ['the first instant of year 1000', '1000-01-01T00:00:00Z', '1000-01-01T00:00:00.000Z'],
    ['the last instant of year 9999', '9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
    ['year 1000 as a date alone', '1000-01-01', '1000-01-01T00:00:00.000Z'],
    ['year 9999 as a date alone', '9999-12-31', '9999-12-31T00:00:00.000Z'],
  ])('accepts %s', (_label, input, expected) => {
    expect(iso(input)).toBe(expected);
  });

  it.each([
    ['year 0999', '0999-12-31T23:59:59Z'],
    ['year 0099, which a naive Date.UTC would read as 1999', '0099-06-15'],
    ['year 0000', '0000-01-01T00:00:00Z'],
  ])('rejects %s', (_label, input) => {
    expect(iso(input)).toMatch(/^invalid: /);
    expect(iso(input)).not.toMatch(/^\d/);
  });

  it('rejects a time whose offset moves it past year 9999 or before year 1000', () => {
    expect(iso('9999-12-31T23:00:00-01:00')).toMatch(OUT_OF_YEARS);
    expect(iso('1000-01-01T00:30:00+01:00')).toMatch(OUT_OF_YEARS);
  });

  it('accepts a time whose offset keeps it inside the years', () => {
    expect(iso('9999-12-31T22:00:00-01:00')).toBe('9999-12-31T23:00:00.000Z');
    expect(iso('1000-01-01T01:00:00+01:00')).toBe('1000-01-01T00:00:00.000Z');
  });
});

describe('time zones', () => {
  it('reads a lower-case z as UTC, like Z', () => {
    expect(iso('2020-03-01T12:00:00z')).toBe('2020-03-01T12:00:00.000Z');
    expect(iso('2020-03-01t12:00:00z')).toBe('2020-03-01T12:00:00.000Z');
  });

  it('reads an offset of hours alone and with minutes, east and west', () => {
    expect(iso('2020-03-01T12:00:00+02')).toBe('2020-03-01T10:00:00.000Z');
    expect(iso('2020-03-01T12:00:00-02')).toBe('2020-03-01T14:00:00.000Z');
    expect(iso('2020-03-01T12:00:00+05:45')).toBe('2020-03-01T06:15:00.000Z');
    expect(iso('2020-03-01T12:00:00-23:59')).toBe('2020-03-02T11:59:00.000Z');
  });

  it.each([['+24:00'], ['-24:00'], ['+00:60'], ['+12:99']])('rejects the offset %s', (zone) => {
    expect(iso(`2020-03-01T12:00:00${zone}`)).toMatch(/^invalid: has an invalid time-zone offset/);
  });
});

describe('what is not a written date-time at all', () => {
  it('ignores spaces around the value', () => {
    expect(iso(' 2020-03-01T12:00:00Z\n')).toBe('2020-03-01T12:00:00.000Z');
  });

  it.each([['x2020-03-01T12:00:00Z'], ['2020-03-01T12:00:00Zx'], ['2020-03-01x'], ['12020-03-01'], ['2020-3-1']])(
    'rejects %p, which only contains a date-time',
    (input) => {
      expect(iso(input)).toMatch(/^invalid: is not a date-time this webhook understands/);
    },
  );

  it('names the forms it accepts for a value that is neither text, a number nor a Date', () => {
    expect(iso(true)).toBe('invalid: must be a date-time string (e.g. 2020-01-01T12:00:00+00:00) or an epoch number');
  });

  it('rejects an invalid Date object', () => {
    expect(iso(new Date('nonsense'))).toBe('invalid: is not a valid date');
    expect(iso(new Date('2020-03-01T12:00:00Z'))).toBe('2020-03-01T12:00:00.000Z');
  });
});

describe('epoch numbers: seconds or milliseconds by magnitude, inside the years 1000-9999', () => {
  const EPOCH_OUT_OF_YEARS = 'invalid: as an epoch number is outside the years 1000-9999';

  it('reads a negative epoch number by its magnitude too: seconds below 100000000000, milliseconds from it on', () => {
    expect(iso(-1)).toBe('1969-12-31T23:59:59.000Z');
    expect(iso('-1577880000')).toBe('1920-01-01T12:00:00.000Z');
    expect(iso(-99_999_999_999)).toMatch(/^invalid: /);
    expect(iso(-100_000_000_000)).toBe('1966-10-31T14:13:20.000Z');
  });

  it.each([
    ['the first millisecond of year 1000', -30_610_224_000_000, '1000-01-01T00:00:00.000Z'],
    ['the last millisecond of year 9999', 253_402_300_799_999, '9999-12-31T23:59:59.999Z'],
    ['the first second of year 1000', -30_610_224_000, '1000-01-01T00:00:00.000Z'],
  ])('accepts %s', (_label, input, expected) => {
    expect(iso(input)).toBe(expected);
    expect(iso(String(input))).toBe(expected);
  });

  it.each([
    ['the last millisecond of year 999', -30_610_224_000_001],
    ['the first millisecond of year 10000', 253_402_300_800_000],
    ['the last second of year 999', -30_610_224_001],
    ['a millisecond count past what a Date holds', 1e20],
  ])('rejects %s, naming the years', (_label, input) => {
    expect(iso(input)).toBe(EPOCH_OUT_OF_YEARS);
  });

  it('rejects what is no finite number: NaN and Infinity from a host, or too many digits in text', () => {
    const NOT_FINITE = 'invalid: is not a finite epoch number';
    expect(iso(Number.NaN)).toBe(NOT_FINITE);
    expect(iso(Number.POSITIVE_INFINITY)).toBe(NOT_FINITE);
    expect(iso(Number.NEGATIVE_INFINITY)).toBe(NOT_FINITE);
    expect(iso('1'.padEnd(400, '0'))).toBe(NOT_FINITE);
  });
});
