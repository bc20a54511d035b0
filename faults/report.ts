// Small pieces every scenario shares: percentiles, counts, and running the CLI and the services' scripts as an
// operator would.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';

/** The q-quantile of sorted values (nearest rank); 0 for none. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The settings of a zhengtong child process: the harness's environment minus any zhengtong setting, plus exactly `own`. */
export function zhengtongEnv(own: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ZT_') && k !== 'DATABASE_URL' && k !== 'KAFKA_BROKERS') env[k] = v;
  return { ...env, ...own };
}

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

function runProcess(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: packageRoot(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Runs `zhengtong …args` with exactly `env` as its settings. */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<Ran> {
  return runProcess(process.execPath, [join(packageRoot(), 'bin/zhengtong.js'), ...args], zhengtongEnv(env), timeoutMs);
}

/** Runs a shell command with the harness's whole environment (the broker's script needs ZT_KAFKA_DATA and the like). */
export async function runShell(command: string, timeoutMs = 300_000): Promise<{ status: number | null; output: string }> {
  const ran = await runProcess('bash', ['-c', command], process.env, timeoutMs);
  return { status: ran.status, output: ran.stdout + ran.stderr };
}

export function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of items) out.set(key(t), (out.get(key(t)) ?? 0) + 1);
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The `n` slowest answers, as "at 12.3 s: 2,561 ms", for finding what a tail latency belongs to. */
export function slowest(sent: readonly { at: number; latencyMs?: number; status: number | null }[], n = 5): string {
  return [...sent]
    .filter((s) => s.status !== null && s.latencyMs !== undefined)
    .sort((a, b) => b.latencyMs! - a.latencyMs!)
    .slice(0, n)
    .map((s) => `at ${(s.at / 1000).toFixed(1)} s: ${s.latencyMs!.toFixed(0)} ms`)
    .join(', ');
}
