/**
 * The DORA arithmetic of dora-metrics.md, on the compact rows the service's queries return (one
 * row per deployment, per deployed pull request, per incident). Pure functions: no database,
 * no clock, so each rule is testable alone and gives the same answer on SQLite and MariaDB.
 */

export const BENCHMARKS = ['2023', '2021'] as const;
export type Benchmark = (typeof BENCHMARKS)[number];
export type Level = 'elite' | 'high' | 'medium' | 'low';

/** A counted deployment (PRODUCTION, SUCCESS): its id and its time, the latest `finished_date` of its rows. */
export interface DeploymentTime {
  id: string;
  time: Date;
}

/** A pull request whose deploying deployment is in the window (§2). */
export interface DeployedChange {
  id: string;
  created: Date;
  deployed: Date;
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
  changes: DeployedChange[];
  incidents: IncidentFacts[];
}

export interface DoraMetrics {
  deploymentFrequency: {
    deployments: number;
    deploymentDays: number;
    medianDaysPerWeek: number | null;
    medianDaysPerMonth: number | null;
    level: Level | null;
  };
  leadTimeForChanges: { changes: number; medianMinutes: number | null; level: Level | null };
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

/**
 * Deployment days per calendar unit overlapping the window, units without any counted as 0
 * (§1.2): `unitOf` numbers the units consecutively.
 */
function daysPerUnit(days: number[], from: Date, to: Date, unitOf: (time: Date) => number): number[] {
  const first = unitOf(from);
  const last = unitOf(new Date(to.getTime() - 1));
  const counts = new Array<number>(last - first + 1).fill(0);
  for (const day of days) counts[unitOf(new Date(day * DAY_MS)) - first] += 1;
  return counts;
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
  return low > 0 ? sorted[low - 1] : undefined;
}

/** The four metrics and the weekly counts of dora-metrics.md from the scope's compact rows. */
export function computeDora(input: DoraInput): DoraMetrics {
  const { from, to, benchmark } = input;
  const sorted = [...input.deployments].sort(
    (a, b) => a.time.getTime() - b.time.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const byId = new Map(sorted.map((d) => [d.id, d]));
  const counted = sorted.filter((d) => inWindow(d.time, from, to));

  // §1 Deployment frequency.
  const days = [...new Set(counted.map((d) => dayNumber(d.time)))];
  const perWeek = daysPerUnit(days, from, to, weekNumber);
  const perMonth = daysPerUnit(days, from, to, monthNumber);
  const medianWeek = lowerMedian(perWeek);
  const medianMonth = lowerMedian(perMonth);
  const medianHalfYear = lowerMedian(daysPerUnit(days, from, to, halfYearNumber));
  const hasDeployments = counted.length > 0;

  // §2 Lead time: minutes rounded up, from the PR's creation to its deploying deployment.
  const leadTimes = input.changes
    .filter((c) => inWindow(c.deployed, from, to))
    .map((c) => Math.ceil((c.deployed.getTime() - c.created.getTime()) / MINUTE_MS));
  const leadMedian = lowerMedian(leadTimes);

  // §3 Each incident's deployment: the one it names, else DevLake's time rule.
  const linked = input.incidents.map((incident) => {
    const named = incident.namedDeploymentId === null ? undefined : byId.get(incident.namedDeploymentId);
    if (incident.namedDeploymentId !== null) return { incident, deployment: named };
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
      medianDaysPerWeek: hasDeployments ? medianWeek : null,
      medianDaysPerMonth: hasDeployments ? medianMonth : null,
      level: hasDeployments ? frequencyLevel(benchmark, medianWeek ?? 0, medianMonth ?? 0, medianHalfYear ?? 0) : null,
    },
    leadTimeForChanges: {
      changes: leadTimes.length,
      medianMinutes: leadMedian,
      level: leadMedian === null ? null : leadTimeLevel(benchmark, leadMedian),
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
