/**
 * The DORA arithmetic of docs/dora.md, on the compact rows the service's queries return (one
 * row per deployment, per deployed pull request, per incident). Pure functions: no database,
 * no clock, so each rule is testable alone and gives the same answer on SQLite and MariaDB.
 */

import type { AttributionRule } from './lead-time.attribution';

export const BENCHMARKS = ['2023', '2021'] as const;
export type Benchmark = (typeof BENCHMARKS)[number];
export type Level = 'elite' | 'high' | 'medium' | 'low';
/** The calendar units deployment frequency counts deployment days in. */
export type FrequencyUnit = 'week' | 'month' | 'sixMonths';

/** A counted deployment (PRODUCTION, SUCCESS): its id and its time, the latest `finished_date` of its rows. */
export interface DeploymentTime {
  id: string;
  time: Date;
}

/**
 * A pull request merged before `to` that may have a lead time here: its deploying deployment
 * (docs/dora.md "Lead time for changes"), when it has one.
 */
export interface ChangeOutcome {
  id: string;
  created: Date;
  merged: Date;
  deployed: Date | null;
  rule: AttributionRule | null;
}

export interface IncidentFacts {
  id: string;
  created: Date | null;
  resolved: Date | null;
  leadTimeMinutes: number | null;
  /** The `cicd_deployments.id` the issue's `deploymentId` names, when it is a counted deployment. */
  namedDeploymentId: string | null;
}

export interface DoraInput {
  from: Date;
  to: Date;
  benchmark: Benchmark;
  /** Every counted deployment of the scope whose time is at or after `from` (also after `to`). */
  deployments: DeploymentTime[];
  /** Every pull request merged in the window, and every one deployed in it. */
  changes: ChangeOutcome[];
  incidents: IncidentFacts[];
}

