import {
  computeDora,
  lowerMedian,
  type ChangeOutcome,
  type DoraInput,
  type IncidentFacts,
} from '../src/dora/dora.calculations';
import { parseDoraQuery } from '../src/dora/dora.dto';
import { InputError } from '../src/http/errors';

const at = (iso: string) => new Date(iso);
const FROM = at('2026-03-02T00:00:00Z');
const TO = at('2026-03-16T00:00:00Z');

function input(overrides: Partial<DoraInput>): DoraInput {
  return { from: FROM, to: TO, benchmark: '2023', deployments: [], changes: [], incidents: [], ...overrides };
}

/** A change merged when it was created and deployed at `deployed` by its merge commit. */
function change(id: string, created: string, deployed: string | null, merged = created): ChangeOutcome {
  return {
    id,
    created: at(created),
    merged: at(merged),
    deployed: deployed ? at(deployed) : null,
    rule: deployed ? 'mergeCommit' : null,
  };
}

function incident(overrides: Partial<IncidentFacts> & { id: string }): IncidentFacts {
  return { created: null, resolved: null, leadTimeMinutes: null, namedDeploymentId: null, ...overrides };
}

describe('DORA arithmetic (dora-metrics.md)', () => {
  it('uses the lower median: the smaller of two, the second of four', () => {
    expect(lowerMedian([])).toBeNull();
    expect(lowerMedian([7])).toBe(7);
    expect(lowerMedian([1620, 1440])).toBe(1440);
    expect(lowerMedian([4, 1, 3, 2])).toBe(2);
    expect(lowerMedian([5, 1, 3])).toBe(3);
  });

  it('counts only the weeks the window covers whole, weeks without deployments as 0; the weekly series still shows the edges', () => {
    // Wednesday 2026-03-04 to Wednesday 2026-03-18: only the week of 03-09 is whole.
    const result = computeDora(
      input({
        from: at('2026-03-04T00:00:00Z'),
        to: at('2026-03-18T00:00:00Z'),
        deployments: [{ id: 'd', time: at('2026-03-10T12:00:00Z') }],
      }),
    );
    expect(result.weekly.map((w) => [w.weekStart, w.deploymentDays])).toEqual([
      ['2026-03-02', 0],
      ['2026-03-09', 1],
      ['2026-03-16', 0],
    ]);
    // Partial edge weeks (0 each) would have made the lower median 0 and the level "medium".
    expect(result.deploymentFrequency).toMatchObject({
      medianDaysPerWeek: 1,
      wholeUnits: { weeks: 1, months: 0 },
      level: 'high',
      note: null,
    });
  });

  it('2021: a 30-day window starting on 31 January counts February, not the one-day January (7 deployment days → high)', () => {
    const from = at('2026-01-31T00:00:00Z');
    const to = at('2026-03-02T00:00:00Z');
    const deployments = [2, 5, 9, 12, 16, 19, 23].map((day) => ({
      id: `d${day}`,
      time: new Date(Date.UTC(2026, 1, day, 10)),
    }));
    const result = computeDora(input({ from, to, benchmark: '2021', deployments }));
    // Before the edge rule: months [0 (Jan 31), 7 (Feb), 0 (Mar 1)] → lower median 0 → "low".
    expect(result.deploymentFrequency).toMatchObject({
      medianDaysPerMonth: 7,
      wholeUnits: { weeks: 4, months: 1, sixMonths: 0 },
      level: 'high',
      note: null,
    });
  });

  it('2023: a window ending on the 1st of a month does not count that day as a month', () => {
    // 2026-02-01 to 2026-03-02: February whole, 1 March is not a month. One deployment day.
    const result = computeDora(
      input({
        from: at('2026-02-01T00:00:00Z'),
        to: at('2026-03-02T00:00:00Z'),
        deployments: [{ id: 'd', time: at('2026-02-16T10:00:00Z') }],
      }),
    );
    // Counting 1 March as a month: [1, 0] → lower median 0 → "low".
    expect(result.deploymentFrequency).toMatchObject({
      medianDaysPerWeek: 0,
      medianDaysPerMonth: 1,
      wholeUnits: { weeks: 4, months: 1 },
      level: 'medium',
    });
  });

  it('2021: a 90-day window (no whole six months) answers from the days it covers and says so, not "low"', () => {
    // 2026-04-01 to 2026-06-30 lies inside January-June: no whole half-year. 1 deployment day in 90.
    const result = computeDora(
      input({
        from: at('2026-04-01T00:00:00Z'),
        to: at('2026-06-30T00:00:00Z'),
        benchmark: '2021',
        deployments: [{ id: 'd', time: at('2026-05-05T10:00:00Z') }],
      }),
    );
    // Months [0, 1] (April, May; June is cut) → lower median 0: not "high". Six months: 1 × 182.625 / 90.
    expect(result.deploymentFrequency).toMatchObject({
      medianDaysPerMonth: 0,
      medianDaysPerSixMonths: 2.03,
      scaled: ['sixMonths'],
      level: 'medium',
    });
    expect(result.deploymentFrequency.note).toBe(
      'the window covers no whole six months: deployment days per six months are scaled from the 90 days covered',
    );
  });

  it('scales the weekly rate from the days covered when no whole week fits (3 days, 2 deployment days → 4.67 per week)', () => {
    const result = computeDora(
      input({
        from: at('2026-03-04T00:00:00Z'),
        to: at('2026-03-07T00:00:00Z'),
        deployments: [
          { id: 'a', time: at('2026-03-04T10:00:00Z') },
          { id: 'b', time: at('2026-03-05T10:00:00Z') },
        ],
      }),
    );
    expect(result.deploymentFrequency).toMatchObject({
      medianDaysPerWeek: 4.67,
      wholeUnits: { weeks: 0 },
      scaled: ['week', 'month', 'sixMonths'],
      level: 'high',
      note: 'the window covers no whole week: deployment days per week are scaled from the 3 days covered',
    });
  });

  it('starts weeks on Monday in UTC, whatever day 1970-01-01 was', () => {
    const result = computeDora(
      input({
        from: at('2026-03-01T00:00:00Z'), // a Sunday
        to: at('2026-03-02T00:00:00Z'),
        deployments: [{ id: 'd', time: at('2026-03-01T23:59:59.999Z') }],
      }),
    );
    expect(result.weekly).toEqual([{ weekStart: '2026-02-23', deployments: 1, deploymentDays: 1, incidents: 0 }]);
  });

  it('counts a deployment at exactly `to` out of the window and one at exactly `from` in it', () => {
    const result = computeDora(
      input({
        deployments: [
          { id: 'a', time: FROM },
          { id: 'b', time: TO },
        ],
      }),
    );
    expect(result.deploymentFrequency.deployments).toBe(1);
  });

  it('rates a lead time of exactly 1440 minutes high, not elite (2023: elite is < 1 day)', () => {
    const result = computeDora(input({ changes: [change('p', '2026-03-02T10:00:00Z', '2026-03-03T10:00:00Z')] }));
    expect(result.leadTimeForChanges).toMatchObject({ changes: 1, medianMinutes: 1440, level: 'high' });
    const oneMinuteLess = computeDora(
      input({ changes: [change('p', '2026-03-02T10:00:01Z', '2026-03-03T10:00:00Z')] }),
    );
    // 1439.98 minutes rounds up to 1440.
    expect(oneMinuteLess.leadTimeForChanges.medianMinutes).toBe(1440);
  });

  it('applies the 2021 thresholds: lead time elite < 60 min, frequency high on a monthly median', () => {
    const changes = [change('p', '2026-03-02T10:00:00Z', '2026-03-02T10:59:00Z')];
    const deployments = [{ id: 'd', time: at('2026-03-02T10:59:00Z') }];
    const r2021 = computeDora(input({ benchmark: '2021', changes, deployments }));
    const r2023 = computeDora(input({ benchmark: '2023', changes, deployments }));
    expect(r2021.leadTimeForChanges.level).toBe('elite');
    expect(r2023.leadTimeForChanges.level).toBe('elite');
    // Weeks [1, 0] → lower median 0 per week; month [1] → 1.
    expect(r2021.deploymentFrequency.level).toBe('high');
    expect(r2023.deploymentFrequency.level).toBe('medium');
  });

  it('rates a change failure rate of exactly 5% elite (2023) and 15% elite (2021) but medium (2023)', () => {
    const deployments = Array.from({ length: 20 }, (_, i) => ({
      id: `d${i}`,
      time: new Date(FROM.getTime() + i * 3_600_000),
    }));
    const incidents = [incident({ id: 'i', namedDeploymentId: 'd0' })];
    expect(computeDora(input({ deployments, incidents })).changeFailureRate).toEqual({
      deployments: 20,
      failedDeployments: 1,
      rate: 0.05,
      level: 'elite',
    });
    const three = [0, 1, 2].map((n) => incident({ id: `i${n}`, namedDeploymentId: `d${n}` }));
    expect(computeDora(input({ deployments, incidents: three, benchmark: '2021' })).changeFailureRate.level).toBe(
      'elite',
    );
    expect(computeDora(input({ deployments, incidents: three, benchmark: '2023' })).changeFailureRate.level).toBe(
      'medium',
    );
  });

  it('links an incident to no deployment when none precedes it, and several incidents of one deployment count it once', () => {
    const deployments = [{ id: 'd', time: at('2026-03-05T00:00:00Z') }];
    const result = computeDora(
      input({
        deployments,
        incidents: [
          incident({ id: 'early', created: at('2026-03-04T00:00:00Z'), resolved: at('2026-03-04T01:00:00Z') }),
          incident({ id: 'same-time', created: at('2026-03-05T00:00:00Z') }),
          incident({ id: 'late1', created: at('2026-03-06T00:00:00Z') }),
          incident({ id: 'late2', created: at('2026-03-07T00:00:00Z') }),
        ],
      }),
    );
    expect(result.changeFailureRate).toMatchObject({ deployments: 1, failedDeployments: 1, rate: 1 });
    expect(result.recoveryTime).toEqual({ incidents: 0, medianMinutes: null, level: null });
    expect(result.weekly[0].incidents).toBe(4);
  });

  it('uses the incidents’ own lead time for the 2021 time to restore', () => {
    const incidents = [
      incident({ id: 'a', resolved: at('2026-03-03T00:00:00Z'), leadTimeMinutes: 30 }),
      incident({ id: 'b', resolved: at('2026-03-04T00:00:00Z'), leadTimeMinutes: 2000 }),
      incident({ id: 'outside', resolved: at('2026-03-20T00:00:00Z'), leadTimeMinutes: 1 }),
    ];
    expect(computeDora(input({ benchmark: '2021', incidents })).recoveryTime).toEqual({
      incidents: 2,
      medianMinutes: 30,
      level: 'elite',
    });
  });

  it('answers null values and null levels for a window without data', () => {
    const result = computeDora(input({}));
    expect(result.deploymentFrequency).toEqual({
      deployments: 0,
      deploymentDays: 0,
      medianDaysPerWeek: null,
      medianDaysPerMonth: null,
      medianDaysPerSixMonths: null,
      wholeUnits: { weeks: 2, months: 0, sixMonths: 0 },
      scaled: ['month', 'sixMonths'],
      level: null,
      note: null,
    });
    expect(result.leadTimeForChanges).toEqual({
      changes: 0,
      medianMinutes: null,
      level: null,
      byRule: { link: 0, mergeCommit: 0, time: 0 },
      coverage: { mergedPullRequests: 0, withLeadTime: 0, withoutLeadTime: 0 },
    });
    expect(result.changeFailureRate).toEqual({ deployments: 0, failedDeployments: 0, rate: null, level: null });
    expect(result.recoveryTime).toEqual({ incidents: 0, medianMinutes: null, level: null });
    expect(result.weekly).toHaveLength(2);
  });
});

