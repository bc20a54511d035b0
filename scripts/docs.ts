// Regenerates the parts of the documentation that are derived from code: docs/errors.md and the README's
// configuration table (between the zt:config markers). Run with `npm run docs`.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigTable } from '../core/config/docs.js';
import { renderErrorDocs } from '../core/errors/docs.js';
import { packageRoot } from '../core/paths.js';

export const CONFIG_START = '<!-- zt:config:start -->';
export const CONFIG_END = '<!-- zt:config:end -->';

export function withConfigTable(readme: string): string {
  const start = readme.indexOf(CONFIG_START);
  const end = readme.indexOf(CONFIG_END);
  if (start < 0 || end < start) throw new Error(`README.md needs the markers ${CONFIG_START} and ${CONFIG_END}`);
  return `${readme.slice(0, start + CONFIG_START.length)}\n${renderConfigTable()}\n${readme.slice(end)}`;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const root = packageRoot();
  writeFileSync(join(root, 'docs', 'errors.md'), renderErrorDocs());
  const readmePath = join(root, 'README.md');
  writeFileSync(readmePath, withConfigTable(readFileSync(readmePath, 'utf8')));
  process.stdout.write('docs/errors.md and the README configuration table are up to date\n');
}
