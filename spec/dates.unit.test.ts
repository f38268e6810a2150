import { dateWarning, parseWebhookDate } from '../src/http/dates';

const iso = (value: unknown) => {
  const parsed = parseWebhookDate(value);
  return parsed.ok ? parsed.date.toISOString() : `invalid: ${parsed.reason}`;
};

describe('dates as senders write them (docs/payloads.md, "Dates")', () => {
  it.each([
    ['2020-01-01T12:00:00+00:00', '2020-01-01T12:00:00.000Z'],
    ['2020-01-01T12:00:00.123Z', '2020-01-01T12:00:00.123Z'],
    ['2020-01-01T12:00:00+08:00', '2020-01-01T04:00:00.000Z'],
    ['2020-01-01T12:00:00+0800', '2020-01-01T04:00:00.000Z'],
    ['2020-01-01T12:00:00-0530', '2020-01-01T17:30:00.000Z'],
    ['2020-01-01 12:00:00', '2020-01-01T12:00:00.000Z'],
    ['2020-01-01 12:00', '2020-01-01T12:00:00.000Z'],
    ['2020-01-01', '2020-01-01T00:00:00.000Z'],
    ['2020-01-01T12:00:00+08', '2020-01-01T04:00:00.000Z'],
    ['2020-01-01T12:00:00,5+08:00', '2020-01-01T04:00:00.500Z'],
    ['2020-01-01 12:00:00,25', '2020-01-01T12:00:00.250Z'],
    ['2020-01-01T12:00:00.123456789Z', '2020-01-01T12:00:00.123Z'],
  ])('reads %p as %s', (input, expected) => {
    expect(iso(input)).toBe(expected);
  });

  it.each([['2020-01-01T12:00:00'], ['2020-01-01 12:00:00'], ['2020-01-01t12:00:00'], ['2020-01-01T12:00:00Z']])(
    'reads a date-time without an offset as UTC whatever the separator (%p)',
    (input) => {
      expect(iso(input)).toBe('2020-01-01T12:00:00.000Z');
    },
  );

  it.each([
    [1577880000, '2020-01-01T12:00:00.000Z'],
    ['1577880000', '2020-01-01T12:00:00.000Z'],
    [1577880000.25, '2020-01-01T12:00:00.250Z'],
    [99_999_999_999, '5138-11-16T09:46:39.000Z'],
  ])('reads epoch number %p below 100000000000 as seconds', (input, expected) => {
    expect(iso(input)).toBe(expected);
  });

  it.each([
    [1577880000000, '2020-01-01T12:00:00.000Z'],
    ['1577880000000', '2020-01-01T12:00:00.000Z'],
    [100_000_000_000, '1973-03-03T09:46:40.000Z'],
  ])('reads epoch number %p from 100000000000 on as milliseconds', (input, expected) => {
    expect(iso(input)).toBe(expected);
  });

  it.each([
    ['2020-02-30'],
    ['2020-13-01T00:00:00Z'],
    ['yesterday'],
    [''],
    [true],
    [{}],
    ['2020-01-01T25:00:00Z'],
    [1e20],
  ])('rejects %p with a reason', (input) => {
    expect(iso(input)).toMatch(/^invalid: /);
  });
});

describe('warnings for dates that were read but look wrong', () => {
  const arrived = new Date('2026-03-01T12:00:00Z');

  it('warns about a date before 2000, showing how it was read', () => {
    expect(dateWarning(new Date('1999-12-31T23:59:59.999Z'), arrived)).toMatch(
      /^was read as 1999-12-31T23:59:59.999Z, before 2000/,
    );
  });

  it('warns about a date more than a day after the request arrived', () => {
    expect(dateWarning(new Date('2026-03-02T12:00:00.001Z'), arrived)).toMatch(/more than a day after/);
  });

  it.each([['2000-01-01T00:00:00Z'], ['2026-03-02T12:00:00Z'], ['2020-06-01T00:00:00Z']])(
    'does not warn about %s',
    (date) => {
      expect(dateWarning(new Date(date), arrived)).toBeUndefined();
    },
  );
});
