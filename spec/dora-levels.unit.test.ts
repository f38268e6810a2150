import {
  computeDora,
  type Benchmark,
  type DoraInput,
  type IncidentFacts,
  type Level,
} from '../src/dora/dora.calculations';

// Each level boundary of each metric, for both benchmarks, exactly at the threshold and one
// unit either side (the thresholds are the ones docs/dora.md and the README list).

const at = (iso: string) => new Date(iso);
const MINUTE = 60_000;
/** A Monday-to-Monday fortnight inside one calendar month and one half-year. */
const FROM = at('2026-03-02T00:00:00Z');
const TO = at('2026-03-16T00:00:00Z');

function input(overrides: Partial<DoraInput>): DoraInput {
  return { from: FROM, to: TO, benchmark: '2023', deployments: [], changes: [], incidents: [], ...overrides };
}

function incident(overrides: Partial<IncidentFacts> & { id: string }): IncidentFacts {
  return { created: null, resolved: null, leadTimeMinutes: null, namedDeploymentId: null, ...overrides };
}

const DAY = 1440;
const WEEK = 7 * DAY;

describe('lead time for changes: level boundaries', () => {
  /** One change deployed inside the window, `minutes` after it was created. */
  function leadTimeLevel(benchmark: Benchmark, minutes: number) {
    const deployed = at('2026-03-10T12:00:00Z');
    const created = new Date(deployed.getTime() - minutes * MINUTE);
    return computeDora(input({ benchmark, changes: [{ id: 'pr', created, merged: deployed, deployed, rule: 'link' }] }))
      .leadTimeForChanges;
  }

  it.each<[Benchmark, number, Level]>([
    ['2023', 0, 'elite'],
    ['2023', DAY - 1, 'elite'],
    ['2023', DAY, 'high'],
    ['2023', DAY + 1, 'high'],
    ['2023', WEEK - 1, 'high'],
    ['2023', WEEK, 'medium'],
    ['2023', WEEK + 1, 'medium'],
    ['2023', 30 * DAY - 1, 'medium'],
    ['2023', 30 * DAY, 'low'],
    ['2023', 30 * DAY + 1, 'low'],
    ['2021', 59, 'elite'],
    ['2021', 60, 'high'],
    ['2021', 61, 'high'],
    ['2021', WEEK - 1, 'high'],
    ['2021', WEEK, 'medium'],
    ['2021', WEEK + 1, 'medium'],
    ['2021', 180 * DAY - 1, 'medium'],
    ['2021', 180 * DAY, 'low'],
    ['2021', 180 * DAY + 1, 'low'],
  ])('%s benchmark: a median lead time of %i minutes is %s', (benchmark, minutes, level) => {
    expect(leadTimeLevel(benchmark, minutes)).toMatchObject({ changes: 1, medianMinutes: minutes, level });
  });

  it('chooses the thresholds by benchmark: 60 minutes to 1 day is elite in 2023 but high in 2021', () => {
    expect(leadTimeLevel('2023', 60).level).toBe('elite');
    expect(leadTimeLevel('2021', 60).level).toBe('high');
    // And 30 to 180 days is low in 2023 but medium in 2021.
    expect(leadTimeLevel('2023', 31 * DAY).level).toBe('low');
    expect(leadTimeLevel('2021', 31 * DAY).level).toBe('medium');
  });

  it('rounds a part minute up: 59 minutes and 1 second is 60 minutes, high in 2021', () => {
    const deployed = at('2026-03-10T12:00:00Z');
    const created = new Date(deployed.getTime() - 59 * MINUTE - 1000);
    const result = computeDora(
      input({ benchmark: '2021', changes: [{ id: 'pr', created, merged: deployed, deployed, rule: 'link' }] }),
    );
    expect(result.leadTimeForChanges).toMatchObject({ changes: 1, medianMinutes: 60, level: 'high' });
  });
});

