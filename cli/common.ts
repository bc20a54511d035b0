import type { Config } from '../core/config/index.js';
// What the commands that talk to a running gateway share: usage errors (exit 2), reading the files a command line
// names, and the signing department's key from --key, --cert and --passphrase-file.
import { readFileSync } from 'node:fs';
import type { Signer } from '../certs/signer/index.js';
import { DepartmentKey } from '../client/department-key.js';

/** A mistake in the command line: the command prints it and exits 2. */
export class UsageError extends Error {}

/** A file the command line names; a usage error naming it when it cannot be read. */
export function readInput(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** The department key of --key and --cert (and --passphrase-file); undefined when neither is given. */
export function departmentKeyOf(v: { key?: string | undefined; cert?: string | undefined; 'passphrase-file'?: string | undefined }): Signer | undefined {
  if (v.key === undefined && v.cert === undefined) return undefined;
  if (v.key === undefined || v.cert === undefined) throw new UsageError('--key and --cert go together');
  const passphrase = v['passphrase-file'] !== undefined ? readInput(v['passphrase-file'], 'passphrase file').toString('utf8').replace(/\r?\n$/, '') : undefined;
  return DepartmentKey.fromMaterial({ privateKey: readInput(v.key, 'key'), certificate: readInput(v.cert, 'certificate'), ...(passphrase !== undefined ? { passphrase } : {}) });
}

/** Reads the settings when a command first needs them, so that a command that needs none loads none. */
export type ConfigLoader = () => Config;
