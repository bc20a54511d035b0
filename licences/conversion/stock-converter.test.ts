// Stock conversion end to end on the application as `serve` builds it (PGlite, in-process bus, the demo CA and
// departments): a generated CSV of 2,000 licences with planted bad rows, a JSON Lines file, a second run, and a run
// that fails part-way and is resumed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEnvelopeJson, verifyEnvelope, type EnvelopeJson } from '../../certs/envelope/index.js';
import { residentIdCheckCharacter } from '../../core/identifiers/index.js';
import type { Database, Queryable } from '../../core/storage/index.js';
import { composeResidentId, composeUscc } from '../../exchange/datasets/codes.js';
import { openPlatformSigner, type PlatformSigner } from '../../exchange/platform-signer.js';
import { startTestApp, type TestApp } from '../../test/support/app.js';
import { waitUntil } from '../../test/support/ca.js';
import { formatLicenceIdentifier, makeLicenceIdentifier } from '../identifier.js';
import { LICENCE_EVENTS_TOPIC } from '../licence-registry.js';
import type { LicenceDocument } from '../licence.js';
import { SqlLicenceStore } from '../sql/sql-licence-store.js';
import { LICENCE_BATCH_CONVERTED, NON_STANDARD_CHECK_FLAG, StockConverter, type ConversionProgress, type LicenceBatchConvertedEvent, type RejectedRow } from './index.js';
import { formatCsv } from '../../registry/catalogue/csv.js';

const CIVIL = '11210100001000045C'; // 沈阳市民政局 (demo department)
const MARKET = '11210100001000029N'; // 沈阳市市场监督管理局 (demo department)
const PERSON_TYPE = '11100000MB00032322901';
const ORGANISATION_TYPE = '11100000MB0002581X901';
const CRASH_TYPE = '11100000MB00032322902';

const personType = (code: string) => ({
  code,
  name: code === PERSON_TYPE ? '收养登记证（转化测试）' : '出生医学证明（转化测试）',
  definingAuthority: { code: code.slice(0, 18), name: '民政部门（演示）' },
  holderKind: 'person',
  issuers: [CIVIL, MARKET],
  validityYears: null,
  fields: [
    { code: 'registeredOn', label: '登记日期', kind: 'date', required: true },
    { code: 'children', label: '子女数', kind: 'integer', required: false },
    { code: 'remarks', label: '备注', kind: 'string', required: false, maxLength: 200 },
  ],
});

interface Planned {
  values: Record<string, string>;
  /** The error code the row must be rejected with; absent for a row to accept. */
  code?: string;
  /** A row whose licence number is accepted from another row (a duplicate): not in the accepted set. */
  flagged?: boolean;
}

function personRow(i: number, overrides: Record<string, string> = {}): Record<string, string> {
  const birth = `19${String(60 + (i % 40)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10}`;
  const area = ['210102', '210103', '210104', '210105'][i % 4]!;
  return {
    // Half the numbers are plain letters and digits (the serial), half carry Chinese (a hashed serial).
    licenceNumber: i % 2 === 0 ? `SY${String(i).padStart(8, '0')}` : `沈民收字第${String(i).padStart(6, '0')}号`,
    holderName: `持证人${i}`,
    holderCode: composeResidentId(area, birth, 100 + (i % 800)),
    issueDate: `20${String(10 + (i % 13)).padStart(2, '0')}-0${1 + (i % 9)}-2${i % 8}`,
    validFrom: '',
    validTo: '',
    issuerCode: i % 3 === 0 ? MARKET : '',
    identifier: '',
    registeredOn: `20${String(10 + (i % 13)).padStart(2, '0')}-0${1 + (i % 9)}-2${i % 8}`,
    children: i % 5 === 0 ? String(i % 4) : '',
    remarks: i % 7 === 0 ? `备注 ${i}, 含逗号` : '',
    colour: '',
    ...overrides,
  };
}

function wrongCheck(id: string): string {
  const right = residentIdCheckCharacter(id.slice(0, 17))!;
  return id.slice(0, 17) + (right === '1' ? '2' : '1');
}

