import { parseWebhookDate } from '../src/http/dates';

const iso = (value: unknown) => {
  const parsed = parseWebhookDate(value);
  return parsed.ok ? parsed.date.toISOString() : `invalid: ${parsed.reason}`;
};

describe('dates as DevLake senders write them (contract §3)', () => {
  it.each([
    ['2020-01-01T12:00:00+00:00', '2020-01-01T12:00:00.000Z'],
    ['2020-01-01T12:00:00.123Z', '2020-01-01T12:00:00.123Z'],
    ['2020-01-01T12:00:00+08:00', '2020-01-01T04:00:00.000Z'],
    ['2020-01-01T12:00:00+0800', '2020-01-01T04:00:00.000Z'],
    ['2020-01-01T12:00:00-0530', '2020-01-01T17:30:00.000Z'],
    ['2020-01-01 12:00:00', '2020-01-01T12:00:00.000Z'],
    ['2020-01-01 12:00', '2020-01-01T12:00:00.000Z'],
    ['2020-01-01', '2020-01-01T00:00:00.000Z'],
    [1577880000000, '2020-01-01T12:00:00.000Z'],
  ])('reads %p as %s', (input, expected) => {
    expect(iso(input)).toBe(expected);
  });

  it('rejects a date-time without a zone and asks for an offset', () => {
    expect(iso('2020-01-01T12:00:00')).toMatch(/invalid: has no time-zone offset/);
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
