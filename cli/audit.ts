// `zhengtong audit …`: supervision of the access log (访问记录). Each group of commands lives in its own file:
//   log      cli/audit-log.ts       the tamper-evident log: verify, checkpoints, proofs
//   search   cli/audit-search.ts    search, export, trace, a subject's view, covert-case flags
//   analyse  cli/audit-analytics.ts volumes, refusals, latency, reply times, anomaly flags; the analytics consumer
//   archive  cli/audit-archive.ts   sealing old segments into signed archive files, verifying and restoring them
// Each file exports a runner taking (config-loader, argv after the group's command) and returning an exit status.
import { loadConfig, type Config } from '../core/config/index.js';

/** Reads the settings when a command first needs them (cli/common.ts). */
export type { ConfigLoader } from './common.js';
import type { ConfigLoader } from './common.js';

/** The runner of each command; cli/commands.test.ts checks that these are the commands the usage catalogue lists. */
export const AUDIT_RUNNERS: Record<string, () => Promise<(config: ConfigLoader, command: string, argv: string[]) => Promise<number>>> = {
  verify: async () => (await import('./audit-log.js')).runAuditLogCommand,
  checkpoint: async () => (await import('./audit-log.js')).runAuditLogCommand,
  checkpoints: async () => (await import('./audit-log.js')).runAuditLogCommand,
  proof: async () => (await import('./audit-log.js')).runAuditLogCommand,
  search: async () => (await import('./audit-search.js')).runAuditSearchCommand,
  export: async () => (await import('./audit-search.js')).runAuditSearchCommand,
  trace: async () => (await import('./audit-search.js')).runAuditSearchCommand,
  subject: async () => (await import('./audit-search.js')).runAuditSearchCommand,
  covert: async () => (await import('./audit-search.js')).runAuditSearchCommand,
  analyse: async () => (await import('./audit-analytics.js')).runAuditAnalyticsCommand,
  anomalies: async () => (await import('./audit-analytics.js')).runAuditAnalyticsCommand,
  consume: async () => (await import('./audit-analytics.js')).runAuditAnalyticsCommand,
  archive: async () => (await import('./audit-archive.js')).runAuditArchiveCommand,
};

/** argv: what follows `audit`; usage is answered by cli/main.ts first. Resolves with the exit status. */
export async function runAuditCommand(argv: string[], configFile?: string): Promise<number> {
  const command = argv[0] ?? '';
  const group = Object.hasOwn(AUDIT_RUNNERS, command) ? AUDIT_RUNNERS[command] : undefined;
  if (!group) {
    process.stderr.write(`zhengtong audit: unknown command "${command}" (zhengtong audit help)\n`);
    return 2;
  }
  let config: Config | undefined;
  const load: ConfigLoader = () => (config ??= loadConfig(configFile ? { file: configFile } : {}));
  return (await group())(load, command, argv.slice(1));
}
