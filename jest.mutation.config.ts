import type { Config } from 'jest';
import base from './jest.config';

// The fast part of the suite, for mutation testing: the `*.unit.test.ts` files only (pure
// functions, no database, no HTTP server), so Stryker can rerun them once per mutant.
const config: Config = {
  ...base,
  testMatch: ['**/*.unit.test.ts'],
};

export default config;
