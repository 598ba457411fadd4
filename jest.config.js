/**
 * Jest projects: unit (pure, fast), workflow (time-skipping server), integration (dev stack), e2e,
 * faults (fault drills). The slow drills (`test/faults/*.drill.ts`) join the faults project only
 * with PRORATA_FAULT_DRILLS=all, which `npm run test:faults` sets; `npm test` runs the fast ones.
 */
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };
const base = { transform, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };
const withWorkers = { setupFiles: ['<rootDir>/test/support/quiet-runtime.ts'] };
/** Projects on the real clock: no test file starts minutes before a month ends (clear-of-month-end.ts). */
const onRealClock = { setupFilesAfterEnv: ['<rootDir>/test/support/real-clock-guard.ts'] };
module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...base, ...withWorkers, displayName: 'workflow', testMatch: ['<rootDir>/test/workflow/**/*.test.ts'] },
    {
      ...base,
      ...withWorkers,
      ...onRealClock,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
    },
    {
      ...base,
      ...withWorkers,
      ...onRealClock,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
    },
    {
      ...base,
      ...withWorkers,
      ...onRealClock,
      displayName: 'faults',
      testMatch: [
        '<rootDir>/test/faults/**/*.test.ts',
        ...(process.env.PRORATA_FAULT_DRILLS === 'all' ? ['<rootDir>/test/faults/**/*.drill.ts'] : []),
      ],
    },
  ],
};
