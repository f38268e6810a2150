// Reads Stryker's JSON report and fails when any mutated module scores under the floor, so a
// change that leaves one module's rules untested cannot hide behind the others' good scores
// (Stryker's own `thresholds.break` only looks at the total).
//
//   node .ci/mutation-floors.mjs [floor=90] [report=reports/mutation/mutation.json]
import { readFileSync } from 'node:fs';

const floor = Number(process.argv[2] ?? 90);
const reportPath = process.argv[3] ?? 'reports/mutation/mutation.json';
const report = JSON.parse(readFileSync(reportPath, 'utf8'));

// Stryker's definition: detected / (all - not valid - ignored), with NoCoverage undetected.
const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

let failed = false;
for (const [file, { mutants }] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
  const detected = mutants.filter((m) => DETECTED.has(m.status)).length;
  const undetected = mutants.filter((m) => UNDETECTED.has(m.status)).length;
  const valid = detected + undetected;
  const score = valid === 0 ? 100 : (100 * detected) / valid;
  const ok = score >= floor;
  if (!ok) failed = true;
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${score.toFixed(2).padStart(6)}%  ${file} (${detected} of ${valid} mutants detected)`,
  );
}
if (failed) {
  console.error(
    `\nA module scores under the mutation floor of ${floor}%: add tests that pin its rules (see README, "Mutation testing").`,
  );
  process.exit(1);
}