/** 2,000 good rows with the bad ones planted among them (a few in the same batch, a few far apart). */
function plannedPersonRows(): Planned[] {
  const planned: Planned[] = [];
  for (let i = 0; i < 2000; i++) planned.push({ values: personRow(i) });
  const goodUscc = composeUscc('11', '210100', 'MB000077');
  const badUscc = goodUscc.slice(0, 17) + (goodUscc.endsWith('1') ? '2' : '1'); // a wrong check character
  const foreign = makeLicenceIdentifier({ typeCode: PERSON_TYPE, issuerCode: '210100', serial: 'WAIDI0001', version: 1 });
  const wrongIdCheck = foreign.check === 'A' ? 'B' : 'A';
  const plants: [number, Planned][] = [
    [10, { values: personRow(90010, { holderCode: wrongCheck(personRow(90010).holderCode!) }), code: 'ZT_ERR_LICENCE_HOLDER_INVALID' }],
    [20, { values: personRow(90020, { issuerCode: badUscc }), code: 'ZT_ERR_LICENCE_ISSUER_NOT_AUTHORISED' }],
    [30, { values: personRow(90030, { issuerCode: composeUscc('11', '210100', '00100099') }), code: 'ZT_ERR_LICENCE_ISSUER_NOT_AUTHORISED' }],
    [400, { values: personRow(90400, { issueDate: '2021-02-30' }), code: 'ZT_ERR_LICENCE_FIELDS_INVALID' }],
    [410, { values: personRow(90410, { validFrom: '2020-05-01', validTo: '2019-05-01' }), code: 'ZT_ERR_LICENCE_FIELDS_INVALID' }],
    [420, { values: personRow(90420, { colour: '红色' }), code: 'ZT_ERR_LICENCE_FIELDS_INVALID' }],
    [430, { values: personRow(90430, { children: 'two' }), code: 'ZT_ERR_LICENCE_FIELDS_INVALID' }],
    // The same number as row 2 (far back, another batch) and as row 999 (a few rows before, the same batch).
    [900, { values: personRow(90900, { licenceNumber: personRow(2).licenceNumber! }), code: 'ZT_ERR_LICENCE_NUMBER_TAKEN' }],
    [1001, { values: personRow(91001, { licenceNumber: personRow(999).licenceNumber! }), code: 'ZT_ERR_LICENCE_NUMBER_TAKEN' }],
    // Another region's identifier with a non-standard check character: accepted and flagged.
    [1200, { values: personRow(91200, { identifier: `${formatLicenceIdentifier({ ...foreign, check: wrongIdCheck })}` }), flagged: true }],
    [1210, { values: personRow(91210, { identifier: '1.2.156.3005.2.not-an-identifier' }), code: 'ZT_ERR_LICENCE_IDENTIFIER_INVALID' }],
    // A well-formed identifier of another licence type.
    [1220, { values: personRow(91220, { identifier: makeLicenceIdentifier({ typeCode: ORGANISATION_TYPE, issuerCode: CIVIL, serial: 'X1', version: 1 }).text }), code: 'ZT_ERR_LICENCE_IDENTIFIER_INVALID' }],
    [1500, { values: personRow(91500, { validTo: '2099-12-31', remarks: '跨行\n备注，"引号"' }) }],
  ];
  for (const [at, row] of plants.sort((a, b) => b[0] - a[0])) planned.splice(at, 0, row);
  return planned;
}

const COLUMNS = ['licenceNumber', 'holderName', 'holderCode', 'issueDate', 'validFrom', 'validTo', 'issuerCode', 'identifier', 'registeredOn', 'children', 'remarks', 'colour'];

/** The planned rows as CSV, with one unreadable record (a stray quote) and one of the wrong width after `unreadableAt`. */
function writeCsv(path: string, planned: Planned[], unreadableAt: number | null): { unreadableLines: number[] } {
  const body = formatCsv([COLUMNS, ...planned.map((p) => COLUMNS.map((c) => p.values[c] ?? ''))], { bom: true });
  const lines = body.split('\r\n');
  const unreadableLines: number[] = [];
  if (unreadableAt !== null) {
    // Line numbers count the multi-line record (row 1500's remarks span two lines) once per line.
    lines.splice(unreadableAt, 0, 'SY99999999,张三,"unterminated,x', 'SY99999998,李四,only,three');
    unreadableLines.push(unreadableAt + 1, unreadableAt + 2);
  }
  writeFileSync(path, lines.join('\r\n'));
  return { unreadableLines };
}

