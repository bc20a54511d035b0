// Helpers of the end-to-end tests: build the real CLI once, spawn `node bin/zhengtong.js`, watch its output, pick
// free ports. The child gets a clean environment (no DATABASE_URL, KAFKA_BROKERS or ZT_* of the test runner) plus
// exactly the settings a test passes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const cliEntry = join(repoRoot, 'bin', 'zhengtong.js');

const SOURCE_DIRS = ['core', 'transport', 'gateway', 'registry', 'licences', 'demo', 'intake', 'certs', 'policies', 'exchange', 'audit', 'client', 'cli'];
const BUILD_LOCK = join(repoRoot, 'dist', '.e2e-build.lock');
const BUILD_STAMP = join(repoRoot, 'dist', '.e2e-build.stamp');

function newestSourceMtime(): number {
  let newest = 0;
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of SOURCE_DIRS) walk(join(repoRoot, d));
  for (const f of ['tsconfig.json', 'tsconfig.build.json']) newest = Math.max(newest, statSync(join(repoRoot, f)).mtimeMs);
  return newest;
}

/**
 * Compiles the sources to dist/ (tsc -p tsconfig.build.json) unless a build that started after the newest source
 * change already ran. Test files run in parallel, so a lock directory keeps two compilers from writing dist/ at once.
 */
export async function ensureBuilt(): Promise<void> {
  mkdirSync(join(repoRoot, 'dist'), { recursive: true });
  const deadline = Date.now() + 240_000;
  for (;;) {
    try {
      mkdirSync(BUILD_LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock older than the longest build is left over from a killed run.
      try {
        if (Date.now() - statSync(BUILD_LOCK).mtimeMs > 180_000) rmSync(BUILD_LOCK, { recursive: true, force: true });
      } catch {
        // Released meanwhile.
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${BUILD_LOCK}`);
      await sleep(250);
    }
  }
  try {
    const started = Date.now();
    const stamp = existsSync(BUILD_STAMP) ? Number(readFileSync(BUILD_STAMP, 'utf8')) : 0;
    if (stamp > newestSourceMtime() && existsSync(join(repoRoot, 'dist', 'cli', 'main.js'))) return;
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: repoRoot, encoding: 'utf8', timeout: 180_000 });
    if (!existsSync(join(repoRoot, 'dist', 'cli', 'main.js'))) {
      throw new Error(`npx tsc -p tsconfig.build.json produced no dist/cli/main.js:\n${result.stdout}${result.stderr}`);
    }
    if (result.status !== 0) {
      // tsc still emits on type errors (which `npm run typecheck` reports); the e2e tests run what was emitted.
      console.warn(`[e2e] tsc -p tsconfig.build.json reported errors (output was still emitted):\n${result.stdout}${result.stderr}`);
    } else {
      writeFileSync(BUILD_STAMP, String(started));
    }
  } finally {
    rmSync(BUILD_LOCK, { recursive: true, force: true });
  }
}

/** A port that was free a moment ago (bound on port 0 and released). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SYSTEMROOT', 'NODE_OPTIONS'];

/** The child's environment: only what a shell needs, then the test's settings. */
export function childEnv(settings: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of INHERITED) if (process.env[k] !== undefined) env[k] = process.env[k];
  for (const [k, v] of Object.entries(settings)) if (v !== undefined) env[k] = v;
  return env;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<Exit>;
  /** Resolves with the text once the stream matches, rejects on exit or after timeoutMs. */
  waitFor(pattern: RegExp, stream: 'stdout' | 'stderr', timeoutMs: number): Promise<string>;
  /** Waits for exit, killing the process (SIGKILL) after timeoutMs. */
  waitForExit(timeoutMs: number): Promise<Exit & { timedOut: boolean }>;
  kill(signal?: NodeJS.Signals): void;
}

const running = new Set<ChildProcess>();

/** Spawns `node bin/zhengtong.js ...args` with a clean environment plus settings. */
export function spawnCli(args: string[], settings: Record<string, string | undefined> = {}): CliProcess {
  const child = spawn(process.execPath, [cliEntry, ...args], { cwd: repoRoot, env: childEnv(settings), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  const notify = (): void => listeners.forEach((l) => l());
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    notify();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    notify();
  });
  let done = false;
  const exited = new Promise<Exit>((resolveExit) => {
    child.on('close', (code, signal) => {
      done = true;
      running.delete(child);
      notify();
      resolveExit({ code, signal });
    });
  });
  const handle: CliProcess = {
    child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, stream, timeoutMs) {
      return new Promise((resolveWait, reject) => {
        const check = (): void => {
          const text = stream === 'stdout' ? out : err;
          if (pattern.test(text)) finish(() => resolveWait(text));
          else if (done) finish(() => reject(new Error(`zhengtong exited before ${stream} matched ${pattern}\nstdout:\n${out}\nstderr:\n${err}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`${stream} did not match ${pattern} within ${timeoutMs} ms\nstdout:\n${out.slice(-4000)}\nstderr:\n${err}`))),
          timeoutMs,
        );
        const finish = (f: () => void): void => {
          clearTimeout(timer);
          listeners.delete(check);
          f();
        };
        listeners.add(check);
        check();
      });
    },
    async waitForExit(timeoutMs) {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      const exit = await exited;
      clearTimeout(timer);
      return { ...exit, timedOut };
    },
    kill(signal = 'SIGTERM') {
      if (!done) child.kill(signal);
    },
  };
  return handle;
}

export interface CliRun extends Exit {
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

/** Runs the CLI to completion (killed after timeoutMs). */
export async function runCli(args: string[], settings: Record<string, string | undefined> = {}, timeoutMs = 60_000): Promise<CliRun> {
  const started = Date.now();
  const p = spawnCli(args, settings);
  const exit = await p.waitForExit(timeoutMs);
  return { ...exit, stdout: p.stdout(), stderr: p.stderr(), durationMs: Date.now() - started };
}

/** Kills every child a test left running (afterEach/afterAll). */
export async function killAll(): Promise<void> {
  const left = [...running];
  for (const child of left) child.kill('SIGKILL');
  await Promise.all(left.map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('close', () => r())))));
}

/** Polls url until it answers 200 or timeoutMs passes. */
export async function waitForHttp(url: string, timeoutMs: number, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`the process exited before ${url} answered`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})`);
}

/** A fresh directory under the system temp directory. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
