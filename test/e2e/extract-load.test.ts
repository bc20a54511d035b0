// A supplier's extract loaded with `zhengtong extract load`, then served by the exchange: the new subject is
// answered, an invalid file is refused whole with its lines, and nothing already loaded is lost.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DepartmentKey, ExchangeClient, ExchangeError } from '../../client/index.js';
import { DEMO_SUBJECTS } from '../../exchange/datasets/index.js';
import { demoKeyFiles } from '../../demo/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { ensureBuilt, runCli, tempDir } from './process.js';

const YS = '112101000010000537';
const NEW_PERSON = '210102199003071233';
const dir = tempDir('zt-e2e-extract-');
const settings = { ZT_DATA_DIR: join(dir, 'data') };

beforeAll(async () => {
  await ensureBuilt();
  const seeded = await runCli(['seed'], settings, 180_000);
  expect(seeded.code, seeded.stderr).toBe(0);
}, 300_000);

describe('zhengtong extract load', () => {
  it('refuses a file with invalid rows whole, naming their lines', async () => {
    writeFileSync(
      join(dir, 'bad.csv'),
      ['name,idNumber,gender,address', `王小明,${NEW_PERSON},男,沈阳市和平区`, '李四,210102199003071234,女,沈阳市', `赵六,${NEW_PERSON},男,重复`, ''].join('\n'),
    );
    const run = await runCli(['extract', 'load', '--resource', '210100-GA-0001', '--subject-item', 'idNumber', join(dir, 'bad.csv')], settings, 120_000);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/\[ZT_ERR_EXTRACT_INVALID\]/);
    expect(run.stderr).toContain('line 3');
  });

  it('loads a valid file, which the exchange then serves beside the data loaded before', async () => {
    writeFileSync(join(dir, 'good.csv'), ['name,idNumber,gender,address', `王小明,${NEW_PERSON},男,沈阳市和平区南京北街1号`, ''].join('\n'));
    const run = await runCli(['extract', 'load', '--resource', '210100-GA-0001', '--subject-item', 'idNumber', join(dir, 'good.csv')], settings, 120_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^loaded 1 rows \(1 records\) of 210100-GA-0001 from 11210100001000010R/);

    let app: TestApp | undefined;
    let client: ExchangeClient | undefined;
    try {
      app = await startTestApp({ dataDir: join(dir, 'data') }, { seedDemo: true });
      const keys = demoKeyFiles(app.config.dataDir, YS);
      client = new ExchangeClient({
        httpUrl: app.httpUrl,
        signer: DepartmentKey.fromFiles(keys.key, keys.certificate),
        trust: { root: readFileSync(join(app.config.caDir, 'root-ca.cert.pem')), issuing: readFileSync(join(app.config.caDir, 'issuing-ca.cert.pem')) },
      });
      const ask = (code: string) =>
        client!.query({ resource: '210100-GA-0001', items: ['name', 'address'], subject: { kind: 'person', code }, purpose: { serviceItem: 'QYKB-210100-0009', caseNumber: 'EXTRACT-1' } });
      expect((await ask(NEW_PERSON)).result.items).toEqual({ name: '王小明', address: '沈阳市和平区南京北街1号' });
      expect((await ask(DEMO_SUBJECTS.applicant.idNumber)).result.items.name).toBe(DEMO_SUBJECTS.applicant.name);
      const unknown = await ask(DEMO_SUBJECTS.unknownPerson.idNumber).catch((e: unknown) => e);
      expect(unknown).toBeInstanceOf(ExchangeError);
      expect((unknown as ExchangeError).code).toBe('ZT_ERR_SUBJECT_NOT_FOUND');
    } finally {
      await client?.close();
      await app?.app.close();
    }
  });
});

