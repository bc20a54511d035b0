// `zhengtong pseudonym rotate|status` on an embedded database: rotation adds a version to the key file (mode 0600),
// the next open indexes with it and still finds what the first version indexed; with ZT_PSEUDONYM_KEYS the new list
// is printed instead.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../core/config/index.js';
import { parsePseudonymKeyList, readPseudonymKeyFile } from '../core/pseudonyms/index.js';
import { runPseudonym } from './pseudonym.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function run(config: ReturnType<typeof loadConfig>, ...args: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) } };
  return runPseudonym(config, ['pseudonym', ...args], io).then((status) => ({ status, out, err }));
}

describe('zhengtong pseudonym', () => {
  it('rotates the key file and reports the versions', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'zt-pseudonym-'));
    dirs.push(dataDir);
    const config = loadConfig({ env: {}, overrides: { dataDir, logLevel: 'silent' } });
    const rotated = await run(config, 'rotate');
    expect(rotated.status).toBe(0);
    expect(rotated.out).toContain('added pseudonym key version 2');
    expect(readPseudonymKeyFile(config.pseudonymKeyFile).map((k) => k.version)).toEqual([1, 2]);
    expect(statSync(config.pseudonymKeyFile).mode & 0o777).toBe(0o600);
    const status = JSON.parse((await run(config, 'status', '--json')).out) as { current: number; versions: { version: number; registeredAt: string | null }[] };
    expect(status.current).toBe(2);
    expect(status.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(status.versions.every((v) => v.registeredAt !== null)).toBe(true);
  });

  it('prints the key list with a new version when the keys come from ZT_PSEUDONYM_KEYS', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'zt-pseudonym-'));
    dirs.push(dataDir);
    const config = loadConfig({ env: { ZT_PSEUDONYM_KEYS: `1:${randomBytes(32).toString('base64')}` }, overrides: { dataDir, logLevel: 'silent' } });
    const rotated = await run(config, 'rotate');
    expect(parsePseudonymKeyList(rotated.out).map((k) => k.version)).toEqual([1, 2]);
    expect(rotated.err).toContain('ZT_PSEUDONYM_KEYS');
  });
});
