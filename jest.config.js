// ESM project: ts-jest in ESM mode, run with NODE_OPTIONS=--experimental-vm-modules
// (client-node 1.x is ESM-only). Relative imports are written with `.js` and mapped back to `.ts`.
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testEnvironment: 'node',
};
// Generous time-outs (they only bound a failure); see test/setup/timeout-*.ts.
const unit = { ...common, setupFilesAfterEnv: ['<rootDir>/test/setup/timeout-unit.ts'] };
const slow = { ...common, setupFilesAfterEnv: ['<rootDir>/test/setup/timeout-slow.ts'] };

/** @type {import('jest').Config} */
export default {
  projects: [
    { ...unit, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...slow, displayName: 'runc', testMatch: ['<rootDir>/test/runc/**/*.test.ts'] },
    {
      ...slow,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/cluster/jest-global-setup.js',
      globalTeardown: '<rootDir>/test/cluster/jest-global-teardown.js',
    },
    { ...slow, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
    { ...slow, displayName: 'chart', testMatch: ['<rootDir>/test/chart/**/*.test.ts'] },
  ],
};
