// Where the blind index's keys come from: ZT_PSEUDONYM_KEYS (version:base64 pairs, for deployments that hand secrets
// in through the environment) or the key file (ZT_PSEUDONYM_KEY_FILE, default pseudonym-keys.json under the data
// directory, mode 0600), created with one fresh key on the first start of an empty database. The database keeps a
// check value per version (pseudonym_keys, migration 0016), so an instance started with another key, or without a
// version the rows were written with, is refused at start instead of writing rows no search would find.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ZtError } from '../errors/index.js';
import { replaceFile } from '../files.js';
import { BlindIndex, PSEUDONYM_KEY_BYTES, type PseudonymKey } from './blind-index.js';

export const PSEUDONYM_KEY_FILE_SCHEMA = 'zhengtong/pseudonym-keys/v1';
/**
 * What opening the keys needs of the database: the storage port's query (declared here so that configuration, which
 * reads the key list, does not depend on storage, which depends on configuration).
 */
interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[] }>;
}

export const PSEUDONYM_KEY_FILE_NAME = 'pseudonym-keys.json';

interface KeyFile {
  schema: typeof PSEUDONYM_KEY_FILE_SCHEMA;
  keys: { version: number; key: string; createdAt: string }[];
}

function invalid(message: string, cause?: unknown): ZtError {
  return new ZtError('ZT_ERR_CONFIG_INVALID', message, cause === undefined ? {} : { cause });
}

function decodeKey(version: number, text: string, where: string): PseudonymKey {
  const key = Buffer.from(text, 'base64');
  if (key.length !== PSEUDONYM_KEY_BYTES || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    throw invalid(`${where}: key version ${version} must be ${PSEUDONYM_KEY_BYTES} bytes in base64 (zhengtong pseudonym rotate makes one)`);
  }
  return { version, key };
}

/**
 * Reads ZT_PSEUDONYM_KEYS: `1:<base64>,2:<base64>` (spaces allowed). Returns the problem as text for the
 * configuration loader, which reports every problem at once.
 */
export function parsePseudonymKeyList(text: string): PseudonymKey[] {
  const keys: PseudonymKey[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([1-9][0-9]{0,3}):(.+)$/.exec(part);
    if (!m) throw invalid('ZT_PSEUDONYM_KEYS must be a comma-separated list of version:base64-key pairs, e.g. 1:<44 base64 characters>');
    const version = Number(m[1]);
    if (keys.some((k) => k.version === version)) throw invalid(`ZT_PSEUDONYM_KEYS names key version ${version} twice`);
    keys.push(decodeKey(version, m[2]!.trim(), 'ZT_PSEUDONYM_KEYS'));
  }
  if (keys.length === 0) throw invalid('ZT_PSEUDONYM_KEYS is set but holds no key');
  return keys;
}

