// CI's mutation run (`npm run test:mutation:ci`, called by .ci/run): every module of
// stryker.config.mjs, now that each scores at or above the 90% floor (the DORA math, the derived
// ids, date parsing, key scoping and credentials), against the same unit tests;
// .ci/mutation-floors.mjs then holds each module to that floor. A module that joins
// stryker.config.mjs joins this list once it reaches the floor (README, "Mutation testing").
import base from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  ...base,
  mutate: [
    'src/dora/dora.calculations.ts',
    'src/deployments/deployment-ids.ts',
    'src/http/dates.ts',
    'src/auth/guards.ts',
    'src/auth/credentials.ts',
  ],
  reporters: ['clear-text', 'json'],
  thresholds: { ...base.thresholds, break: 90 },
};

export default config;
