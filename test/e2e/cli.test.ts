// The real command line, spawned as a user runs it (`node bin/zhengtong.js`): start-up problems a person can fix
// end in one actionable line on stderr and a non-zero exit, quickly; the happy path serves and shuts down cleanly.
import { createServer, type Server } from 'node:net';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../cli/commands.js';
import { formatUsage, usageNode } from '../../cli/usage.js';
import { describeWithService, postgresUrl, uniqueName } from '../support/services.js';
import { ensureBuilt, freePort, killAll, repoRoot, runCli, spawnCli, tempDir, waitForHttp, type CliRun } from './process.js';

const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

const dirs: string[] = [];
function dataDir(): string {
  const dir = tempDir('zt-e2e-cli-');
  dirs.push(dir);
  return dir;
}

/** Settings of a run that could start: free ports and a throwaway embedded database. */
async function baseSettings(): Promise<Record<string, string>> {
  return { ZT_DATA_DIR: dataDir(), ZT_HTTP_PORT: String(await freePort()), ZT_GRPC_PORT: String(await freePort()) };
}

/** Exactly one non-empty line on stderr, from zhengtong, without a stack trace. */
function expectOneLineFailure(run: CliRun, maxMs: number): string {
  const context = `exit ${run.code} signal ${run.signal} after ${run.durationMs} ms\nstderr:\n${run.stderr}\nstdout:\n${run.stdout.slice(-2000)}`;
  expect(run.timedOut, context).toBe(false);
  expect(run.code, context).not.toBe(0);
  expect(run.code, context).not.toBeNull();
  expect(run.durationMs, context).toBeLessThan(maxMs);
  const lines = run.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, context).toHaveLength(1);
  expect(run.stderr, context).not.toMatch(/^\s+at /m);
  expect(lines[0], context).toMatch(/^zhengtong: /);
  return lines[0]!;
}

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

beforeAll(async () => {
  await ensureBuilt();
}, 240_000);