describe('change failure rate: level boundaries', () => {
  /** 100 counted deployments in the window, `failed` of them named by an incident. */
  function failureLevel(benchmark: Benchmark, failed: number) {
    const deployments = Array.from({ length: 100 }, (_, i) => ({
      id: `d${i}`,
      time: new Date(FROM.getTime() + i * 60 * MINUTE),
    }));
    const incidents = Array.from({ length: failed }, (_, i) => incident({ id: `i${i}`, namedDeploymentId: `d${i}` }));
    return computeDora(input({ benchmark, deployments, incidents })).changeFailureRate;
  }

  it.each<[Benchmark, number, Level]>([
    ['2023', 0, 'elite'],
    ['2023', 4, 'elite'],
    ['2023', 5, 'elite'],
    ['2023', 6, 'high'],
    ['2023', 9, 'high'],
    ['2023', 10, 'high'],
    ['2023', 11, 'medium'],
    ['2023', 14, 'medium'],
    ['2023', 15, 'medium'],
    ['2023', 16, 'low'],
    ['2021', 14, 'elite'],
    ['2021', 15, 'elite'],
    ['2021', 16, 'high'],
    ['2021', 19, 'high'],
    ['2021', 20, 'high'],
    ['2021', 21, 'medium'],
    ['2021', 29, 'medium'],
    ['2021', 30, 'medium'],
    ['2021', 31, 'low'],
  ])('%s benchmark: %i failed deployments of 100 is %s', (benchmark, failed, level) => {
    expect(failureLevel(benchmark, failed)).toEqual({
      deployments: 100,
      failedDeployments: failed,
      rate: failed / 100,
      level,
    });
  });

  it('compares exactly, without rounding: 1 failed of 7 (14.3%) is medium in 2023, 1 of 6 (16.7%) low', () => {
    const deployments = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ id: `d${i}`, time: new Date(FROM.getTime() + i * 60 * MINUTE) }));
    const incidents = [incident({ id: 'i', namedDeploymentId: 'd0' })];
    expect(computeDora(input({ deployments: deployments(7), incidents })).changeFailureRate.level).toBe('medium');
    expect(computeDora(input({ deployments: deployments(6), incidents })).changeFailureRate.level).toBe('low');
  });
});

describe('time to restore: level boundaries (the same thresholds for both benchmarks)', () => {
  /** 2023: from the incident's deployment to its resolution. */
  function recovery2023(minutes: number) {
    const deployed = at('2026-03-03T00:00:00Z');
    return computeDora(
      input({
        benchmark: '2023',
        deployments: [{ id: 'd', time: deployed }],
        incidents: [
          incident({
            id: 'i',
            created: new Date(deployed.getTime() + 1000),
            resolved: new Date(deployed.getTime() + minutes * MINUTE),
          }),
        ],
      }),
    ).recoveryTime;
  }

  /** 2021: the incident's own lead time. */
  function recovery2021(minutes: number) {
    return computeDora(
      input({
        benchmark: '2021',
        incidents: [incident({ id: 'i', resolved: at('2026-03-10T00:00:00Z'), leadTimeMinutes: minutes })],
      }),
    ).recoveryTime;
  }

  it.each<[number, Level]>([
    [1, 'elite'],
    [59, 'elite'],
    [60, 'high'],
    [61, 'high'],
    [DAY - 1, 'high'],
    [DAY, 'medium'],
    [DAY + 1, 'medium'],
    [WEEK - 1, 'medium'],
    [WEEK, 'low'],
    [WEEK + 1, 'low'],
  ])('a median time to restore of %i minutes is %s', (minutes, level) => {
    expect(recovery2023(minutes)).toEqual({ incidents: 1, medianMinutes: minutes, level });
    expect(recovery2021(minutes)).toEqual({ incidents: 1, medianMinutes: minutes, level });
  });

  it('truncates a part minute of the 2023 time to restore (59 minutes 59 seconds is elite)', () => {
    const deployed = at('2026-03-03T00:00:00Z');
    const result = computeDora(
      input({
        deployments: [{ id: 'd', time: deployed }],
        incidents: [
          incident({
            id: 'i',
            created: new Date(deployed.getTime() + 1000),
            resolved: new Date(deployed.getTime() + 60 * MINUTE - 1000),
          }),
        ],
      }),
    );
    expect(result.recoveryTime).toEqual({ incidents: 1, medianMinutes: 59, level: 'elite' });
  });
});

