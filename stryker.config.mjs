// Mutation testing of the modules that carry the rules (DORA levels, dates, ids, key scoping),
// against the fast unit tests only. `npm run test:mutation` runs it; `npm run test:mutation:ci`
// also fails when a module scores under its floor (see .ci/mutation-floors.mjs).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  packageManager: 'npm',
  testRunner: 'jest',
  // findRelatedTests: each mutant loads only the unit test files that import its module.
  jest: { projectType: 'custom', configFile: 'jest.mutation.config.ts', enableFindRelatedTests: true },
  coverageAnalysis: 'perTest',
  // Mutants in module-level constants (the date patterns, the result words) would each need a
  // fresh load of every test file: about half the run for a tenth of the mutants.
  ignoreStatic: true,
  mutate: [
    'src/dora/dora.calculations.ts',
    'src/deployments/deployment-ids.ts',
    'src/http/dates.ts',
    'src/auth/guards.ts',
    'src/auth/credentials.ts',
  ],
  // Two cores on the build machines.
  concurrency: 2,
  timeoutMS: 10_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 95, low: 90, break: null },
  // `--checkers typescript` (optional, slower) discards mutants that would not compile.
  tsconfigFile: 'tsconfig.json',
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};

export default config;