afterEach(async () => {
  await killAll();
});

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('zhengtong CLI: start-up problems end in one actionable line', () => {
  it('a malformed setting names the variable and ZT_ERR_CONFIG_INVALID', async () => {
    const run = await runCli(['serve'], { ...(await baseSettings()), ZT_HTTP_PORT: 'abc' }, 30_000);
    const line = expectOneLineFailure(run, 15_000);
    expect(line).toContain('ZT_HTTP_PORT');
    expect(line).toContain('"abc"');
    expect(line).toContain('ZT_ERR_CONFIG_INVALID');
  }, 60_000);

  it('a DATABASE_URL where nothing listens asks whether PostgreSQL is running', async () => {
    const run = await runCli(['serve'], { ...(await baseSettings()), DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' }, 45_000);
    const line = expectOneLineFailure(run, 30_000);
    expect(line).toContain('127.0.0.1:1');
    expect(line).toContain('is PostgreSQL running');
    expect(line).toContain('ZT_ERR_STORAGE_UNAVAILABLE');
  }, 60_000);

  it('a DATABASE_URL that is not PostgreSQL is a configuration error', async () => {
    const run = await runCli(['serve'], { ...(await baseSettings()), DATABASE_URL: 'mysql://x' }, 30_000);
    const line = expectOneLineFailure(run, 15_000);
    expect(line).toContain('DATABASE_URL');
    expect(line).toContain('postgres://');
    expect(line).toContain('ZT_ERR_CONFIG_INVALID');
  }, 60_000);

  it('an unreachable Kafka fails within the connect timeout', async () => {
    const run = await runCli(
      ['serve'],
      { ...(await baseSettings()), KAFKA_BROKERS: '127.0.0.1:1', ZT_KAFKA_CONNECT_TIMEOUT_MS: '1500' },
      60_000,
    );
    // Start-up migrates a fresh embedded database before it connects to Kafka; the bound leaves room for a slow machine.
    const line = expectOneLineFailure(run, 40_000);
    expect(line).toContain('cannot reach Kafka');
    expect(line).toContain('127.0.0.1:1');
    expect(line).toContain('ZT_ERR_EVENTS_UNAVAILABLE');
  }, 90_000);

  it('an HTTP port in use names ZT_HTTP_PORT', async () => {
    const settings = await baseSettings();
    const blocker = await occupy(Number(settings.ZT_HTTP_PORT));
    try {
      const run = await runCli(['serve'], settings, 60_000);
      const line = expectOneLineFailure(run, 45_000);
      expect(line).toContain(`127.0.0.1:${settings.ZT_HTTP_PORT}`);
      expect(line).toContain('ZT_HTTP_PORT');
      expect(line).toContain('ZT_ERR_PORT_IN_USE');
    } finally {
      blocker.close();
    }
  }, 90_000);

  it('a gRPC port in use names ZT_GRPC_PORT', async () => {
    const settings = await baseSettings();
    const blocker = await occupy(Number(settings.ZT_GRPC_PORT));
    try {
      const run = await runCli(['serve'], settings, 60_000);
      const line = expectOneLineFailure(run, 45_000);
      expect(line).toContain(`127.0.0.1:${settings.ZT_GRPC_PORT}`);
      expect(line).toContain('ZT_GRPC_PORT');
      expect(line).toContain('ZT_ERR_PORT_IN_USE');
    } finally {
      blocker.close();
    }
  }, 90_000);

  it('an unknown command exits 2 and names it', async () => {
    const run = await runCli(['frobnicate'], {}, 30_000);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('unknown command "frobnicate"');
    expect(run.stderr).toContain('Usage: zhengtong <command>');
    expect(run.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);

  it('an unknown option exits 2', async () => {
    const run = await runCli(['serve', '--no-such-option'], {}, 30_000);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('--no-such-option');
    expect(run.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);
});

describe('zhengtong CLI: help', () => {
  const usageOf = (...path: string[]): string => formatUsage(path, usageNode(COMMANDS, path));

  it('every form of asking answers with the command\'s own usage, reading no settings and opening no database', async () => {
    // Settings that would stop any command that read them (a malformed port) or opened its database (nothing listens
    // there, and the data directory does not exist): asking for usage does neither.
    const settings = { ZT_HTTP_PORT: 'abc', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test', ZT_DATA_DIR: join(dataDir(), 'never-created') };
    const cases: [string[], string[]][] = [
      [['audit', 'verify', '--help'], ['audit', 'verify']],
      [['licence', 'verify-offline', 'help'], ['licence', 'verify-offline']],
      [['serve', '--help'], ['serve']],
      [['ca', 'init', '-h'], ['ca', 'init']],
      [['audit', 'archive', 'seal', '--help'], ['audit', 'archive', 'seal']],
      [['audit', 'covert', 'flag', '--case-number', 'X', '-h'], ['audit', 'covert', 'flag']],
      [['licence', 'convert', '--help'], ['licence', 'convert']],
      [['sign', 'help'], ['sign']],
      [['help', 'extract', 'load'], ['extract', 'load']],
      [['ca', 'help'], ['ca']],
      [['audit', '--help'], ['audit']],
      [['help'], []],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args, settings, 30_000)));
    cases.forEach(([args, path], i) => {
      const run = runs[i]!;
      expect(run.code, `${args.join(' ')}\n${run.stderr}`).toBe(0);
      expect(run.stdout, args.join(' ')).toBe(usageOf(...path));
      expect(run.stderr, args.join(' ')).toBe('');
      if (path.length > 0) expect(run.stdout, args.join(' ')).not.toContain('Usage: zhengtong <command>');
    });
    expect(existsSync(settings.ZT_DATA_DIR)).toBe(false);
  }, 90_000);

  it('an unknown or missing command in a group exits 2 with the group\'s usage', async () => {
    const [unknown, missing] = await Promise.all([runCli(['audit', 'archive', 'frobnicate'], {}, 30_000), runCli(['licence'], {}, 30_000)]);
    expect(unknown.code, unknown.stderr).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toBe(`zhengtong audit archive: unknown command "frobnicate"\n\n${usageOf('audit', 'archive')}`);
    expect(missing.code, missing.stderr).toBe(2);
    expect(missing.stderr).toMatch(/^zhengtong licence: which command\? One of types, get, /);
    expect(missing.stderr.endsWith(usageOf('licence'))).toBe(true);
  }, 60_000);
});

describe('zhengtong CLI: commands', () => {
  it('--version prints the package version', async () => {
    const run = await runCli(['--version'], {}, 30_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${version}\n`);
    expect(run.stderr).toBe('');
  }, 60_000);

  it('migrate applies the migrations to a fresh data directory, then has nothing to apply', async () => {
    const settings = { ZT_DATA_DIR: dataDir() };
    const first = await runCli(['migrate'], settings, 60_000);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('applied 0001_foundation');
    const second = await runCli(['migrate'], settings, 60_000);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('nothing to apply');
  }, 120_000);

  it('serve answers on a fresh data directory, seeds the demo data and shuts down cleanly on SIGTERM', async () => {
    const settings = await baseSettings();
    const started = Date.now();
    const p = spawnCli(['serve'], settings);
    const httpUrl = `http://127.0.0.1:${settings.ZT_HTTP_PORT}`;
    await waitForHttp(`${httpUrl}/healthz`, 60_000, () => p.child.exitCode === null);
    const ready = Date.now() - started;
    expect(ready).toBeLessThan(60_000);

    const banner = await p.waitFor(/demo data seeded: 9 departments/, 'stderr', 10_000);
    expect(banner).toContain(`HTTP      ${httpUrl}`);
    expect(banner).toContain(`${httpUrl}/docs`);
    expect(banner).toContain(`gRPC      127.0.0.1:${settings.ZT_GRPC_PORT}`);
    expect(banner).toContain(`PGlite (embedded) in ${settings.ZT_DATA_DIR}`);
    expect(banner).toContain('in-process');

    const res = await fetch(`${httpUrl}/v1/departments`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { uscc: string }[]; next: string | null };
    expect(body.items).toHaveLength(9);
    expect(body.next).toBeNull();

    p.kill('SIGTERM');
    const exit = await p.waitForExit(30_000);
    expect(exit, p.stderr()).toEqual({ code: 0, signal: null, timedOut: false });
    expect(p.stdout()).toContain('shut down cleanly');
    expect(p.stderr()).not.toMatch(/^\s+at /m);

    // Started again on the seeded directory, it loads the platform's signing key at once, before any request needs
    // it, so that the first exchange after a restart does not wait for it.
    const again = spawnCli(['serve'], { ...settings, ZT_LOG_LEVEL: 'info' });
    await waitForHttp(`${httpUrl}/healthz`, 60_000, () => again.child.exitCode === null);
    const loaded = await again.waitFor(/platform signing key loaded/, 'stdout', 20_000);
    expect(loaded).toContain(join(settings.ZT_DATA_DIR!, 'platform-keys'));
    again.kill('SIGTERM');
    expect((await again.waitForExit(30_000)).code, again.stderr()).toBe(0);
  }, 180_000);
});

describeWithService('postgres', 'zhengtong CLI against PostgreSQL', () => {
  const schema = uniqueName('zt_e2e_cli');

  afterAll(async () => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await client.end();
    }
  });

  it('migrate applies to a fresh schema, then has nothing to apply', async () => {
    const settings = { DATABASE_URL: postgresUrl!, ZT_DATABASE_SCHEMA: schema };
    const first = await runCli(['migrate'], settings, 60_000);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('applied 0001_foundation');
    const second = await runCli(['migrate'], settings, 60_000);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('nothing to apply');
  }, 120_000);
});
