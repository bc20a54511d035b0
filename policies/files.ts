// Reading policy files from a directory: the one place policies/ touches the file system.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ZtError } from '../core/errors/index.js';
import { packageRoot } from '../core/paths.js';
import type { PolicySource } from './policy-file.js';

const POLICY_FILE = /\.(ya?ml|json)$/;

/**
 * The policy files (*.yaml, *.yml, *.json) directly in `dir`, in name order. Each is named by its path relative
 * to `base` (default: the package root) so that errors read `policies/default/negative-list.yaml:12: …`.
 */
export function readPolicyDirectory(dir: string, base = packageRoot()): PolicySource[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => POLICY_FILE.test(n)).sort();
  } catch (cause) {
    throw new ZtError('ZT_ERR_POLICY_INVALID', `cannot read the policy directory ${dir}: ${(cause as Error).message}`, { cause });
  }
  if (names.length === 0) throw new ZtError('ZT_ERR_POLICY_INVALID', `the policy directory ${dir} has no .yaml, .yml or .json files`);
  return names.map((n) => {
    const path = join(dir, n);
    const name = relative(base, path).split('\\').join('/') || n;
    try {
      return { name: name.startsWith('..') ? path : name, text: readFileSync(path, 'utf8') };
    } catch (cause) {
      throw new ZtError('ZT_ERR_POLICY_INVALID', `cannot read the policy file ${path}: ${(cause as Error).message}`, { cause });
    }
  });
}

/** The directory of the shipped default negative list. */
export function defaultPolicyDirectory(): string {
  return join(packageRoot(), 'policies', 'default');
}
