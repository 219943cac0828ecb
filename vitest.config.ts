import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'test/docs/**/*.test.ts',
            'test/model/**/*.test.ts',
            'test/constructs/**/*.test.ts',
            'test/controller/**/*.test.ts',
            'test/policies/**/*.test.ts',
            'test/synth/**/*.test.ts',
            'test/stacks/**/*.test.ts',
            'test/local-cluster/**/*.test.ts',
            'test/images/**/*.test.ts',
          ],
        },
      },
      {
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          globalSetup: ['test/setup/cluster-tests.ts'],
          // One shared control plane: files take turns, so cluster-scoped objects never race.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'deploy',
          include: ['test/deploy/**/*.test.ts'],
          globalSetup: ['test/setup/deploy-tests.ts'],
          // Each file starts a control plane of its own and drives the real Pulumi engine in order.
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
