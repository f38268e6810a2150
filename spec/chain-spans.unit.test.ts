import { spansOf } from '../src/dora/devlake-dora-tables';

const BASE = Date.UTC(2026, 2, 1);
const spans = (finishes: number[]) =>
  spansOf(finishes.map((ms) => BASE + ms)).map(({ from, to }) => [from.getTime() - BASE, to.getTime() - BASE]);
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

describe('spansOf: the touched finishes of a chain as spans to rewalk', () => {
  it('joins finishes at most a second apart into one span, in order, each finish once', () => {
    expect(spans([1500, 0, 1000, 1000, 2500])).toEqual([[0, 2500]]);
  });

  it('keeps a burst as one span however far apart its deployments are, when they are evenly spread', () => {
    const burst = Array.from({ length: 40 }, (_, i) => i * MINUTE);
    expect(spans(burst)).toEqual([[0, 39 * MINUTE]]);
  });

  it('reads a deployment moved far from the others at its own place, not over everything between', () => {
    const burst = Array.from({ length: 40 }, (_, i) => 30 * DAY + i * MINUTE);
    expect(spans([0, ...burst])).toEqual([
      [0, 0],
      [30 * DAY, 30 * DAY + 39 * MINUTE],
    ]);
  });

  it('splits only where the gap is more than ten times the usual one', () => {
    // Usual gap: one minute. Ten minutes is not more than ten times it; eleven minutes is.
    expect(spans([0, MINUTE, 2 * MINUTE, 12 * MINUTE, 13 * MINUTE, 24 * MINUTE + 1, 25 * MINUTE + 1])).toEqual([
      [0, 13 * MINUTE],
      [24 * MINUTE + 1, 25 * MINUTE + 1],
    ]);
  });

  it('gives one span for one finish and nothing for none', () => {
    expect(spans([5])).toEqual([[5, 5]]);
    expect(spansOf([])).toEqual([]);
  });
});
