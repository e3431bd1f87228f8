import {availableParallelism} from 'node:os'

import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Most tests wait on child processes (the CLI, servers, proxies, a browser), not on the CPU:
    // one worker more than the cores keeps both busy. (vitest's default, cores - 1, is one worker
    // on two cores: the whole suite one file at a time.)
    maxWorkers: availableParallelism() + 1,
  },
})
