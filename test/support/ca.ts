// Test support for the platform CA and the trust store: a CA made in a temporary directory, an in-memory migrated
// database, valid USCCs on demand, and polling with a deadline.
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { initPlatformCa, type InitialisedPlatformCa } from '../../certs/ca/index.js';
import { isZtError } from '../../core/errors/index.js';
import { USCC_ALPHABET, usccCheckCharacter } from '../../core/identifiers/index.js';
import { migrate, PgliteDatabase } from '../../core/storage/index.js';

export const TEST_PUBLIC_URL = 'http://pki.zt.test:8080';

export interface TestCaDir {
  /** The directory holding the CA (pass it as caDir). */
  dir: string;
  /** The root CA key's directory, apart from `dir` (pass it as caRootKeyDir). */
  rootKeyDir: string;
  /** A directory for the platform's signing key, apart from `dir` (pass it as platformKeyDir; openPlatformSigner makes it). */
  platformKeyDir: string;
  material: InitialisedPlatformCa;
  /** Removes the directory and its parent. */
  remove(): void;
}

/** Creates a platform CA with initPlatformCa in a fresh temporary directory. */
export async function makeTestCaDir(options: { passphrase?: string; publicUrl?: string; now?: Date } = {}): Promise<TestCaDir> {
  const parent = mkdtempSync(join(tmpdir(), 'zt-ca-'));
  const dir = join(parent, 'ca');
  const rootKeyDir = join(parent, 'ca-root');
  const material = await initPlatformCa({
    dir,
    rootKeyDir,
    organisation: '沈阳市大数据管理局',
    province: '辽宁省',
    locality: '沈阳市',
    publicUrl: options.publicUrl ?? TEST_PUBLIC_URL,
    ...(options.passphrase !== undefined ? { passphrase: options.passphrase } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
  });
  return { dir, rootKeyDir, platformKeyDir: join(parent, 'platform-keys'), material, remove: () => rmSync(parent, { recursive: true, force: true }) };
}

/** An in-memory PGlite database with every migration applied. */
export async function openMigratedDatabase(): Promise<PgliteDatabase> {
  const db = await PgliteDatabase.open({ dataDir: undefined });
  await migrate(db);
  return db;
}

/** A random, valid unified social credit code (GB 32100). */
export function randomUscc(): string {
  // Registration authority 9 (工商), type 1 (enterprise), a Liaoning division code, then 9 random organisation-code characters.
  let first17 = `91210100`;
  while (first17.length < 17) first17 += USCC_ALPHABET[randomInt(USCC_ALPHABET.length)];
  return first17 + usccCheckCharacter(first17)!;
}

/** The ZtError code a promise rejects with; fails the test if it resolves or rejects with something else. */
export async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isZtError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a rejection with a ZtError, but the promise resolved');
}

/** Calls `check` until it returns true, or throws after `timeoutMs`. */
export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
