// The simulated day end to end: departments work through two ordinary days and the day with five planted anomalies,
// through the real exchange; then the supervisor's API and the command line must find every planted anomaly and
// flag nothing else. On PostgreSQL (and Kafka) when configured, else on the embedded defaults; scaled down from the
// full scenario (npm run scenario) so that it runs in about a minute.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../core/config/index.js';
import { createLogger } from '../core/logging/index.js';
import { openDatabase } from '../core/storage/index.js';
import { demoKeyFiles, DemoSigners } from '../demo/index.js';
import { kafkaBrokers, postgresUrl, uniqueName } from '../test/support/services.js';
import { ensureBuilt, runCli } from '../test/e2e/process.js';
import { ANOMALY_KINDS, playSimulatedDay, scenarioDataDir, type SimulatedDayRun } from './simulated-day/index.js';
import { analyseSimulatedDay, flagMatches, waitForAnalytics, type ScenarioFindings } from './simulated-day/analyse.js';
import { chinaMidnight } from './simulated-day/plan.js';

const dataDir = scenarioDataDir();
const schema = postgresUrl ? uniqueName('zt_scenario') : undefined;
let config: Config;
let run: SimulatedDayRun;
let findings: ScenarioFindings;

beforeAll(async () => {
  config = loadConfig({
    env: {},
    overrides: {
      httpPort: 0,
      grpcPort: 0,
      dataDir,
      caDir: `${dataDir}/ca`,
      logLevel: 'silent',
      ...(postgresUrl ? { databaseUrl: postgresUrl, databaseSchema: schema } : {}),
      ...(kafkaBrokers.length > 0 ? { kafkaBrokers, kafkaTopicPrefix: `${uniqueName('zt_scn')}.` } : {}),
    },
  });
  run = await playSimulatedDay({ config, logger: createLogger({ level: 'silent', instanceId: 'scenario' }), scale: 0.35, baselineDays: 2, day: '2026-11-26' });
  await waitForAnalytics(run.app.ctx.db);
  const supervisor = await new DemoSigners(run.app.ctx.ca!, dataDir).signerFor(config.auditSupervisors[0]!);
  findings = await analyseSimulatedDay(run.plan, { httpUrl: run.httpUrl, grpcAddress: run.grpcAddress, supervisor });
}, 600_000);

afterAll(async () => {
  await run?.app.close();
  if (schema) {
    const db = await openDatabase(loadConfig({ env: {}, overrides: { databaseUrl: postgresUrl!, logLevel: 'silent' } }), createLogger({ level: 'silent', instanceId: 'cleanup' }));
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.close();
  }
  rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

describe('the simulated day', () => {
  it('goes through the real exchange: mostly permitted, with the refusals a real day has', () => {
    expect(run.traffic.sent).toBe(run.plan.requests.length);
    expect(run.traffic.permitted / run.traffic.sent).toBeGreaterThan(0.9);
    expect(run.traffic.refused.ZT_ERR_REQUEST_INVALID).toBeGreaterThan(0); // the requests without a case
  });

  it('plants one anomaly of each kind', () => {
    expect(run.plan.planted.map((p) => p.kind).sort()).toEqual([...ANOMALY_KINDS].sort());
  });

  it.each(ANOMALY_KINDS)('the supervisor API flags the planted %s, with a reason', (kind) => {
    const finding = findings.findings.find((f) => f.planted.kind === kind)!;
    expect(finding.flags.length, `no flag for ${finding.planted.description}`).toBeGreaterThan(0);
    for (const flag of finding.flags) expect(flag.reason.length).toBeGreaterThan(20);
  });

  it('flags nothing that was not planted', () => {
    expect(findings.unplanned.map((f) => `${f.kind}: ${f.reason}`)).toEqual([]);
  });

  it('search finds every record of the flagged operator, and the people read see who read them and why', () => {
    const many = run.plan.planted.find((p) => p.kind === 'operator-many-subjects')!;
    const dayStart = chinaMidnight(run.plan.day);
    const planned = run.plan.requests.filter((r) => r.operator === many.operator && r.at >= dayStart).length;
    expect(findings.operatorRecords).toBe(planned);
    expect(findings.subjectView.accesses).toBeGreaterThan(0);
    expect(findings.subjectView.showsTheRead).toBe(true);
  });

  it('the command line finds the same anomalies', async () => {
    await ensureBuilt();
    const key = demoKeyFiles(dataDir, config.auditSupervisors[0]!);
    const from = run.plan.day;
    const to = new Date(chinaMidnight(run.plan.day) + 86_400_000 + 8 * 3600_000).toISOString().slice(0, 10);
    const cli = await runCli(['audit', 'anomalies', '--url', run.httpUrl, '--key', key.key, '--cert', key.certificate, '--from', from, '--to', to, '--json'], {}, 120_000);
    expect(cli.code, cli.stderr).toBe(0);
    const report = JSON.parse(cli.stdout) as { flags: Parameters<typeof flagMatches>[0][] };
    for (const planted of run.plan.planted) expect(report.flags.some((f) => flagMatches(f, planted)), planted.description).toBe(true);
  }, 180_000);
});
