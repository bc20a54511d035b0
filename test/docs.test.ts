// Keeps the documentation, the error catalogue and the configuration schema in step.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderErrorDocs } from '../core/errors/docs.js';
import { errorCatalogue } from '../core/errors/index.js';
import { packageRoot } from '../core/paths.js';
import { withConfigTable } from '../scripts/docs.js';

const root = packageRoot();
const read = (path: string) => readFileSync(join(root, path), 'utf8');

describe('documentation in step with the code', () => {
  it('docs/errors.md lists the catalogue as it is (npm run docs regenerates it)', () => {
    expect(read('docs/errors.md')).toBe(renderErrorDocs());
  });

  it('the README configuration table matches the schema (npm run docs regenerates it)', () => {
    const readme = read('README.md');
    expect(withConfigTable(readme)).toBe(readme);
  });

  it('every catalogue code has a distinct name, a 4xx or 5xx status and a message', () => {
    for (const [code, d] of Object.entries(errorCatalogue)) {
      expect(code).toMatch(/^ZT_ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/);
      expect(d.http).toBeGreaterThanOrEqual(400);
      expect(d.http).toBeLessThan(600);
      expect(d.message.length).toBeGreaterThan(10);
    }
  });

  it('CI runs the README test command', () => {
    expect(read('README.md')).toContain('```sh\nnpm test\n```');
    expect(read('.ci/run')).toMatch(/^\s*npm test\b/m);
  });
});
