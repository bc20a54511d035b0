// The simulated day (模拟一日): departments work through a few ordinary working days and then one more day with
// anomalies planted in it, all through the real exchange, so that the access log it leaves is one a supervisor
// would see. Then the supervision tools are turned on it and must find what was planted.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { Config } from '../../core/config/index.js';
import type { Logger } from '../../core/logging/index.js';
import { generateDemoDatasets } from '../../exchange/datasets/index.js';
import { buildApp, type App } from '../../gateway/app.js';
import { chinaDate, loadWorkingCalendar } from '../../registry/catalogue/working-days.js';
import { DemoSigners } from '../../demo/index.js';
import { drive, ScenarioClock, type DriveProgress } from './drive.js';
import { planScenario, previousWorkingDay, type ScenarioPlan } from './plan.js';
import { buildWorld } from './world.js';

export { ANOMALY_KINDS, planScenario, SCENARIO_DEMANDS, type AnomalyKind, type PlannedRequest, type PlantedAnomaly, type ScenarioPlan } from './plan.js';

export interface SimulatedDayOptions {
  config: Config;
  logger?: Logger;
  /** The simulated day, a working day (YYYY-MM-DD); default the last working day before today. */
  day?: string;
  /** Ordinary working days before it; default 5. */
  baselineDays?: number;
  /** Multiplies the ordinary volume; default 1 (about 2,500 requests a day). */
  scale?: number;
  seed?: number;
  concurrency?: number;
  onProgress?: (message: string) => void;
}

export interface SimulatedDayRun {
  app: App;
  httpUrl: string;
  grpcAddress: string;
  plan: ScenarioPlan;
  traffic: DriveProgress;
  clock: ScenarioClock;
}

/** The last working day before today (China time). */
export function defaultScenarioDay(now: Date = new Date()): string {
  return previousWorkingDay(loadWorkingCalendar(), chinaDate(now));
}

/**
 * Starts a gateway (the configuration's database and bus), lays out the world, plays the plan through it and
 * returns the running gateway with what was sent. The caller analyses, then closes the app.
 */
export async function playSimulatedDay(options: SimulatedDayOptions): Promise<SimulatedDayRun> {
  const say = options.onProgress ?? (() => undefined);
  const clock = new ScenarioClock();
  const app = await buildApp(options.config, { seedDemo: true, clock: clock.now, ...(options.logger ? { logger: options.logger } : {}) });
  try {
    const { httpUrl, grpcAddress } = await app.listen();
    const { ctx } = app;
    if (!ctx.ca) throw new Error(`no platform CA in ${options.config.caDir}: the scenario needs the demo CA (use a fresh data directory)`);
    const signers = new DemoSigners(ctx.ca, options.config.dataDir);
    const calendar = loadWorkingCalendar();
    const day = options.day ?? defaultScenarioDay();
    const plan = planScenario({
      day,
      calendar,
      datasets: generateDemoDatasets(),
      ...(options.baselineDays !== undefined ? { baselineDays: options.baselineDays } : {}),
      ...(options.scale !== undefined ? { scale: options.scale } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    });
    say(`simulated day ${plan.day} after ${plan.baselineDays.length} ordinary working days (${plan.baselineDays[0]} …): ${plan.requests.length} requests, ${plan.planted.length} planted anomalies`);
    const world = await buildWorld(ctx.demands, signers, plan.baselineDays[0]!, plan.day);
    await ctx.grants.reload(ctx.demands);
    say(`demands: ${world.registered} registered, ${world.approved} approved`);
    const traffic = await drive(plan.requests, {
      httpUrl,
      grpcAddress,
      signerFor: (uscc) => signers.signerFor(uscc),
      trust: { root: readFileSync(join(options.config.caDir, 'root-ca.cert.pem')), issuing: readFileSync(join(options.config.caDir, 'issuing-ca.cert.pem')) },
      platformUscc: options.config.platformUscc,
      clock,
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      onProgress: (p) =>
        say(`${p.sent}/${p.total} requests, business time ${new Date(p.at + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ')}, ${Math.round(p.sent / (p.elapsedMs / 1000))}/s`),
    });
    const refused = Object.entries(traffic.refused).map(([code, n]) => `${code} ${n}`).join(', ');
    say(`sent ${traffic.sent} requests in ${(traffic.elapsedMs / 1000).toFixed(1)} s: ${traffic.permitted} permitted${refused ? `, refused: ${refused}` : ''}`);
    return { app, httpUrl, grpcAddress, plan, traffic, clock };
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
}

/** A fresh data directory for a scenario run. */
export function scenarioDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'zt-scenario-'));
}
