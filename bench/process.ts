// What the end-to-end benchmarks need to run a server in a process of its own: a free port, waiting until it
// answers, and stopping it.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { PgDatabase } from '../core/storage/index.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once `url` answers 2xx; rejects if the child exits first or after `ms`. */
export async function waitForHttp(url: string, child: ChildProcess, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server at ${url} did not come up within ${ms} ms`);
}

export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Removes what a benchmarked server left: its data directory, and its PostgreSQL schema when it had one. */
export async function removeServerData(dataDir: string, databaseUrl: string | undefined, schema: string | undefined): Promise<void> {
  rmSync(dataDir, { recursive: true, force: true });
  if (!databaseUrl || !schema) return;
  await dropSchema(databaseUrl, schema);
}

/** Drops a benchmark's PostgreSQL schema with everything in it, if it is there. */
export async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const admin = await PgDatabase.open({ url: databaseUrl, poolSize: 2, schema: undefined });
  try {
    await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await admin.close();
  }
}
