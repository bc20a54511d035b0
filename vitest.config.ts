import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{core,transport,gateway,registry,licences,demo,certs,policies,exchange,audit,client,cli,intake,console,scenarios,test}/**/*.test.ts'],
    testTimeout: 30000,
    hookTimeout: 60000,
    pool: 'forks',
    setupFiles: ['test/support/leaks.ts'],
    reporters: ['default'],
  },
});