/** The keys of a key file; ZT_ERR_CONFIG_INVALID naming the file when it cannot be read or is malformed. */
export function readPseudonymKeyFile(path: string): PseudonymKey[] {
  let parsed: KeyFile;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
  } catch (error) {
    throw invalid(`the pseudonym key file ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, error);
  }
  if (parsed?.schema !== PSEUDONYM_KEY_FILE_SCHEMA || !Array.isArray(parsed.keys) || parsed.keys.length === 0) {
    throw invalid(`the pseudonym key file ${path} is not a ${PSEUDONYM_KEY_FILE_SCHEMA} file with at least one key`);
  }
  const keys: PseudonymKey[] = [];
  for (const k of parsed.keys) {
    if (!Number.isInteger(k?.version) || k.version < 1 || k.version > 9999 || typeof k.key !== 'string') throw invalid(`the pseudonym key file ${path} has a malformed key entry`);
    if (keys.some((x) => x.version === k.version)) throw invalid(`the pseudonym key file ${path} names key version ${k.version} twice`);
    keys.push(decodeKey(k.version, k.key, path));
  }
  return keys;
}

function writeKeyFile(path: string, keys: KeyFile['keys'], exclusive: boolean): void {
  mkdirSync(dirname(path), { recursive: true });
  const text = `${JSON.stringify({ schema: PSEUDONYM_KEY_FILE_SCHEMA, keys } satisfies KeyFile, null, 2)}\n`;
  if (exclusive) {
    writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
    return;
  }
  replaceFile(path, text, 0o600);
}

/** Creates the key file with version 1; when another process was quicker (EEXIST), reads its file instead. */
export function createPseudonymKeyFile(path: string, now: Date = new Date()): PseudonymKey[] {
  try {
    writeKeyFile(path, [{ version: 1, key: randomBytes(PSEUDONYM_KEY_BYTES).toString('base64'), createdAt: now.toISOString() }], true);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw invalid(`the pseudonym key file ${path} cannot be created: ${(error as Error).message}`, error);
  }
  return readPseudonymKeyFile(path);
}

/** A fresh key, as ZT_PSEUDONYM_KEYS or the key file hold it (base64). */
export function newPseudonymKey(): string {
  return randomBytes(PSEUDONYM_KEY_BYTES).toString('base64');
}

/** Adds version max+1 to the key file (made current: new indexes use it); returns the new version. */
export function addPseudonymKeyVersion(path: string, now: Date = new Date()): number {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
  readPseudonymKeyFile(path); // the same checks as at start
  const version = Math.max(...parsed.keys.map((k) => k.version)) + 1;
  writeKeyFile(path, [...parsed.keys, { version, key: newPseudonymKey(), createdAt: now.toISOString() }], false);
  return version;
}

/** The options of openPseudonyms from the configuration (ZT_PSEUDONYM_KEYS, ZT_PSEUDONYM_KEY_FILE). */
export function pseudonymSettings(config: { readonly pseudonymKeys: string | undefined; readonly pseudonymKeyFile: string }, create = true): OpenPseudonymsOptions {
  return { keys: config.pseudonymKeys, keyFile: config.pseudonymKeyFile, create };
}

export interface OpenPseudonymsOptions {
  /** ZT_PSEUDONYM_KEYS, when set: the keys, and no file is read or created. */
  keys?: string | undefined;
  /** ZT_PSEUDONYM_KEY_FILE. */
  keyFile: string;
  /** Created when missing only if true (serve, migrate); tools that only read refuse instead. Default true. */
  create?: boolean;
}

interface KeyRow {
  version: number;
  check_value: string;
}

/**
 * The blind index of this instance, checked against the database: every version the database knows must be here
 * with the same key (else ZT_ERR_CONFIG_INVALID saying what to copy), and versions new to it are registered. The key
 * file is created only on a database that knows no version yet, so a second host without the file cannot start
 * with a key of its own.
 */
export async function openPseudonyms(db: Queryable, options: OpenPseudonymsOptions): Promise<BlindIndex> {
  const { rows: known } = await db.query<KeyRow>('SELECT version, check_value FROM pseudonym_keys ORDER BY version');
  let keys: PseudonymKey[];
  if (options.keys) keys = parsePseudonymKeyList(options.keys);
  else {
    let exists = true;
    try {
      readFileSync(options.keyFile);
    } catch {
      exists = false;
    }
    if (exists) keys = readPseudonymKeyFile(options.keyFile);
    else if (known.length === 0 && options.create !== false) keys = createPseudonymKeyFile(options.keyFile);
    else {
      throw invalid(
        known.length > 0
          ? `the pseudonym key file ${options.keyFile} is missing, but this database holds identifiers indexed under key version${known.length > 1 ? 's' : ''} ${known.map((k) => k.version).join(', ')}: copy the key file from the instance that made it (or set ZT_PSEUDONYM_KEYS)`
          : `the pseudonym key file ${options.keyFile} is missing; start zhengtong serve or zhengtong migrate once to create it`,
      );
    }
  }
  const index = new BlindIndex(keys);
  const checks = new Map(index.checkValues().map((c) => [c.version, c.check]));
  for (const row of known) {
    const check = checks.get(row.version);
    if (check === undefined) {
      throw invalid(`this database holds identifiers indexed under pseudonym key version ${row.version}, which ${options.keys ? 'ZT_PSEUDONYM_KEYS' : options.keyFile} lacks: copy the key file of the instance that added it (zhengtong pseudonym rotate) to every instance`);
    }
    if (check !== row.check_value) {
      throw invalid(`pseudonym key version ${row.version} of ${options.keys ? 'ZT_PSEUDONYM_KEYS' : options.keyFile} is not the key this database was written with: every instance must share one key file (or ZT_PSEUDONYM_KEYS)`);
    }
  }
  const fresh = index.checkValues().filter((c) => !known.some((k) => k.version === c.version));
  if (fresh.length > 0) {
    await db.query(
      `INSERT INTO pseudonym_keys (version, check_value) SELECT * FROM unnest($1::int[], $2::text[]) ON CONFLICT (version) DO NOTHING`,
      [fresh.map((c) => c.version), fresh.map((c) => c.check)],
    );
    // Another instance may have registered one of them at the same moment, with another key: read back and compare.
    const { rows } = await db.query<KeyRow>('SELECT version, check_value FROM pseudonym_keys WHERE version = ANY($1::int[])', [fresh.map((c) => c.version)]);
    for (const row of rows) {
      if (checks.get(row.version) !== row.check_value) throw invalid(`pseudonym key version ${row.version} was registered by another instance with another key at the same time; share one key file and start again`);
    }
  }
  return index;
}
