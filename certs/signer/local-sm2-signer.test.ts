// What the worker pool adds to the Signer contract: signatures are made in worker threads, across all of them,
// and the same code runs from the TypeScript sources (tsx, vitest) and from compiled JavaScript (dist/).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { threadId } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../core/paths.js';
import { generateSm2KeyPair, sm2Verify } from '../sm2/sm2.js';
import { LocalSm2Signer } from './local-sm2-signer.js';

const run = promisify(execFile);

describe('LocalSm2Signer worker pool', () => {
  it('defaults to one worker per available core and signs in those threads, never this one', async () => {
    const { privateKey, publicKey } = generateSm2KeyPair();
    const signer = await LocalSm2Signer.start({ privateKey });
    try {
      expect(signer.concurrency).toBe(availableParallelism());
      const messages = Array.from({ length: 40 * signer.concurrency }, (_, i) => Buffer.from(`m${i}`));
      const signatures = await Promise.all(messages.map((m) => signer.sign(m)));
      signatures.forEach((sig, i) => expect(sm2Verify(publicKey, messages[i]!, sig)).toBe(true));
      const stats = signer.stats();
      expect(stats).toHaveLength(signer.concurrency);
      const ids = stats.map((s) => s.threadId);
      expect(new Set(ids).size).toBe(ids.length);
      for (const s of stats) {
        expect(s.threadId).toBeGreaterThan(0);
        expect(s.threadId).not.toBe(threadId);
        expect(s.signed).toBeGreaterThan(0); // the load is spread over every thread
        expect(s.inFlight).toBe(0);
      }
      expect(stats.reduce((n, s) => n + s.signed, 0)).toBe(messages.length);
    } finally {
      await signer.close();
    }
  });

  it('refuses a pool of no workers', async () => {
    const { privateKey } = generateSm2KeyPair();
    await expect(LocalSm2Signer.start({ privateKey, workers: 0 })).rejects.toMatchObject({ code: 'ZT_ERR_CONFIG_INVALID' });
  });

  describe('from compiled JavaScript (the dist/ layout, no tsx)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zt-signer-dist-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('signs in workers, closes cleanly, and an unclosed pool does not keep the process alive', async () => {
      const root = packageRoot();
      // tsc follows the imports from these two entry points (sign-worker is only named by URL at run time).
      await run(
        join(root, 'node_modules/.bin/tsc'),
        [
          ...['--outDir', dir, '--rootDir', root, '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022'],
          ...['--strict', '--skipLibCheck', '--types', 'node', '--esModuleInterop'],
          join(root, 'certs/signer/local-sm2-signer.ts'),
          join(root, 'certs/signer/sign-worker.ts'),
        ],
        { cwd: root },
      );
      writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
      writeFileSync(
        join(dir, 'main.js'),
        `import { LocalSm2Signer } from './certs/signer/local-sm2-signer.js';
import { generateSm2KeyPair, sm2Verify } from './certs/sm2/sm2.js';
const { privateKey, publicKey } = generateSm2KeyPair();
const signer = await LocalSm2Signer.start({ privateKey, workers: 2 });
const messages = Array.from({ length: 50 }, (_, i) => Buffer.from('m' + i));
const signatures = await Promise.all(messages.map((m) => signer.sign(m)));
const verified = signatures.every((s, i) => sm2Verify(publicKey, messages[i], s));
const stats = signer.stats();
if (process.argv[2] === 'close') await signer.close();
// Without close(), idle workers are unref'd: the process ends here all the same.
process.stdout.write(JSON.stringify({ verified, stats, execArgv: process.execArgv }));
`,
      );
      const env = { ...process.env };
      delete env.NODE_OPTIONS; // no tsx, no vitest hooks: plain node on .js files
      for (const mode of ['close', 'no-close']) {
        const { stdout } = await run(process.execPath, [join(dir, 'main.js'), mode], { cwd: dir, env, timeout: 20_000 });
        const out = JSON.parse(stdout) as { verified: boolean; stats: { threadId: number; signed: number }[]; execArgv: string[] };
        expect(out.verified).toBe(true);
        expect(out.execArgv).toEqual([]);
        expect(out.stats.map((s) => s.threadId).every((id) => id > 0)).toBe(true);
        expect(out.stats.reduce((n, s) => n + s.signed, 0)).toBe(50);
      }
    }, 120_000);
  });
});