describe('deployment frequency: level boundaries', () => {
  /** Deployments on `count` different days of the week of 2026-03-02 (one week, one month). */
  function oneWeek(benchmark: Benchmark, count: number) {
    const deployments = Array.from({ length: count }, (_, i) => ({
      id: `d${i}`,
      time: new Date(FROM.getTime() + i * DAY * MINUTE + 12 * 60 * MINUTE),
    }));
    return computeDora(input({ benchmark, to: at('2026-03-09T00:00:00Z'), deployments })).deploymentFrequency;
  }

  it.each<[Benchmark, number, Level]>([
    ['2023', 4, 'high'],
    ['2023', 5, 'elite'],
    ['2023', 6, 'elite'],
    ['2021', 4, 'high'],
    ['2021', 5, 'elite'],
    ['2021', 6, 'elite'],
  ])('%s benchmark: a median of %i deployment days per week is %s', (benchmark, days, level) => {
    expect(oneWeek(benchmark, days)).toMatchObject({
      deployments: days,
      deploymentDays: days,
      medianDaysPerWeek: days,
      level,
    });
  });

  it('counts deployment days, not deployments: five deployments on one day are one day', () => {
    const deployments = Array.from({ length: 5 }, (_, i) => ({
      id: `d${i}`,
      time: new Date(FROM.getTime() + i * MINUTE),
    }));
    const result = computeDora(input({ to: at('2026-03-09T00:00:00Z'), deployments })).deploymentFrequency;
    expect(result).toMatchObject({ deployments: 5, deploymentDays: 1, medianDaysPerWeek: 1, level: 'high' });
  });

  /** Three whole weeks (Monday 2026-03-02 to Monday 2026-03-23), deployments on the given days. */
  function threeWeeks(benchmark: Benchmark, days: string[]) {
    const deployments = days.map((day, i) => ({ id: `d${i}`, time: at(`${day}T12:00:00Z`) }));
    return computeDora(input({ benchmark, to: at('2026-03-23T00:00:00Z'), deployments })).deploymentFrequency;
  }

  it('2023 benchmark: a weekly median of 1 is high, of 0 (with a monthly median of 1) medium', () => {
    expect(threeWeeks('2023', ['2026-03-03', '2026-03-10'])).toMatchObject({ medianDaysPerWeek: 1, level: 'high' });
    expect(threeWeeks('2023', ['2026-03-03', '2026-03-04'])).toMatchObject({ medianDaysPerWeek: 0, level: 'medium' });
  });

  it('2021 benchmark: a weekly median under 5 with a monthly median of 1 or more is high', () => {
    expect(threeWeeks('2021', ['2026-03-03'])).toMatchObject({ medianDaysPerWeek: 0, level: 'high' });
  });

  /** The first quarter of 2026 (three whole months), deployments on the given days. */
  function quarter(benchmark: Benchmark, days: string[]) {
    const deployments = days.map((day, i) => ({ id: `d${i}`, time: at(`${day}T12:00:00Z`) }));
    return computeDora(
      input({ benchmark, from: at('2026-01-01T00:00:00Z'), to: at('2026-04-01T00:00:00Z'), deployments }),
    ).deploymentFrequency;
  }

  it('2023 benchmark: a monthly median of 1 is medium, of 0 low (months counted in calendar order)', () => {
    expect(quarter('2023', ['2026-01-15', '2026-02-15'])).toMatchObject({
      medianDaysPerWeek: 0,
      medianDaysPerMonth: 1,
      level: 'medium',
    });
    expect(quarter('2023', ['2026-02-15', '2026-03-15'])).toMatchObject({ medianDaysPerMonth: 1, level: 'medium' });
    expect(quarter('2023', ['2026-01-15', '2026-01-16'])).toMatchObject({ medianDaysPerMonth: 0, level: 'low' });
    expect(quarter('2023', ['2026-03-15', '2026-03-16'])).toMatchObject({ medianDaysPerMonth: 0, level: 'low' });
  });

  it('numbers months across a year end: December and January are consecutive months', () => {
    const result = computeDora(
      input({
        from: at('2025-12-01T00:00:00Z'),
        to: at('2026-03-01T00:00:00Z'),
        deployments: [
          { id: 'dec', time: at('2025-12-15T12:00:00Z') },
          { id: 'jan', time: at('2026-01-15T12:00:00Z') },
        ],
      }),
    ).deploymentFrequency;
    expect(result).toMatchObject({ medianDaysPerMonth: 1, level: 'medium' });
  });

  /** From 2025-01-01 to 2026-07-01: three calendar half-years, deployments on the given days. */
  function eighteenMonths(days: string[]) {
    const deployments = days.map((day, i) => ({ id: `d${i}`, time: at(`${day}T12:00:00Z`) }));
    return computeDora(
      input({ benchmark: '2021', from: at('2025-01-01T00:00:00Z'), to: at('2026-07-01T00:00:00Z'), deployments }),
    ).deploymentFrequency;
  }

  it('2021 benchmark: a median of 1 deployment day per half-year is medium, of 0 low', () => {
    // January-June and July-December 2025 have one each; January-June 2026 none.
    expect(eighteenMonths(['2025-06-30', '2025-07-01'])).toMatchObject({ medianDaysPerMonth: 0, level: 'medium' });
    expect(eighteenMonths(['2025-12-31', '2026-01-01'])).toMatchObject({ level: 'medium' });
    // Both in January-June 2025: one half-year of three.
    expect(eighteenMonths(['2025-01-01', '2025-06-30'])).toMatchObject({ level: 'low' });
    // Both in July-December 2025.
    expect(eighteenMonths(['2025-07-01', '2025-12-31'])).toMatchObject({ level: 'low' });
  });
});