describe('GET .../dora query parameters', () => {
  const NOW = at('2026-06-01T12:00:00Z');

  it('defaults to the 90 days up to now and the 2023 benchmark', () => {
    expect(parseDoraQuery({}, NOW)).toEqual({
      from: at('2026-03-03T12:00:00Z'),
      to: NOW,
      benchmark: '2023',
    });
  });

  it('reads dates in the contract §3 forms', () => {
    expect(parseDoraQuery({ from: '2026-03-02', to: '2026-03-16T01:00:00+01:00', benchmark: '2021' }, NOW)).toEqual({
      from: FROM,
      to: TO,
      benchmark: '2021',
    });
  });

  it.each([
    [{ from: 'yesterday' }, 'from'],
    [{ to: '2026-03-16T00:00:00+25:00' }, 'to'],
    [{ benchmark: '2019' }, 'benchmark'],
    [{ from: '2026-03-16', to: '2026-03-16' }, 'to'],
    [{ from: ['2026-03-01', '2026-03-02'] }, 'from'],
    [{ from: '2000-01-01', to: '2026-01-01' }, 'from'],
  ])('answers 400 naming the parameter for %j', (query, field) => {
    let thrown: unknown;
    try {
      parseDoraQuery(query, NOW);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as InputError).causes?.map((c) => c.field)).toEqual([field]);
  });
});
