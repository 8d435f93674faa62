/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Type checking runs once in `npm run typecheck`; with isolatedModules in
    // tsconfig.json, ts-jest only transpiles each file.
    '^.+\\.ts$': 'ts-jest',
    '\\.(md|txt)$': '<rootDir>/test/text-transform.js',
  },
  // Jest's defaults, and the text files an agent imports.
  moduleFileExtensions: ['js', 'mjs', 'cjs', 'jsx', 'ts', 'tsx', 'json', 'node', 'md', 'txt'],
  // The package's own names, as the example imports them (tsconfig.json's paths, for ts-jest).
  moduleNameMapper: {
    '^cdk-multi-region-agent$': '<rootDir>/lib/index.ts',
    '^cdk-multi-region-agent/agent$': '<rootDir>/lambda/agent/agent/index.ts',
    '^cdk-multi-region-agent/client$': '<rootDir>/client/index.ts',
    // A dynamic import() names a relative module with its .js extension, as Node's ESM needs (lambda/agent/optional-modules.ts): here the .ts beside it.
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  // A temporary directory of the run's own, removed at its end (test/temp-dir.ts).
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 60000,
  // One worker per core, not Jest's default of one fewer: most files wait on child processes (emulators, npm, tsc,
  // Chromium) rather than compute, and on a two-core machine the default is a single worker (the suite took 663 s
  // with one worker, 438 s with two, same machine, same day).
  maxWorkers: '100%',
};
