/** Jest projects: unit (pure, fast), workflow (time-skipping server), integration (dev stack), e2e. */
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };
const base = { transform, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };
const withWorkers = { setupFiles: ['<rootDir>/test/support/quiet-runtime.ts'] };
module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...base, ...withWorkers, displayName: 'workflow', testMatch: ['<rootDir>/test/workflow/**/*.test.ts'] },
    {
      ...base,
      ...withWorkers,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
    },
    { ...base, ...withWorkers, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};
