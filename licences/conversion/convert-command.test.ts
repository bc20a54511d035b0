// `zhengtong licence convert` on an embedded database that an app seeded (demo CA and departments) and then closed,
// as an operator would run it with serve stopped.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLicenceConvertCommand } from '../../cli/licence-convert.js';
import { loadConfig } from '../../core/config/index.js';
import { createLogger } from '../../core/logging/index.js';
import { composeUscc } from '../../exchange/datasets/codes.js';
import { buildApp } from '../../gateway/app.js';

const MARKET = '11210100001000029N';
const TYPE = '11100000MB0002581X905';

function capture(isTTY = false) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: { write: (t: string) => out.push(t) }, stderr: { isTTY, write: (t: string) => err.push(t) } }, out, err };
}

describe('zhengtong licence convert', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'zt-convert-cli-'));
    const config = loadConfig({ env: {}, overrides: { dataDir, logLevel: 'silent' } });
    const app = await buildApp(config, { logger: createLogger({ level: 'silent', instanceId: 'test' }), seedDemo: true });
    try {
      await app.ctx.licences.defineType({
        code: TYPE,
        name: '户外广告登记证（转化测试）',
        definingAuthority: { code: TYPE.slice(0, 18), name: '市场监督管理部门（演示）' },
        holderKind: 'organisation',
        issuers: [MARKET],
        fields: [{ code: 'location', label: '设置地点', kind: 'string', required: true }],
      });
    } finally {
      await app.close();
    }
    env = { ZT_DATA_DIR: dataDir, ZT_LOG_LEVEL: 'silent' };
  });

  afterAll(() => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('converts a file, says so on standard output, and a second run finds it done', async () => {
    const file = join(dataDir, 'ads.csv');
    const rows = ['licenceNumber,holderName,holderCode,issueDate,location'];
    for (let i = 0; i < 30; i++) rows.push(`GG${1000 + i},广告公司${i},${composeUscc('91', '210100', `MC${String(i).padStart(6, '0')}`)},2022-03-0${1 + (i % 9)},中街${i}号`);
    rows.push('GG9999,坏公司,91210100MA0000000Z,2022-03-01,某处');
    writeFileSync(file, `${rows.join('\n')}\n`);

    const first = capture();
    const status = await runLicenceConvertCommand(['licence', 'convert', '--type', TYPE.toLowerCase(), '--file', file, '--batch', '10'], first.io, env);
    expect(first.err.join(''), 'standard error').not.toContain('zhengtong:');
    expect(status).toBe(0);
    expect(first.out.join('')).toMatch(/^converted .*ads\.csv to 户外广告登记证（转化测试） \(11100000MB0002581X905\): 31 rows in .*: 30 accepted, 0 skipped \(already in the registry\), 1 rejected; rejected rows in .*ads\.csv\.rejects\.jsonl/);

    const second = capture();
    expect(await runLicenceConvertCommand(['convert', '--type', TYPE, '--file', file], second.io, env)).toBe(0);
    expect(second.out.join('')).toMatch(/was converted to .* before, finished .*: 31 rows, 30 accepted.*nothing to do/);
  });

  it('fails with one line naming the error code', async () => {
    const unknownType = capture();
    expect(await runLicenceConvertCommand(['licence', 'convert', '--type', '11100000MB0002581X999', '--file', join(dataDir, 'ads.csv')], unknownType.io, env)).toBe(1);
    expect(unknownType.err.join('')).toMatch(/^zhengtong: no licence type has code .* \[ZT_ERR_LICENCE_TYPE_UNKNOWN\]\n$/);

    const missingFile = capture();
    expect(await runLicenceConvertCommand(['licence', 'convert', '--type', TYPE, '--file', join(dataDir, 'none.csv')], missingFile.io, env)).toBe(1);
    expect(missingFile.err.join('')).toMatch(/\[ZT_ERR_CONVERSION_INPUT\]\n$/);

    const badBatch = capture();
    expect(await runLicenceConvertCommand(['licence', 'convert', '--type', TYPE, '--file', 'x.csv', '--batch', '0'], badBatch.io, env)).toBe(1);
    expect(badBatch.err.join('')).toMatch(/--batch must be .* \[ZT_ERR_REQUEST_INVALID\]/);

    const noCa = capture();
    expect(await runLicenceConvertCommand(['licence', 'convert', '--type', TYPE, '--file', 'x.csv'], noCa.io, { ...env, ZT_CA_DIR: join(dataDir, 'no-ca') })).toBe(1);
    expect(noCa.err.join('')).toMatch(/\[ZT_ERR_CA_NOT_INITIALISED\]/);
  });
});
