// Builds the application the way `serve` does, on free ports and a throwaway embedded database, for end-to-end tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../core/config/index.js';
import { createLogger } from '../../core/logging/index.js';
import { buildApp, type App } from '../../gateway/app.js';

export interface TestApp {
  app: App;
  config: Config;
  httpUrl: string;
  grpcAddress: string;
  close(): Promise<void>;
}

/** Starts an app on the embedded defaults (PGlite in a temp dir, in-process bus) unless overrides say otherwise. */
export async function startTestApp(overrides: Partial<Config> = {}, options: { seedDemo?: boolean } = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'zt-app-'));
  const config = loadConfig({
    env: {},
    overrides: { httpPort: 0, grpcPort: 0, dataDir, logLevel: 'silent', shutdownTimeoutMs: 5000, ...overrides },
  });
  const app = await buildApp(config, { logger: createLogger({ level: 'silent', instanceId: 'test' }), seedDemo: options.seedDemo ?? true });
  const { httpUrl, grpcAddress } = await app.listen();
  return {
    app,
    config,
    httpUrl,
    grpcAddress,
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