describe("an incident's deployment, by DevLake's time rule", () => {
  it('links an incident created at the very instant of a deployment to the deployment before it', () => {
    const result = computeDora(
      input({
        deployments: [
          { id: 'before', time: at('2026-03-03T00:00:00Z') },
          { id: 'same-instant', time: at('2026-03-04T00:00:00Z') },
        ],
        incidents: [incident({ id: 'i', created: at('2026-03-04T00:00:00Z'), resolved: at('2026-03-04T00:30:00Z') })],
      }),
    );
    // From the deployment before: one day and 30 minutes.
    expect(result.recoveryTime).toEqual({ incidents: 1, medianMinutes: DAY + 30, level: 'medium' });
  });

  it('links to the latest of several earlier deployments, whatever order they come in', () => {
    const deployments = [
      { id: 'd3', time: at('2026-03-05T00:00:00Z') },
      { id: 'd1', time: at('2026-03-03T00:00:00Z') },
      { id: 'd4', time: at('2026-03-09T00:00:00Z') },
      { id: 'd2', time: at('2026-03-04T00:00:00Z') },
    ];
    const result = computeDora(
      input({
        deployments,
        incidents: [incident({ id: 'i', created: at('2026-03-05T00:10:00Z'), resolved: at('2026-03-05T00:40:00Z') })],
      }),
    );
    expect(result.recoveryTime).toEqual({ incidents: 1, medianMinutes: 40, level: 'elite' });
  });

  it('breaks a tie of deployment times by id: the greatest id is the latest', () => {
    const time = at('2026-03-03T00:00:00Z');
    const result = computeDora(
      input({
        deployments: [
          { id: 'b', time },
          { id: 'a', time },
        ],
        incidents: [
          incident({ id: 'named', namedDeploymentId: 'a' }),
          incident({ id: 'by-time', created: at('2026-03-03T01:00:00Z') }),
        ],
      }),
    );
    // 'by-time' goes to 'b', so two deployments failed.
    expect(result.changeFailureRate).toMatchObject({ deployments: 2, failedDeployments: 2 });
  });

  it('counts an incident that names an unknown deployment against none, not against the latest', () => {
    const result = computeDora(
      input({
        deployments: [{ id: 'd', time: at('2026-03-03T00:00:00Z') }],
        incidents: [incident({ id: 'i', created: at('2026-03-04T00:00:00Z'), namedDeploymentId: 'elsewhere' })],
      }),
    );
    expect(result.changeFailureRate).toMatchObject({ deployments: 1, failedDeployments: 0, level: 'elite' });
  });
});