function readRejects(path: string): RejectedRow[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as RejectedRow);
}

async function storedLicences(db: Database, typeCode: string) {
  const { rows } = await db.query<{ identifier: string; licence_number: string; document: Buffer; envelope: EnvelopeJson; flags: string[]; source: string; status_index: number; issuer_code: string; list_no: number }>(
    'SELECT identifier, licence_number, document, envelope, flags, source, status_index, issuer_code, list_no FROM licences WHERE type_code = $1',
    [typeCode],
  );
  return rows;
}

/** A database whose n-th transaction (counted from now) fails, as a crash between two batches would. */
function failingOnTransaction(db: Database, n: number): Database {
  let count = 0;
  return {
    kind: db.kind,
    location: db.location,
    query: (sql, params) => db.query(sql, params),
    exec: (sql) => db.exec(sql),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) => (++count === n ? Promise.reject(new Error('simulated crash')) : db.transaction(fn)),
    withLock: (key, fn) => db.withLock(key, fn),
    ping: () => db.ping(),
    close: () => db.close(),
  };
}

describe('StockConverter', () => {
  let app: TestApp;
  let platform: PlatformSigner;
  let dir: string;
  let converter: StockConverter;
  const events: LicenceBatchConvertedEvent[] = [];

  const newConverter = (db: Database) =>
    new StockConverter({
      db,
      store: new SqlLicenceStore(app.app.ctx.db),
      registry: app.app.ctx.licences,
      departments: app.app.ctx.departments,
      signer: platform.signer,
      platformUscc: app.config.platformUscc,
      onOutboxWrite: () => app.app.ctx.relay.nudge(),
    });

  beforeAll(async () => {
    app = await startTestApp();
    const ctx = app.app.ctx;
    platform = await openPlatformSigner(ctx.ca!, app.config.platformKeyDir, app.config.platformUscc, '沈阳市政务数据共享平台');
    dir = mkdtempSync(join(tmpdir(), 'zt-convert-'));
    await ctx.licences.defineType(personType(PERSON_TYPE));
    await ctx.licences.defineType(personType(CRASH_TYPE));
    await ctx.licences.defineType({
      code: ORGANISATION_TYPE,
      name: '排污许可证（转化测试）',
      definingAuthority: { code: ORGANISATION_TYPE.slice(0, 18), name: '市场监督管理部门（演示）' },
      holderKind: 'organisation',
      issuers: [MARKET],
      validityYears: 5,
      fields: [
        { code: 'legalRepresentative', label: '法定代表人', kind: 'string', required: true, maxLength: 50 },
        { code: 'capacity', label: '日处理能力（吨）', kind: 'integer', required: false },
        { code: 'area', label: '面积', kind: 'decimal', required: false },
      ],
    });
    await (
      await ctx.bus.subscribe({
        topics: [LICENCE_EVENTS_TOPIC],
        group: 'conversion-test',
        fromBeginning: false,
        handler: async (event) => {
          if (event.headers['zt-event-type'] === LICENCE_BATCH_CONVERTED) events.push(JSON.parse(event.value.toString('utf8')) as LicenceBatchConvertedEvent);
        },
      })
    ).ready;
    converter = newConverter(ctx.db);
  });

  afterAll(async () => {
    await platform?.close();
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('converts a CSV of 2,000 licences, rejecting the bad rows with their line and reason, and a second run adds nothing', async () => {
    const ctx = app.app.ctx;
    const planned = plannedPersonRows();
    const file = join(dir, 'adoptions.csv');
    const { unreadableLines } = writeCsv(file, planned, 1700);
    // A lookup cached before the conversion must not hide the converted licence afterwards.
    const cachedHolder = planned[0]!.values.holderCode!;
    expect(await ctx.licences.byHolder(cachedHolder, '111', PERSON_TYPE)).toEqual([]);

    const progress: ConversionProgress[] = [];
    const report = await converter.convert({ typeCode: PERSON_TYPE, file, issuer: CIVIL, batchSize: 250, progressIntervalMs: 0, onProgress: (p) => progress.push(p) });

    const bad = planned.filter((p) => p.code);
    const totalRows = planned.length + unreadableLines.length;
    expect(report).toMatchObject({ outcome: 'finished', rowsDone: totalRows, accepted: planned.length - bad.length, skipped: 0, rejected: bad.length + unreadableLines.length, resumedFrom: 0 });
    expect(report.accepted + report.skipped + report.rejected).toBe(report.rowsDone);

    // The rejects file: each bad row once, with its code, line, licence number and raw text.
    const rejects = readRejects(report.rejectsFile);
    expect(rejects).toHaveLength(report.rejected);
    const byNumber = new Map(rejects.filter((r) => r.licenceNumber).map((r) => [`${r.licenceNumber}|${r.code}`, r]));
    for (const p of bad) {
      const r = byNumber.get(`${p.values.licenceNumber}|${p.code}`);
      expect(r, `${p.values.licenceNumber} rejected with ${p.code}`).toBeDefined();
      expect(r!.raw).toContain(p.values.holderName);
    }
    const unreadable = rejects.filter((r) => r.code === 'ZT_ERR_CONVERSION_INPUT');
    expect(unreadable.map((r) => r.line)).toEqual(unreadableLines.map((l) => l + 1)); // the multi-line record comes before
    expect(unreadable.map((r) => r.reason).join(' ')).toMatch(/quote.*fields, the header has 12/);
    const duplicate = rejects.find((r) => r.licenceNumber === personRow(2).licenceNumber && r.code === 'ZT_ERR_LICENCE_NUMBER_TAKEN')!;
    expect(duplicate.reason).toContain('at line 4'); // row 2 is on line 4 (header, rows 0, 1)
    expect(rejects.find((r) => r.code === 'ZT_ERR_LICENCE_HOLDER_INVALID')!.reason).toContain('resident ID number');

    // Every stored licence: converted, its envelope verifies over its document bytes, the document says what it should.
    const stored = await storedLicences(ctx.db, PERSON_TYPE);
    expect(stored).toHaveLength(report.accepted);
    const expectedNumbers = new Set(planned.filter((p) => !p.code).map((p) => p.values.licenceNumber));
    expect(new Set(stored.map((s) => s.licence_number))).toEqual(expectedNumbers);
    for (const s of stored) {
      await verifyEnvelope(decodeEnvelopeJson(s.envelope), s.document, { publicKey: platform.signer.publicKey });
      const doc = JSON.parse(s.document.toString('utf8')) as LicenceDocument;
      expect(doc.identifier).toBe(s.identifier);
      expect(doc.status.index).toBe(s.status_index);
      expect(doc.status.list).toBe(ctx.licences.statusListUrl(s.issuer_code, s.list_no));
      expect(s.source).toBe('converted');
    }
    const first = JSON.parse(stored.find((s) => s.licence_number === planned[0]!.values.licenceNumber)!.document.toString('utf8')) as LicenceDocument;
    // Row 0 names its issuer (every third row does); row 1 takes the run's default.
    expect(first).toMatchObject({ issuer: { code: MARKET, name: '沈阳市市场监督管理局' }, seal: { signer: '沈阳市市场监督管理局', name: '沈阳市市场监督管理局电子证照专用章' }, holder: { codeType: '111' }, version: 1 });
    const second = JSON.parse(stored.find((s) => s.licence_number === planned[1]!.values.licenceNumber)!.document.toString('utf8')) as LicenceDocument;
    expect(second.issuer).toEqual({ code: CIVIL, name: '沈阳市民政局' });
    expect(second.identifier.split('.')[7]).toMatch(/^[0-9a-f]{32}$/); // a number with Chinese: a hashed serial
    expect(first.identifier).toBe(makeLicenceIdentifier({ typeCode: PERSON_TYPE, issuerCode: MARKET, serial: planned[0]!.values.licenceNumber!, version: 1 }).text);
    const multiLine = JSON.parse(stored.find((s) => s.licence_number === personRow(91500).licenceNumber)!.document.toString('utf8')) as LicenceDocument;
    expect(multiLine.fields.remarks).toBe('跨行\n备注，"引号"');

    // The foreign identifier: kept as given, flagged, its area code as the status list issuer.
    const foreign = planned.find((p) => p.flagged)!.values;
    const flagged = stored.find((s) => s.licence_number === foreign.licenceNumber)!;
    expect(flagged.identifier).toBe(foreign.identifier);
    expect(flagged.flags).toEqual([NON_STANDARD_CHECK_FLAG]);
    expect(flagged.issuer_code).toBe('210100');
    expect(stored.filter((s) => s.flags.length > 0)).toHaveLength(1);
    // The registry serves it although its check character is not the standard one.
    expect((await ctx.licences.get(foreign.identifier!)).licenceNumber).toBe(foreign.licenceNumber);

    // The 'convert' transitions: one per licence, by the platform.
    const { rows: transitions } = await ctx.db.query<{ n: string; actors: string[] }>(
      "SELECT count(*) AS n, array_agg(DISTINCT t.actor_uscc) AS actors FROM licence_transitions t JOIN licences l USING (identifier) WHERE l.type_code = $1 AND t.kind = 'convert' AND t.to_status = 'active'",
      [PERSON_TYPE],
    );
    expect(Number(transitions[0]!.n)).toBe(report.accepted);
    expect(transitions[0]!.actors).toEqual([app.config.platformUscc]);

    // One event per batch, listing every converted licence.
    await waitUntil(() => events.filter((e) => e.typeCode === PERSON_TYPE).reduce((n, e) => n + e.licences.length, 0) === report.accepted, 10_000, 'the batch events');
    const personEvents = events.filter((e) => e.typeCode === PERSON_TYPE);
    expect(personEvents.length).toBe(Math.ceil(report.rowsDone / 250));
    expect(personEvents[0]!.licences[0]).toMatchObject({ holderCodeType: '111', licenceNumber: expect.any(String), holderCode: expect.any(String) });

    // This instance's lookups see the new licences at once.
    expect((await ctx.licences.byHolder(cachedHolder, '111', PERSON_TYPE)).map((l) => l.licenceNumber)).toEqual([planned[0]!.values.licenceNumber]);

    // Progress came as batches committed, ending with the whole file.
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.at(-1)).toMatchObject({ done: true, rowsDone: totalRows, accepted: report.accepted });
    expect(progress.every((p, i) => i === 0 || p.rowsDone >= progress[i - 1]!.rowsDone)).toBe(true);
    expect(progress[0]!.estimatedRows).toBeGreaterThanOrEqual(totalRows);

    // The same file again: the run is known to be finished, nothing is added.
    const again = await converter.convert({ typeCode: PERSON_TYPE, file, issuer: CIVIL });
    expect(again).toMatchObject({ outcome: 'already-done', conversionId: report.conversionId, accepted: report.accepted, rowsDone: totalRows });
    expect(await storedLicences(ctx.db, PERSON_TYPE)).toHaveLength(report.accepted);

    // Another file with the same licences (reordered) and one new row: only the new one is added, the others skipped.
    const another = join(dir, 'adoptions-again.csv');
    const good = planned.filter((p) => !p.code).reverse();
    writeCsv(another, [...good, { values: personRow(5000) }], null);
    const rerun = await converter.convert({ typeCode: PERSON_TYPE, file: another, issuer: CIVIL });
    expect(rerun).toMatchObject({ outcome: 'finished', accepted: 1, skipped: good.length, rejected: 0 });
    expect(await storedLicences(ctx.db, PERSON_TYPE)).toHaveLength(report.accepted + 1);
  });

  it('converts JSON Lines, with fields at the top level or under fields', async () => {
    const ctx = app.app.ctx;
    const file = join(dir, 'permits.jsonl');
    const lines: string[] = [];
    const good: string[] = [];
    for (let i = 0; i < 120; i++) {
      const uscc = composeUscc('91', '210100', `MA${String(i).padStart(6, '0')}`);
      const number = `PW2101${String(i).padStart(6, '0')}`;
      const fields = { legalRepresentative: `负责人${i}`, capacity: i * 10, area: i % 2 === 0 ? '1200.50' : 880.25 };
      const row = i % 2 === 0 ? { licenceNumber: number, holderName: `企业${i}`, holderCode: uscc, issueDate: '2021-06-01', fields } : { licenceNumber: number, holderName: `企业${i}`, holderCode: uscc.toLowerCase(), issueDate: '2021-06-01', ...fields };
      lines.push(JSON.stringify(row));
      good.push(number);
      if (i === 50) lines.push('');
    }
    const badUscc = composeUscc('91', '210100', 'MA000099').slice(0, 17) + 'Z';
    lines.push(JSON.stringify({ licenceNumber: 'PW-BAD-1', holderName: '坏代码公司', holderCode: badUscc, issueDate: '2021-06-01', fields: { legalRepresentative: '某' } }));
    lines.push('{"licenceNumber": "PW-BAD-2", "holderName": ');
    lines.push('["not", "an", "object"]');
    lines.push(JSON.stringify({ licenceNumber: 'PW-BAD-3', holderName: '字段两处', holderCode: composeUscc('91', '210100', 'MB000003'), issueDate: '2021-06-01', legalRepresentative: 'A', fields: { legalRepresentative: 'B' } }));
    lines.push(JSON.stringify({ licenceNumber: 'PW-BAD-4', holderName: '缺字段', holderCode: composeUscc('91', '210100', 'MB000004'), issueDate: '2021-06-01' }));
    writeFileSync(file, `${lines.join('\n')}\n`);

    const report = await converter.convert({ typeCode: ORGANISATION_TYPE, file, rejectsFile: join(dir, 'permits.rejects'), batchSize: 50 });
    expect(report).toMatchObject({ outcome: 'finished', accepted: 120, rejected: 5, skipped: 0, rowsDone: 125 });
    const rejects = readRejects(join(dir, 'permits.rejects'));
    expect(rejects.map((r) => [r.licenceNumber ?? null, r.code])).toEqual([
      ['PW-BAD-1', 'ZT_ERR_LICENCE_HOLDER_INVALID'],
      [null, 'ZT_ERR_CONVERSION_INPUT'],
      [null, 'ZT_ERR_CONVERSION_INPUT'],
      ['PW-BAD-3', 'ZT_ERR_LICENCE_FIELDS_INVALID'],
      ['PW-BAD-4', 'ZT_ERR_LICENCE_FIELDS_INVALID'],
    ]);
    expect(rejects[1]!.line).toBe(123); // 120 rows, a blank line, the bad USCC row
    const stored = await storedLicences(ctx.db, ORGANISATION_TYPE);
    expect(new Set(stored.map((s) => s.licence_number))).toEqual(new Set(good));
    const doc = JSON.parse(stored.find((s) => s.licence_number === good[1])!.document.toString('utf8')) as LicenceDocument;
    // Upper-cased holder code, converted field values, the type's default validity (5 years), the only issuer.
    expect(doc).toMatchObject({ holder: { codeType: '001', code: composeUscc('91', '210100', 'MA000001') }, fields: { capacity: 10, area: '880.25' }, validFrom: '2021-06-01', validTo: '2026-05-31', issuer: { code: MARKET } });
  });

  it('resumes after a failure part-way and ends with exactly the licences of one uninterrupted run', async () => {
    const ctx = app.app.ctx;
    const file = join(dir, 'crash.csv');
    const planned: Planned[] = [];
    for (let i = 0; i < 1000; i++) planned.push({ values: personRow(20000 + i) });
    // Bad rows in the batch that fails (rows 300-399) and after it; a duplicate of a row committed before the failure.
    planned.splice(350, 0, { values: personRow(29350, { holderCode: wrongCheck(personRow(29350).holderCode!) }), code: 'ZT_ERR_LICENCE_HOLDER_INVALID' });
    planned.splice(360, 0, { values: personRow(29360, { licenceNumber: personRow(20010).licenceNumber! }), code: 'ZT_ERR_LICENCE_NUMBER_TAKEN' });
    planned.splice(700, 0, { values: personRow(29700, { issueDate: '2099-01-01' }), code: 'ZT_ERR_LICENCE_FIELDS_INVALID' });
    writeCsv(file, planned, null);

    // Batches of 100: the 4th commit fails after its rejects were written, with the 5th batch already being signed.
    const failing = newConverter(failingOnTransaction(ctx.db, 4));
    await expect(failing.convert({ typeCode: CRASH_TYPE, file, batchSize: 100, issuer: MARKET })).rejects.toThrow('simulated crash');
    const { rows } = await ctx.db.query<{ rows_done: string; accepted: string; finished_at: Date | null }>('SELECT rows_done, accepted, finished_at FROM licence_conversions WHERE type_code = $1', [CRASH_TYPE]);
    expect(rows).toHaveLength(1);
    expect([Number(rows[0]!.rows_done), Number(rows[0]!.accepted), rows[0]!.finished_at]).toEqual([300, 300, null]);
    expect(await storedLicences(ctx.db, CRASH_TYPE)).toHaveLength(300);
    expect(readRejects(`${file}.rejects.jsonl`).map((r) => r.row)).toEqual([351, 361]); // written before the failed commit

    // A second failure, from the hook, after one more batch.
    await expect(
      newConverter(ctx.db).convert({
        typeCode: CRASH_TYPE,
        file,
        batchSize: 100,
        issuer: MARKET,
        afterBatch: () => {
          throw new Error('stopped after one batch');
        },
      }),
    ).rejects.toThrow('stopped after one batch');

    const report = await converter.convert({ typeCode: CRASH_TYPE, file, batchSize: 100, issuer: MARKET });
    expect(report).toMatchObject({ outcome: 'finished', resumedFrom: 400, rowsDone: 1003, accepted: 1000, skipped: 0, rejected: 3 });
    const stored = await storedLicences(ctx.db, CRASH_TYPE);
    expect(stored).toHaveLength(1000);
    expect(new Set(stored.map((s) => s.licence_number))).toEqual(new Set(planned.filter((p) => !p.code).map((p) => p.values.licenceNumber)));
    const rejects = readRejects(report.rejectsFile);
    expect(rejects.map((r) => [r.row, r.code])).toEqual([
      [351, 'ZT_ERR_LICENCE_HOLDER_INVALID'],
      [361, 'ZT_ERR_LICENCE_NUMBER_TAKEN'],
      [701, 'ZT_ERR_LICENCE_FIELDS_INVALID'],
    ]);
    const { rows: transitions } = await ctx.db.query<{ n: string }>(
      "SELECT count(*) AS n FROM licence_transitions t JOIN licences l USING (identifier) WHERE l.type_code = $1 AND t.kind = 'convert'",
      [CRASH_TYPE],
    );
    expect(Number(transitions[0]!.n)).toBe(1000);
    // Status indexes burned by the failed batch are never reused: every (issuer, list, index) is distinct.
    expect(new Set(stored.map((s) => `${s.issuer_code}|${s.list_no}|${s.status_index}`)).size).toBe(1000);
  });

  it('stops after the batch in hand when aborted, and the next run finishes', async () => {
    const file = join(dir, 'abort.csv');
    const planned: Planned[] = [];
    for (let i = 0; i < 300; i++) planned.push({ values: personRow(40000 + i, { licenceNumber: `AB${40000 + i}` }) });
    writeCsv(file, planned, null);
    const controller = new AbortController();
    const first = await converter.convert({ typeCode: CRASH_TYPE, file, issuer: CIVIL, batchSize: 50, signal: controller.signal, afterBatch: () => controller.abort() });
    // Aborted as the first batch committed; the batches already checked and signed are committed too, no more.
    expect(first.outcome).toBe('interrupted');
    expect(first.rowsDone % 50).toBe(0);
    expect(first.rowsDone).toBeGreaterThanOrEqual(100);
    expect(first.rowsDone).toBeLessThan(300);
    expect(first.accepted).toBe(first.rowsDone);
    const second = await converter.convert({ typeCode: CRASH_TYPE, file, issuer: CIVIL, batchSize: 50 });
    expect(second).toMatchObject({ outcome: 'finished', resumedFrom: first.rowsDone, rowsDone: 300, accepted: 300 });
  });

  it('refuses a file without the required columns before recording a run', async () => {
    const file = join(dir, 'no-holder.csv');
    writeFileSync(file, 'licenceNumber,holderName,issueDate\nA1,张三,2020-01-01\n');
    await expect(converter.convert({ typeCode: PERSON_TYPE, file })).rejects.toMatchObject({ code: 'ZT_ERR_CONVERSION_INPUT', message: expect.stringContaining('holderCode') });
    const { rows } = await app.app.ctx.db.query('SELECT 1 FROM licence_conversions WHERE source_name = $1', ['no-holder.csv']);
    expect(rows).toHaveLength(0);
    await expect(converter.convert({ typeCode: PERSON_TYPE, file: join(dir, 'missing.csv') })).rejects.toMatchObject({ code: 'ZT_ERR_CONVERSION_INPUT' });
    await expect(converter.convert({ typeCode: PERSON_TYPE, file: join(dir, 'x.xlsx') })).rejects.toMatchObject({ code: 'ZT_ERR_CONVERSION_INPUT' });
  });
});
