import type { Config } from 'jest';

// One suite for every database: TEST_DB_URL chooses it (unset = a fresh SQLite file per test
// file; mysql://root@127.0.0.1:3306/test = a fresh MySQL/MariaDB database per test file).
const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Two cores on the build machines: more workers only thrash.
  maxWorkers: 2,
  testTimeout: 60_000,
  setupFiles: ['reflect-metadata'],
  // The README's host example imports the package by name; tests resolve it to the source.
  moduleNameMapper: { '^devlake-webhook$': '<rootDir>/src/index.ts' },
};

export default config;
