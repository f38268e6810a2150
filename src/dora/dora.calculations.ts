/**
 * The DORA arithmetic of docs/dora.md. `doraOf` works on a window's aggregates (deployments per
 * day, the lead-time counts and median, the incidents with their deployments), which the
 * service's grouping queries return whatever the size of the history; `aggregateDora` defines
 * those aggregates on detailed rows (one per deployment, pull request, incident), which is how
 * the rules are tested. Pure functions: no database, no clock, so each rule is testable alone
 * and gives the same answer on every engine.
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

/** What the lead time of a window comes to (the database computes it from stored lead times). */
export interface LeadTimeSummary {
  /** Changes whose deployment is in the window. */
  changes: number;
  /** Their lower median lead time in whole minutes (rounded up), null for none. */
  medianMinutes: number | null;
  byRule: Record<AttributionRule, number>;
  /** Pull requests merged in the window, and how many of them have a deployment (at any time). */
  mergedPullRequests: number;
  withLeadTime: number;
}

/** An incident with its deployment: the counted one it names, else DevLake's time rule (§3). */
export interface LinkedIncident {
  created: Date | null;
  resolved: Date | null;
  leadTimeMinutes: number | null;
  /** Its deployment, whatever its time; null when it has none. */
  deployment: DeploymentTime | null;
}

/**
 * What the four metrics are computed from: small whatever the history, so the database can
 * produce it with grouping queries (`DoraService`), and `aggregateDora` from the detailed rows.
 */
export interface DoraAggregates {
  /** Counted deployments whose time is in the window, per UTC day (days since 1970-01-01). */
  deploymentDays: { day: number; deployments: number }[];
  leadTime: LeadTimeSummary;
  /** The incidents that can touch the window (see `DoraInput.incidents`), each with its deployment. */
  incidents: LinkedIncident[];
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

/**
 * The aggregates of detailed rows: the definition the database's grouping queries implement
 * (each deployment counted on its UTC day, each change's lead time in minutes rounded up, each
 * incident linked to its named deployment or the latest counted one strictly before it).
 */
export function aggregateDora(input: DoraInput): DoraAggregates {
  const { from, to } = input;
  const sorted = [...input.deployments].sort(
    (a, b) => a.time.getTime() - b.time.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const byId = new Map(sorted.map((d) => [d.id, d]));
  const perDay = new Map<number, number>();
  for (const d of sorted) {
    if (inWindow(d.time, from, to)) perDay.set(dayNumber(d.time), (perDay.get(dayNumber(d.time)) ?? 0) + 1);
  }
  const deployed = input.changes.filter((c) => inWindow(c.deployed, from, to));
  const byRule: Record<AttributionRule, number> = { link: 0, mergeCommit: 0, time: 0 };
  for (const c of deployed) if (c.rule) byRule[c.rule] += 1;
  const merged = input.changes.filter((c) => inWindow(c.merged, from, to));
  return {
    deploymentDays: [...perDay].map(([day, deployments]) => ({ day, deployments })),
    leadTime: {
      changes: deployed.length,
      medianMinutes: lowerMedian(
        deployed.map((c) => Math.ceil(((c.deployed as Date).getTime() - c.created.getTime()) / MINUTE_MS)),
      ),
      byRule,
      mergedPullRequests: merged.length,
      withLeadTime: merged.filter((c) => c.deployed !== null).length,
    },
    incidents: input.incidents.map((incident) => ({
      created: incident.created,
      resolved: incident.resolved,
      leadTimeMinutes: incident.leadTimeMinutes,
      deployment:
        (incident.namedDeploymentId !== null
          ? byId.get(incident.namedDeploymentId)
          : incident.created
            ? latestBefore(sorted, incident.created)
            : undefined) ?? null,
    })),
  };
}

/** The four metrics and the weekly counts of docs/dora.md from the scope's detailed rows. */
export function computeDora(input: DoraInput): DoraMetrics {
  return doraOf(input, aggregateDora(input));
}

/** The four metrics and the weekly counts of docs/dora.md from a window's aggregates. */
export function doraOf(window: Pick<DoraInput, 'from' | 'to' | 'benchmark'>, aggregates: DoraAggregates): DoraMetrics {
  const { from, to, benchmark } = window;
  const deploymentCount = aggregates.deploymentDays.reduce((sum, d) => sum + d.deployments, 0);

  // §1 Deployment frequency, by the edge rule.
  const days = aggregates.deploymentDays.map((d) => d.day);
  const week = medianPerUnit(days, from, to, UNITS.week);
  const month = medianPerUnit(days, from, to, UNITS.month);
  const sixMonths = medianPerUnit(days, from, to, UNITS.sixMonths);
  const perWeek = daysPerUnit(days, from, to, weekNumber);
  const hasDeployments = deploymentCount > 0;
  const frequency = hasDeployments
    ? frequencyLevel(benchmark, week.median ?? 0, month.median ?? 0, sixMonths.median ?? 0)
    : null;
  const scaled = (Object.keys(UNITS) as FrequencyUnit[]).filter((unit) => ({ week, month, sixMonths })[unit].scaled);

  // §2 Lead time: minutes rounded up, from the PR's creation to its deploying deployment.
  const lead = aggregates.leadTime;
  const leadMedian = lead.medianMinutes;

  // §3 Each incident's deployment (named, else DevLake's time rule), counted when in the window.
  const inWindowLinks = aggregates.incidents.filter(
    (l): l is LinkedIncident & { deployment: DeploymentTime } =>
      l.deployment !== null && inWindow(l.deployment.time, from, to),
  );
  const failed = new Set(inWindowLinks.map((l) => l.deployment.id)).size;

  // §4 Recovery: 2023 from the linked deployment to resolution (whole minutes, truncated like
  // MySQL's TIMESTAMPDIFF); 2021 the incidents' own lead time.
  const recoveries =
    benchmark === '2023'
      ? inWindowLinks
          .filter((l) => inWindow(l.resolved, from, to))
          .map((l) => Math.trunc(((l.resolved as Date).getTime() - l.deployment.time.getTime()) / MINUTE_MS))
      : aggregates.incidents
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
  for (const d of aggregates.deploymentDays) weekly[weekIndex(new Date(d.day * DAY_MS))].deployments += d.deployments;
  for (const incident of aggregates.incidents) {
    if (inWindow(incident.created, from, to)) weekly[weekIndex(incident.created)].incidents += 1;
  }

  return {
    deploymentFrequency: {
      deployments: deploymentCount,
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
      changes: lead.changes,
      medianMinutes: leadMedian,
      level: leadMedian === null ? null : leadTimeLevel(benchmark, leadMedian),
      byRule: { ...lead.byRule },
      coverage: {
        mergedPullRequests: lead.mergedPullRequests,
        withLeadTime: lead.withLeadTime,
        withoutLeadTime: lead.mergedPullRequests - lead.withLeadTime,
      },
    },
    changeFailureRate: {
      deployments: deploymentCount,
      failedDeployments: failed,
      rate: hasDeployments ? failed / deploymentCount : null,
      level: hasDeployments ? failureRateLevel(benchmark, failed, deploymentCount) : null,
    },
    recoveryTime: {
      incidents: recoveries.length,
      medianMinutes: recoveryMedian,
      level: recoveryMedian === null ? null : recoveryLevel(recoveryMedian),
    },
    weekly,
  };
}
