// Placeholder until its part of the audit commands is written.
import type { ConfigLoader } from './audit.js';

export async function runAuditAnalyticsCommand(_config: ConfigLoader, command: string, _argv: string[]): Promise<number> {
  process.stderr.write(`zhengtong audit ${command}: not available yet\n`);
  return 2;
}
