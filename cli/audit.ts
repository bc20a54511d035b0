// `zhengtong audit …`: supervision of the access log (访问记录). Each group of commands lives in its own file:
//   log      cli/audit-log.ts       the tamper-evident log: verify, checkpoints, proofs
//   search   cli/audit-search.ts    search, export, trace, a subject's view, covert-case flags
//   analyse  cli/audit-analytics.ts volumes, refusals, latency, reply times, anomaly flags; the analytics consumer
//   archive  cli/audit-archive.ts   sealing old segments into signed archive files, verifying and restoring them
// Each file exports a runner taking (config-loader, argv after the group's command) and returning an exit status.
import { loadConfig, type Config } from '../core/config/index.js';

export const AUDIT_HELP = `Usage: zhengtong audit <command> [options]

Supervision of the access log (访问记录): who read whose data, for which case, under which rule.
  verify | checkpoint | checkpoints | proof      the tamper-evident log (zhengtong audit verify --help)
  search | export | trace | subject | covert     searching the log (zhengtong audit search --help)
  analyse | anomalies | consume                  analytics and anomaly flags (zhengtong audit analyse --help)
  archive seal | verify | restore | list         the electronic archive (电子档案) (zhengtong audit archive --help)`;

export type ConfigLoader = () => Config;

const GROUPS: Record<string, () => Promise<(config: ConfigLoader, command: string, argv: string[]) => Promise<number>>> = {
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

/** argv: what follows `audit`. Resolves with the exit status. */
export async function runAuditCommand(argv: string[], configFile?: string): Promise<number> {
  const command = argv[0];
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${AUDIT_HELP}\n`);
    return 0;
  }
  const group = GROUPS[command];
  if (!group) {
    process.stderr.write(`zhengtong audit: unknown command "${command}"\n\n${AUDIT_HELP}\n`);
    return 2;
  }
  let config: Config | undefined;
  const load: ConfigLoader = () => (config ??= loadConfig(configFile ? { file: configFile } : {}));
  return (await group())(load, command, argv.slice(1));
}
