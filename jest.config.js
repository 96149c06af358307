import { availableParallelism } from 'node:os';

/** Jest runs the TypeScript sources as native ES modules (client-node 2.x and middy 7 are ESM-only). */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
        module: { type: 'es6' },
      },
    ],
  },
  // Sources import siblings as `./x.js` (NodeNext); map those back to the `.ts` files.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 30000,
  // Jest's default is cores − 1 workers: on a 2-core machine one, so every file runs in band in
  // the one process (8.5 minutes and twice the CPU, measured 2026-12-02); two workers: 2.6 minutes.
  maxWorkers: Math.max(2, availableParallelism() - 1),
  reporters: ['default', '<rootDir>/test/support/plain-summary-reporter.js'],
};