export interface DoraMetrics {
  deploymentFrequency: {
    deployments: number;
    deploymentDays: number;
    medianDaysPerWeek: number | null;
    medianDaysPerMonth: number | null;
    medianDaysPerSixMonths: number | null;
    /** Calendar units the window covers whole: only those are counted (docs/dora.md "Edges"). */
    wholeUnits: { weeks: number; months: number; sixMonths: number };
    /** Units of which the window covers none whole: their median is scaled from the days covered. */
    scaled: FrequencyUnit[];
    level: Level | null;
    /** Set when the level rests on a scaled unit: what it was measured from. */
    note: string | null;
  };
  leadTimeForChanges: {
    changes: number;
    medianMinutes: number | null;
    level: Level | null;
    /** How the changes in the median were attributed to their deployment. */
    byRule: Record<AttributionRule, number>;
    /** Pull requests merged in the window: how many have a lead time (now or in a later window). */
    coverage: { mergedPullRequests: number; withLeadTime: number; withoutLeadTime: number };
  };
  changeFailureRate: { deployments: number; failedDeployments: number; rate: number | null; level: Level | null };
  recoveryTime: { incidents: number; medianMinutes: number | null; level: Level | null };
  weekly: { weekStart: string; deployments: number; deploymentDays: number; incidents: number }[];
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const DAY_MINUTES = 1440;
const WEEK_MINUTES = 7 * DAY_MINUTES;

/** The lower median, `sorted[floor((n-1)/2)]`, as every metric uses it (§ "The median"); null for none. */
export function lowerMedian(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** Days since 1970-01-01 (UTC). */
function dayNumber(time: Date): number {
  return Math.floor(time.getTime() / DAY_MS);
}

/** Weeks (Monday first, UTC) numbered consecutively; 1970-01-01 was a Thursday, so week 0 starts on day -3. */
function weekNumber(time: Date): number {
  return Math.floor((dayNumber(time) + 3) / 7);
}

function monthNumber(time: Date): number {
  return time.getUTCFullYear() * 12 + time.getUTCMonth();
}

/** Calendar half-years (January-June, July-December), the 2021 benchmark's "per 6 months". */
function halfYearNumber(time: Date): number {
  return time.getUTCFullYear() * 2 + Math.floor(time.getUTCMonth() / 6);
}

function isoDate(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** A calendar unit numbered consecutively: which one a time is in, and where one starts (ms). */
interface CalendarUnit {
  of: (time: Date) => number;
  start: (n: number) => number;
  /** Its average length in days, to scale a rate when no whole unit fits the window. */
  days: number;
}

const UNITS: Record<FrequencyUnit, CalendarUnit> = {
  week: { of: weekNumber, start: (n) => (n * 7 - 3) * DAY_MS, days: 7 },
  month: { of: monthNumber, start: (n) => Date.UTC(Math.floor(n / 12), n % 12, 1), days: 365.25 / 12 },
  sixMonths: { of: halfYearNumber, start: (n) => Date.UTC(Math.floor(n / 2), (n % 2) * 6, 1), days: 365.25 / 2 },
};

/**
 * Deployment days per calendar unit overlapping the window, units without any counted as 0
 * (the weekly series shows them all).
 */
function daysPerUnit(days: number[], from: Date, to: Date, unitOf: (time: Date) => number): number[] {
  const first = unitOf(from);
  const last = unitOf(new Date(to.getTime() - 1));
  const counts = new Array<number>(last - first + 1).fill(0);
  for (const day of days) counts[unitOf(new Date(day * DAY_MS)) - first] += 1;
  return counts;
}

/**
 * The median deployment days per unit by the edge rule (docs/dora.md "Edges"): a unit counts only
 * when the window covers all of it; when none fits, the rate is the window's deployment days
 * scaled from the days it covers to the unit's length. Null when the window has no deployment.
 */
function medianPerUnit(
  days: number[],
  from: Date,
  to: Date,
  unit: CalendarUnit,
): { median: number | null; whole: number; scaled: boolean } {
  const counts = daysPerUnit(days, from, to, unit.of);
  const first = unit.of(from);
  const whole: number[] = [];
  counts.forEach((count, index) => {
    if (unit.start(first + index) >= from.getTime() && unit.start(first + index + 1) <= to.getTime()) whole.push(count);
  });
  if (days.length === 0) return { median: null, whole: whole.length, scaled: whole.length === 0 };
  if (whole.length > 0) return { median: lowerMedian(whole), whole: whole.length, scaled: false };
  const covered = (to.getTime() - from.getTime()) / DAY_MS;
  return { median: (days.length * unit.days) / covered, whole: 0, scaled: true };
}

/** Two decimals for a scaled rate; whole counts stay whole. */
function rounded(value: number | null): number | null {
  return value === null ? null : Math.round(value * 100) / 100;
}

function frequencyLevel(benchmark: Benchmark, perWeek: number, perMonth: number, perHalfYear: number): Level {
  if (perWeek >= 5) return 'elite';
  if (benchmark === '2023') {
    if (perWeek >= 1) return 'high';
    return perMonth >= 1 ? 'medium' : 'low';
  }
  if (perMonth >= 1) return 'high';
  return perHalfYear >= 1 ? 'medium' : 'low';
}

/** The units each benchmark's levels read, from elite down. */
const LEVEL_UNITS: Record<Benchmark, FrequencyUnit[]> = {
  '2023': ['week', 'week', 'month'],
  '2021': ['week', 'month', 'sixMonths'],
};
const UNIT_NAMES: Record<FrequencyUnit, string> = { week: 'week', month: 'month', sixMonths: 'six months' };

/**
 * When the level was decided by a unit the window covers none of whole, says so: the level
 * then rests on a rate scaled from the days covered, not on a median of whole units.
 */
function frequencyNote(
  benchmark: Benchmark,
  level: Level,
  scaled: FrequencyUnit[],
  from: Date,
  to: Date,
): string | null {
  // The units read to reach this level: elite reads the first, high the first two, and so on.
  const reached = { elite: 1, high: 2, medium: 3, low: 3 }[level];
  const read = [...new Set(LEVEL_UNITS[benchmark].slice(0, reached))].filter((unit) => scaled.includes(unit));
  if (read.length === 0) return null;
  const covered = Math.round(((to.getTime() - from.getTime()) / DAY_MS) * 100) / 100;
  const names = read.map((unit) => UNIT_NAMES[unit]).join(' or ');
  return `the window covers no whole ${names}: deployment days per ${names} are scaled from the ${covered} days covered`;
}

function leadTimeLevel(benchmark: Benchmark, minutes: number): Level {
  const [elite, high, medium] =
    benchmark === '2023' ? [DAY_MINUTES, WEEK_MINUTES, 30 * DAY_MINUTES] : [60, WEEK_MINUTES, 180 * DAY_MINUTES];
  if (minutes < elite) return 'elite';
  if (minutes < high) return 'high';
  return minutes < medium ? 'medium' : 'low';
}

/** Compared in whole numbers (failed × 100 ≤ percent × total) so 1/20 is exactly 5%. */
function failureRateLevel(benchmark: Benchmark, failed: number, total: number): Level {
  const [elite, high, medium] = benchmark === '2023' ? [5, 10, 15] : [15, 20, 30];
  if (failed * 100 <= elite * total) return 'elite';
  if (failed * 100 <= high * total) return 'high';
  return failed * 100 <= medium * total ? 'medium' : 'low';
}

function recoveryLevel(minutes: number): Level {
  if (minutes < 60) return 'elite';
  if (minutes < DAY_MINUTES) return 'high';
  return minutes < WEEK_MINUTES ? 'medium' : 'low';
}

function inWindow(time: Date | null, from: Date, to: Date): time is Date {
  return time !== null && time.getTime() >= from.getTime() && time.getTime() < to.getTime();
}

/**
 * DevLake's incident → deployment rule (§3): the latest counted deployment strictly before the
 * incident was created. `sorted` is ordered by time, then id, so equal times pick the same one on
 * every database. Deployments before `from` are not in `sorted`; an incident whose latest earlier
 * deployment is one of them is linked outside the window, which is what `undefined` means here.
 */
function latestBefore(sorted: DeploymentTime[], created: Date): DeploymentTime | undefined {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (sorted[mid].time.getTime() < created.getTime()) low = mid + 1;
    else high = mid;
  }
  // `sorted[-1]` is undefined: no counted deployment is earlier.
  return sorted[low - 1] as DeploymentTime | undefined;
}

/** The four metrics and the weekly counts of docs/dora.md from the scope's compact rows. */
export function computeDora(input: DoraInput): DoraMetrics {
  const { from, to, benchmark } = input;
  const sorted = [...input.deployments].sort(
    (a, b) => a.time.getTime() - b.time.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const byId = new Map(sorted.map((d) => [d.id, d]));
  const counted = sorted.filter((d) => inWindow(d.time, from, to));

  // §1 Deployment frequency, by the edge rule.
  const days = [...new Set(counted.map((d) => dayNumber(d.time)))];
  const week = medianPerUnit(days, from, to, UNITS.week);
  const month = medianPerUnit(days, from, to, UNITS.month);
  const sixMonths = medianPerUnit(days, from, to, UNITS.sixMonths);
  const perWeek = daysPerUnit(days, from, to, weekNumber);
  const hasDeployments = counted.length > 0;
  const frequency = hasDeployments
    ? frequencyLevel(benchmark, week.median ?? 0, month.median ?? 0, sixMonths.median ?? 0)
    : null;
  const scaled = (Object.keys(UNITS) as FrequencyUnit[]).filter((unit) => ({ week, month, sixMonths })[unit].scaled);

  // §2 Lead time: minutes rounded up, from the PR's creation to its deploying deployment.
  const deployedInWindow = input.changes.filter((c) => inWindow(c.deployed, from, to));
  const leadTimes = deployedInWindow.map((c) =>
    Math.ceil(((c.deployed as Date).getTime() - c.created.getTime()) / MINUTE_MS),
  );
  const leadMedian = lowerMedian(leadTimes);
  const byRule: Record<AttributionRule, number> = { link: 0, mergeCommit: 0, time: 0 };
  for (const c of deployedInWindow) if (c.rule) byRule[c.rule] += 1;
  const mergedInWindow = input.changes.filter((c) => inWindow(c.merged, from, to));
  const withLeadTime = mergedInWindow.filter((c) => c.deployed !== null).length;

  // §3 Each incident's deployment: the one it names, else DevLake's time rule.
  const linked = input.incidents.map((incident) => {
    if (incident.namedDeploymentId !== null) return { incident, deployment: byId.get(incident.namedDeploymentId) };
    return { incident, deployment: incident.created ? latestBefore(sorted, incident.created) : undefined };
  });
  const inWindowLinks = linked.filter(
    (l): l is { incident: IncidentFacts; deployment: DeploymentTime } =>
      l.deployment !== undefined && inWindow(l.deployment.time, from, to),
  );
  const failed = new Set(inWindowLinks.map((l) => l.deployment.id)).size;

  // §4 Recovery: 2023 from the linked deployment to resolution (whole minutes, truncated like
  // MySQL's TIMESTAMPDIFF); 2021 the incidents' own lead time.
  const recoveries =
    benchmark === '2023'
      ? inWindowLinks
          .filter((l) => inWindow(l.incident.resolved, from, to))
          .map((l) => Math.trunc(((l.incident.resolved as Date).getTime() - l.deployment.time.getTime()) / MINUTE_MS))
      : input.incidents
          .filter((i) => inWindow(i.resolved, from, to) && i.leadTimeMinutes !== null)
          .map((i) => i.leadTimeMinutes as number);
  const recoveryMedian = lowerMedian(recoveries);

  // Weekly: deployments, deployment days and incidents created, per week of the window.
  const firstWeek = weekNumber(from);
  const weekly = perWeek.map((deploymentDays, index) => ({
    weekStart: isoDate((firstWeek + index) * 7 - 3),
    deployments: 0,
    deploymentDays,
    incidents: 0,
  }));
  const weekIndex = (time: Date) => weekNumber(time) - firstWeek;
  for (const d of counted) weekly[weekIndex(d.time)].deployments += 1;
  for (const incident of input.incidents) {
    if (inWindow(incident.created, from, to)) weekly[weekIndex(incident.created)].incidents += 1;
  }

  return {
    deploymentFrequency: {
      deployments: counted.length,
      deploymentDays: days.length,
      medianDaysPerWeek: rounded(week.median),
      medianDaysPerMonth: rounded(month.median),
      medianDaysPerSixMonths: rounded(sixMonths.median),
      wholeUnits: { weeks: week.whole, months: month.whole, sixMonths: sixMonths.whole },
      scaled,
      level: frequency,
      note: frequency === null ? null : frequencyNote(benchmark, frequency, scaled, from, to),
    },
    leadTimeForChanges: {
      changes: leadTimes.length,
      medianMinutes: leadMedian,
      level: leadMedian === null ? null : leadTimeLevel(benchmark, leadMedian),
      byRule,
      coverage: {
        mergedPullRequests: mergedInWindow.length,
        withLeadTime,
        withoutLeadTime: mergedInWindow.length - withLeadTime,
      },
    },
    changeFailureRate: {
      deployments: counted.length,
      failedDeployments: failed,
      rate: hasDeployments ? failed / counted.length : null,
      level: hasDeployments ? failureRateLevel(benchmark, failed, counted.length) : null,
    },
    recoveryTime: {
      incidents: recoveries.length,
      medianMinutes: recoveryMedian,
      level: recoveryMedian === null ? null : recoveryLevel(recoveryMedian),
    },
    weekly,
  };
}
