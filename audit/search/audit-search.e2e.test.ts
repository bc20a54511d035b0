// The access-log search end to end, over HTTP and gRPC, with real signed requests from the demo departments' keys:
// who may search, every filter, paging, refused parameters (injection strings, huge values, huge ranges), export
// in both forms and its bound, trace to the kept negative-list revision and the grant, the subject's view hiding a
// covert case until its release date (the app's business clock is injected), and the record of every query. On the
// embedded database, and on PostgreSQL when ZT_TEST_DATABASE_URL is set.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { loadConfig, type Config } from '../../core/config/index.js';
import { errorCatalogue, type ErrorCode } from '../../core/errors/index.js';
import { createLogger } from '../../core/logging/index.js';
import { buildApp, type App } from '../../gateway/app.js';
import { demoKeyFiles } from '../../demo/index.js';
import { AuditClient, DepartmentKey, ExchangeError, signHttpRequest } from '../../client/index.js';
import { describeWithService, postgresUrl, uniqueName } from '../../test/support/services.js';
import { CSV_COLUMNS } from './export-format.js';
import { runAuditSearchCommand } from '../../cli/audit-search.js';

const SUPERVISOR = '11210100001000096L'; // 政务服务和数据管理局 (ZT_AUDIT_SUPERVISORS default)
const PORTAL = '11210100001000109A'; // 政务服务中心 (ZT_AUDIT_PORTALS default)
const GA = '11210100001000010R'; // 市公安局
const MARKET = '11210100001000029N'; // 市场监管局: not a supervisor
const YS = '112101000010000537'; // 营商局
const RS = '11210100001000037H';
const REQUESTERS = [GA, MARKET, RS, YS];
const RESOURCES = ['210100-GA-0001', '210100-SC-0001', '210100-RS-0001', '210100-MZ-0001', 'e-licence:11100000MB0002581X001'];
const SUBJECTS = ['11010519491231002X', '210102199003070011', '210103198512120023', '9144030071526726XG'];
const COVERT_SUBJECT = '210104200001010013';
const T0 = Date.parse('2026-11-02T00:00:00+08:00');
const HALF_HOUR = 1800_000;
const N = 240;
const PROTOCOLS = ['http', 'grpc'] as const;
const INJECTIONS = ["' OR 1=1 --", '%', '_', '"; DROP TABLE access_record; --', '\\', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 张三'];

function residentId(first17: string): string {
  const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let s = 0;
  for (let i = 0; i < 17; i++) s += Number(first17[i]) * W[i]!;
  return first17 + '10X98765432'[s % 11]!;
}

interface Planted {
  id: string;
  at: Date;
  requester: string;
  operator: string;
  subject: string;
  resource: string;
  decision: 'permit' | 'deny' | 'error';
  caseNumber: string;
  serviceItem: string;
}

const hex = (n: number) => n.toString(16).padStart(12, '0');
const uuid = (n: number, prefix = '0190') => `${prefix}0000-0000-7000-8000-${hex(n)}`;

function plantedRecords(revision: string): Planted[] {
  const out: Planted[] = [];
  for (let i = 0; i < N; i++) {
    const decision = i % 10 === 9 ? 'deny' : i % 10 === 8 ? 'error' : 'permit';
    out.push({
      id: uuid(i),
      at: new Date(T0 + i * HALF_HOUR),
      requester: REQUESTERS[i % 4]!,
      operator: i === 7 ? "' OR 1=1 --" : i === 11 ? '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 张三' : i === 13 ? '%' : i === 16 ? '=cmd|"/c calc"!A1, x' : `经办人${i % 6}`,
      subject: SUBJECTS[Math.floor(i / 4) % 4]!,
      resource: RESOURCES[i % 5]!,
      decision,
      caseNumber: `CASE-${Math.floor(i / 3)}`,
      serviceItem: i % 2 === 0 ? 'QYKB-210100-0009' : 'JYCY-210100-0003',
    });
  }
  void revision;
  return out;
}

async function insert(app: App, records: readonly Planted[], revision: string, ruleIds: string[] = []): Promise<void> {
  const digest = Buffer.alloc(32, 7);
  for (const r of records) {
    await app.ctx.db.query(
      `INSERT INTO access_record (id, at, requester, operator, subject_kind, subject_code, resource, items_requested, items_returned, service_item,
         case_number, decision, rule_ids, policy_revision, error_code, latency_ms, request_digest, response_digest, certificate_sm3, instance, protocol)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, 'test', 'http')`,
      [
        r.id,
        r.at,
        r.requester,
        r.operator,
        r.subject.length === 18 && /^\d{17}[\dX]$/.test(r.subject) ? 'person' : 'organisation',
        // Records hold the blind index of the subject, as the access log writes them.
        app.ctx.pseudonyms.of(r.subject),
        r.resource,
        ['name', 'idNumber'],
        r.decision === 'permit' ? ['name'] : [],
        r.serviceItem,
        r.caseNumber,
        r.decision,
        ruleIds,
        r.resource.startsWith('e-licence') ? 'licence-registry' : revision,
        r.decision === 'deny' ? 'ZT_ERR_ACCESS_DENIED' : r.decision === 'error' ? 'ZT_ERR_INTERNAL' : null,
        3.5,
        digest,
        digest,
        digest,
      ],
    );
  }
}

async function refusal(promise: Promise<unknown>): Promise<ExchangeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ExchangeError) return error;
    throw error;
  }
  throw new Error('expected a refusal, but the call was answered');
}

async function expectRefused(protocol: 'http' | 'grpc', promise: Promise<unknown>, code: ErrorCode): Promise<ExchangeError> {
  const error = await refusal(promise);
  expect(error.code, error.message).toBe(code);
  if (protocol === 'http') expect(error.httpStatus).toBe(errorCatalogue[code].http);
  else expect(error.grpcStatus).toBe(errorCatalogue[code].grpc);
  return error;
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}

function suite(title: string, overrides: () => Partial<Config>): void {
  describe(title, () => {
    let app: App;
    let config: Config;
    let httpUrl: string;
    let grpcAddress: string;
    let dataDir: string;
    let revision: string;
    let now = Date.now();
    const clients: AuditClient[] = [];
    const planted: Planted[] = plantedRecords('');

    const client = (uscc: string, protocol: 'http' | 'grpc'): AuditClient => {
      const files = demoKeyFiles(config.dataDir, uscc);
      const c = new AuditClient({ httpUrl, grpcAddress, protocol, signer: DepartmentKey.fromFiles(files.key, files.certificate) });
      clients.push(c);
      return c;
    };

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'zt-audit-search-'));
      config = loadConfig({
        env: {},
        overrides: { httpPort: 0, grpcPort: 0, dataDir, logLevel: 'silent', shutdownTimeoutMs: 5000, auditExportMaxRows: 200, ...overrides() },
      });
      app = await buildApp(config, { logger: createLogger({ level: 'silent', instanceId: 'test' }), seedDemo: true, clock: () => now });
      ({ httpUrl, grpcAddress } = await app.listen());
      revision = app.ctx.policy.current!.engine.revision;
      await insert(app, planted, revision, ['NL-0001']);
    }, 120_000);

    afterAll(async () => {
      for (const c of clients) await c.close();
      await app?.close();
      const schema = config?.databaseSchema;
      if (schema && config.databaseUrl) {
        const admin = new pg.Client({ connectionString: config.databaseUrl });
        await admin.connect();
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await admin.end();
      }
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('keeps the negative-list revision in force, with each rule\'s title, effect and legal basis', async () => {
      const { rows } = await app.ctx.db.query<{ revision: string; rules: { id: string; legalBasis: unknown[] }[] }>('SELECT revision, rules FROM policy_revisions');
      expect(rows.map((r) => r.revision)).toContain(revision);
      const rules = rows.find((r) => r.revision === revision)!.rules;
      expect(rules.find((r) => r.id === 'NL-0001')?.legalBasis.length).toBeGreaterThan(0);
      expect(rules.map((r) => r.id)).toContain('builtin:state-secret');
      // Loading the same set again does not add a row.
      await app.ctx.auditSearch.revisions.record(app.ctx.policy.current!.engine, 'again');
      const again = await app.ctx.db.query('SELECT 1 FROM policy_revisions WHERE revision = $1', [revision]);
      expect(again.rowCount).toBe(1);
    });

    for (const protocol of PROTOCOLS) {
      describe(`over ${protocol}`, () => {
        const range = { from: '2026-11-01', to: '2026-11-15' };

        it('answers a supervisor, newest first, and pages through every record exactly once', async () => {
          const sup = client(SUPERVISOR, protocol);
          const seen: string[] = [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = await sup.search({ ...range, limit: 50, ...(cursor ? { cursor } : {}) });
            seen.push(...page.records.map((r) => r.id));
            cursor = page.next ?? undefined;
            pages++;
          } while (cursor);
          expect(pages).toBe(5);
          expect(seen).toEqual([...planted].sort((a, b) => b.at.getTime() - a.at.getTime()).map((r) => r.id));
          const first = (await sup.search({ ...range, limit: 1 })).records[0]!;
          expect(first).toMatchObject({ id: uuid(N - 1), requester: YS, requesterName: '沈阳市营商环境建设局', decision: 'deny', errorCode: 'ZT_ERR_ACCESS_DENIED' });
        });

        it('filters by department, operator, subject, resource, decision, case number, service item, record and time', async () => {
          const sup = client(SUPERVISOR, protocol);
          const check = async (filters: Parameters<AuditClient['search']>[0], expected: (r: Planted) => boolean) => {
            const got: string[] = [];
            for await (const records of sup.searchAll({ ...filters, limit: 500 })) got.push(...records.map((r) => r.id));
            const want = planted.filter(expected).sort((a, b) => b.at.getTime() - a.at.getTime()).map((r) => r.id);
            expect(want.length, JSON.stringify(filters)).toBeGreaterThan(0);
            expect(got, JSON.stringify(filters)).toEqual(want);
          };
          await check({ ...range, department: GA }, (r) => r.requester === GA);
          await check({ ...range, operator: '经办人3' }, (r) => r.operator === '经办人3');
          await check({ subject: SUBJECTS[1]! }, (r) => r.subject === SUBJECTS[1]);
          await check({ ...range, resource: '210100-SC-0001' }, (r) => r.resource === '210100-SC-0001');
          await check({ ...range, decision: 'deny' }, (r) => r.decision === 'deny');
          await check({ ...range, decision: 'error', department: RS }, (r) => r.decision === 'error' && r.requester === RS);
          await check({ caseNumber: 'CASE-10' }, (r) => r.caseNumber === 'CASE-10');
          await check({ ...range, serviceItem: 'JYCY-210100-0003' }, (r) => r.serviceItem === 'JYCY-210100-0003');
          await check({ record: uuid(42) }, (r) => r.id === uuid(42));
          const from = new Date(T0 + 10 * HALF_HOUR);
          const to = new Date(T0 + 20 * HALF_HOUR);
          await check({ from, to }, (r) => r.at >= from && r.at < to);
          await check({ from: '2026-11-03', to: '2026-11-04', department: MARKET }, (r) => r.requester === MARKET && r.at.getTime() >= Date.parse('2026-11-03T00:00:00+08:00') && r.at.getTime() < Date.parse('2026-11-04T00:00:00+08:00'));
        });

        it('takes injection strings as plain values: they match only a record holding exactly that text', async () => {
          const sup = client(SUPERVISOR, protocol);
          for (const text of INJECTIONS) {
            const page = await sup.search({ ...range, operator: text, limit: 500 });
            expect(page.records.map((r) => r.id), text).toEqual(planted.filter((r) => r.operator === text).map((r) => r.id));
          }
          expect((await sup.search({ ...range, operator: "' OR 1=1 --" })).records).toHaveLength(1);
          expect((await sup.search({ caseNumber: "CASE-1' OR '1'='1" })).records).toHaveLength(0);
        });

        it('refuses malformed, over-long, unbounded and out-of-range parameters, naming each', async () => {
          const sup = client(SUPERVISOR, protocol);
          const bad: [Parameters<AuditClient['search']>[0], string][] = [
            [{ ...range, department: "' OR 1=1 --" }, 'department'],
            [{ ...range, department: '11210100001000010X' }, 'department'],
            [{ subject: '110105194912310021' }, 'subject'],
            [{ subject: '%' }, 'subject'],
            [{ ...range, resource: "210100-GA-0001' --" }, 'resource'],
            [{ ...range, decision: 'maybe' as 'deny' }, 'decision'],
            // Over HTTP a URL beyond Node's 16 KB header limit never reaches the route; 5,000 characters do.
            [{ ...range, operator: 'x'.repeat(protocol === 'http' ? 5_000 : 100_000) }, 'operator'],
            [{ caseNumber: 'y'.repeat(129) }, 'caseNumber'],
            [{ ...range, operator: 'a\u0000b' }, 'operator'],
            [{ department: GA }, 'from'],
            [{ from: '2026-01-01', department: GA }, 'to'],
            [{ from: '2020-01-01', to: '2026-11-30', department: GA }, 'to'],
            [{ from: '2026-11-30', to: '2026-11-01' }, 'to'],
            [{ from: 'yesterday', to: '2026-11-30' }, 'from'],
            [{ from: '2026-02-30', to: '2026-11-30' }, 'from'],
            [{ record: 'not-a-uuid' }, 'record'],
            [{ ...range, limit: 501 }, 'limit'],
            [{ ...range, cursor: 'AAAA' }, 'cursor'],
          ];
          for (const [filters, parameter] of bad) {
            const error = await refusal(sup.search(filters));
            expect(error.code, `${JSON.stringify(filters).slice(0, 100)}: ${error.message}`).toBe('ZT_ERR_AUDIT_QUERY_INVALID');
            expect(protocol === 'http' ? error.httpStatus : error.grpcStatus).toBe(protocol === 'http' ? 400 : 3);
            expect((error.details as { parameter: string }).parameter, JSON.stringify(filters).slice(0, 80)).toBe(parameter);
          }
          // A cursor is good only for the filters it was made with.
          const page = await sup.search({ ...range, limit: 10 });
          const error = await expectRefused(protocol, sup.search({ ...range, department: GA, cursor: page.next! }), 'ZT_ERR_AUDIT_QUERY_INVALID');
          expect((error.details as { parameter: string }).parameter).toBe('cursor');
        });

        it('refuses a department that is not a supervisor, and a portal outside the subject view', async () => {
          await expectRefused(protocol, client(MARKET, protocol).search(range), 'ZT_ERR_AUDIT_FORBIDDEN');
          await expectRefused(protocol, client(PORTAL, protocol).search(range), 'ZT_ERR_AUDIT_FORBIDDEN');
          await expectRefused(protocol, client(PORTAL, protocol).trace(uuid(1)), 'ZT_ERR_AUDIT_FORBIDDEN');
          await expectRefused(protocol, collect(client(MARKET, protocol).export(range)), 'ZT_ERR_AUDIT_FORBIDDEN');
          await expectRefused(protocol, client(MARKET, protocol).subjectAccesses(SUBJECTS[0]!), 'ZT_ERR_AUDIT_FORBIDDEN');
        });

        it('exports CSV with a header row and JSON Lines, the same records, and refuses an export over the bound', async () => {
          const sup = client(SUPERVISOR, protocol);
          const csv = await collect(sup.export({ ...range, department: GA, format: 'csv' }));
          const lines = csv.split('\r\n').filter(Boolean);
          expect(lines[0]).toBe(CSV_COLUMNS.join(','));
          const ga = planted.filter((r) => r.requester === GA).sort((a, b) => b.at.getTime() - a.at.getTime());
          expect(lines).toHaveLength(ga.length + 1);
          expect(lines[1]).toContain(ga[0]!.id);
          // A value a spreadsheet would run as a formula is defused; quotes and commas are quoted.
          expect(csv).toContain(`,"'=cmd|""/c calc""!A1, x",`);
          expect(csv).not.toMatch(/,=cmd/);
          const jsonl = await collect(sup.export({ ...range, department: GA, format: 'jsonl' }));
          const rows = jsonl.trim().split('\n').map((l) => JSON.parse(l) as { id: string; seq: number });
          expect(rows.map((r) => r.id)).toEqual(ga.map((r) => r.id));
          // 240 records match the whole range; this app allows 200 per export.
          const tooLarge = await expectRefused(protocol, collect(sup.export({ ...range, format: 'csv' })), 'ZT_ERR_AUDIT_EXPORT_TOO_LARGE');
          expect(tooLarge.details).toMatchObject({ maxRows: 200 });
          await expectRefused(protocol, collect(sup.export({ ...range, format: 'xlsx' as 'csv' })), 'ZT_ERR_AUDIT_QUERY_INVALID');
        });

        it('traces a record to its department, the rules of the revision in force with their legal basis, and the grant', async () => {
          const sup = client(SUPERVISOR, protocol);
          const id = uuid(1000 + (protocol === 'http' ? 1 : 2), '0199');
          await insert(
            app,
            [{ id, at: new Date(), requester: YS, operator: '王五', subject: SUBJECTS[0]!, resource: '210100-GA-0001', decision: 'permit', caseNumber: 'YS-2026-000123', serviceItem: 'QYKB-210100-0009' }],
            revision,
            ['NL-0001', 'NL-GA-0001'],
          );
          const trace = (await sup.trace(id)) as Record<string, any>;
          expect(trace.record).toMatchObject({ id, requester: YS, policyRevision: revision, ruleIds: ['NL-0001', 'NL-GA-0001'] });
          expect(trace.department).toEqual({ uscc: YS, name: '沈阳市营商环境建设局' });
          expect(trace.resource).toMatchObject({ code: '210100-GA-0001', kind: 'catalogue', provider: GA });
          expect(trace.policy.source).toBe('negative-list');
          const rule = trace.policy.rules.find((r: { id: string }) => r.id === 'NL-0001');
          expect(rule).toMatchObject({ found: true, effect: 'mask', title: expect.stringContaining('公民身份号码') });
          expect(rule.legalBasis).toContainEqual({ title: '《中华人民共和国居民身份证法》', article: '第六条' });
          expect(trace.grant).toMatchObject({ serviceItem: 'QYKB-210100-0009', provider: GA });
          // A licence verification names the licence registry's own rule, explained as such.
          const licence = (await sup.trace(uuid(4))) as Record<string, any>;
          expect(licence.policy).toMatchObject({ revision: 'licence-registry', source: 'licence-registry', rules: [] });
          expect(licence.policy.explanation).toContain('licence');
          await expectRefused(protocol, sup.trace('0190dead-0000-7000-8000-000000000000'), 'ZT_ERR_AUDIT_RECORD_NOT_FOUND');
          const malformed = await expectRefused(protocol, sup.trace("1' OR '1'='1"), 'ZT_ERR_AUDIT_QUERY_INVALID');
          expect((malformed.details as { parameter: string }).parameter).toBe('id');
        });

        it('shows a subject every access to it, with department, purpose and items; refuses an invalid subject code', async () => {
          const portal = client(PORTAL, protocol);
          const view = await portal.subjectAccesses(SUBJECTS[2]!, { limit: 500 });
          const want = planted.filter((r) => r.subject === SUBJECTS[2]).sort((a, b) => b.at.getTime() - a.at.getTime());
          expect(view.accesses.map((a) => a.id)).toEqual(want.map((r) => r.id));
          const first = view.accesses[0] as Record<string, any>;
          expect(first.department.name).toBeTruthy();
          expect(first.purpose).toEqual({ serviceItem: want[0]!.serviceItem, caseNumber: want[0]!.caseNumber });
          expect(first.resource.name).toBeTruthy();
          expect(first).not.toHaveProperty('operator');
          // Two pages give the same list.
          const one = await portal.subjectAccesses(SUBJECTS[2]!, { limit: 7 });
          const two = await portal.subjectAccesses(SUBJECTS[2]!, { limit: 500, cursor: one.next! });
          expect([...one.accesses, ...two.accesses].map((a) => a.id)).toEqual(want.map((r) => r.id));
          for (const code of ['110105194912310021', "' OR 1=1 --", '9144030071526726XA', '1'.repeat(90)]) {
            const error = await expectRefused(protocol, portal.subjectAccesses(code), 'ZT_ERR_AUDIT_QUERY_INVALID');
            expect((error.details as { parameter: string }).parameter).toBe('code');
          }
        });
      });
    }

    it('hides a covert case from the subject until its release date (China time), and always shows it to supervisors, marked', async () => {
      const caseNumber = 'GA-ZC-2026-0042';
      const covert = [0, 1].map((k) => ({
        id: uuid(5000 + k, '0195'),
        at: new Date(T0 + k * HALF_HOUR),
        requester: GA,
        operator: '侦查员',
        subject: COVERT_SUBJECT,
        resource: '210100-RS-0001',
        decision: 'permit' as const,
        caseNumber,
        serviceItem: 'QYKB-210100-0009',
      }));
      const open = { ...covert[0]!, id: uuid(5010, '0195'), caseNumber: 'YS-2026-000999', requester: YS };
      await insert(app, [...covert, open], revision);
      expect(residentId(COVERT_SUBJECT.slice(0, 17))).toBe(COVERT_SUBJECT);

      // Another department may not flag the police's case; the police may flag its own.
      await expectRefused('http', client(MARKET, 'http').flagCovert({ department: GA, caseNumber, releaseOn: '2026-12-01', reason: '侦查需要' }), 'ZT_ERR_AUDIT_FORBIDDEN');
      const flag = await client(GA, 'grpc').flagCovert({ caseNumber, releaseOn: '2026-12-01', reason: '侦查需要，暂不告知' });
      expect(flag).toMatchObject({ requester: GA, caseNumber, releaseOn: '2026-12-01', flaggedBy: GA });
      await expectRefused('http', client(GA, 'http').flagCovert({ caseNumber, releaseOn: '2027-01-01', reason: 'again' }), 'ZT_ERR_AUDIT_COVERT_CASE_EXISTS');
      await expectRefused('http', client(GA, 'http').flagCovert({ caseNumber, releaseOn: '2026-02-30', reason: 'x' }), 'ZT_ERR_AUDIT_QUERY_INVALID');

      for (const protocol of PROTOCOLS) {
        const portal = client(PORTAL, protocol);
        const sup = client(SUPERVISOR, protocol);
        now = Date.parse('2026-11-30T23:59:59+08:00');
        expect((await portal.subjectAccesses(COVERT_SUBJECT)).accesses.map((a) => a.id)).toEqual([open.id]);
        const supervised = await sup.subjectAccesses(COVERT_SUBJECT);
        expect(supervised.accesses.map((a) => a.id).sort()).toEqual([...covert.map((c) => c.id), open.id].sort());
        expect(supervised.accesses.find((a) => a.id === covert[0]!.id)).toMatchObject({ covert: { releaseOn: '2026-12-01' }, operator: '侦查员' });
        const searched = await sup.search({ caseNumber });
        expect(searched.records.every((r) => r.covert?.releaseOn === '2026-12-01')).toBe(true);
        // From the release date on (00:00 China time, which is 16:00 UTC the day before) the subject sees them.
        now = Date.parse('2026-12-01T00:00:00+08:00');
        expect((await portal.subjectAccesses(COVERT_SUBJECT)).accesses.map((a) => a.id).sort()).toEqual([...covert.map((c) => c.id), open.id].sort());
      }

      // Listing and lifting are for supervisors; a lifted flag hides nothing.
      now = Date.parse('2026-11-15T12:00:00+08:00');
      await expectRefused('grpc', client(GA, 'grpc').listCovert(), 'ZT_ERR_AUDIT_FORBIDDEN');
      await expectRefused('http', client(GA, 'http').liftCovert(String(flag.id)), 'ZT_ERR_AUDIT_FORBIDDEN');
      const listed = await client(SUPERVISOR, 'grpc').listCovert({ department: GA });
      expect(listed.map((c) => c.id)).toEqual([flag.id]);
      expect((await client(PORTAL, 'http').subjectAccesses(COVERT_SUBJECT)).accesses).toHaveLength(1);
      const lifted = await client(SUPERVISOR, 'http').liftCovert(String(flag.id), '案件已公开');
      expect(lifted).toMatchObject({ liftedBy: SUPERVISOR, liftReason: '案件已公开' });
      expect((await client(PORTAL, 'http').subjectAccesses(COVERT_SUBJECT)).accesses).toHaveLength(3);
      expect(await client(SUPERVISOR, 'http').listCovert({ department: GA })).toEqual([]);
      expect((await client(SUPERVISOR, 'http').listCovert({ department: GA, all: true })).map((c) => c.id)).toEqual([flag.id]);
      await expectRefused('http', client(SUPERVISOR, 'http').liftCovert(String(flag.id)), 'ZT_ERR_AUDIT_COVERT_CASE_NOT_FOUND');
      now = Date.now();
    });

    it('refuses unsigned and tampered requests', async () => {
      const unsigned = await fetch(`${httpUrl}/v1/audit/access-records?requester=${SUPERVISOR}&from=2026-11-01&to=2026-11-30`);
      expect(unsigned.status).toBe(401);
      expect(((await unsigned.json()) as { code: string }).code).toBe('ZT_ERR_REQUEST_UNSIGNED');
      // Signed for one department's records, sent asking for another's: the signature covers the query string.
      const files = demoKeyFiles(config.dataDir, SUPERVISOR);
      const signer = DepartmentKey.fromFiles(files.key, files.certificate);
      const path = `/v1/audit/access-records?requester=${SUPERVISOR}&from=2026-11-01&to=2026-11-30&department=${GA}`;
      const signed = await signHttpRequest({ method: 'GET', path, body: Buffer.alloc(0), signer });
      const tampered = await fetch(`${httpUrl}${path.replace(GA, MARKET)}`, { headers: signed.headers });
      expect(tampered.status).toBe(401);
      expect(((await tampered.json()) as { code: string }).code).toBe('ZT_ERR_SIGNATURE_INVALID');
      const honest = await fetch(`${httpUrl}${path}`, { headers: signed.headers });
      expect(honest.status).toBe(200);
      // The same signature again is a replay.
      const replay = await fetch(`${httpUrl}${path}`, { headers: signed.headers });
      expect(((await replay.json()) as { code: string }).code).toBe('ZT_ERR_REQUEST_REPLAYED');
      // Naming a supervisor but signed by another department.
      const market = demoKeyFiles(config.dataDir, MARKET);
      const other = await signHttpRequest({ method: 'GET', path, body: Buffer.alloc(0), signer: DepartmentKey.fromFiles(market.key, market.certificate) });
      const mismatch = await fetch(`${httpUrl}${path}`, { headers: other.headers });
      expect(((await mismatch.json()) as { code: string }).code).toBe('ZT_ERR_SIGNER_MISMATCH');
      await signer.close();
    });

    it('answers the CLI: search as a table and as JSON, export to standard output, trace, refusals with their code', async () => {
      const files = demoKeyFiles(config.dataDir, SUPERVISOR);
      const run = async (command: string, ...args: string[]) => {
        let out = '';
        let err = '';
        const io = { stdout: { write: (t: string | Uint8Array) => (out += typeof t === 'string' ? t : Buffer.from(t).toString('utf8')) }, stderr: { write: (t: string) => (err += t) } };
        const status = await runAuditSearchCommand(() => config, command, ['--server', httpUrl, '--key', files.key, '--cert', files.certificate, ...args], io);
        return { status, out, err };
      };
      const table = await run('search', '--department', GA, '--from', '2026-11-01', '--to', '2026-11-15', '--limit', '3');
      expect(table.status, table.err).toBe(0);
      expect(table.out).toContain('沈阳市公安局');
      expect(table.out).toContain('--cursor');
      const asJson = await run('search', '--case-number', 'CASE-10', '--json');
      expect(JSON.parse(asJson.out).records.map((r: { id: string }) => r.id).sort()).toEqual(planted.filter((r) => r.caseNumber === 'CASE-10').map((r) => r.id).sort());
      const csv = await run('export', '--case-number', 'CASE-10', '--format', 'csv');
      expect(csv.out.split('\r\n').filter(Boolean)).toHaveLength(4);
      const trace = await run('trace', uuid(3));
      expect(trace.status, trace.err).toBe(0);
      expect(trace.out).toContain('NL-0001');
      const refused = await run('search', '--department', 'nonsense', '--from', '2026-11-01', '--to', '2026-11-15');
      expect(refused.status).toBe(1);
      expect(refused.err).toContain('[ZT_ERR_AUDIT_QUERY_INVALID]');
      expect((await run('trace')).status).toBe(2);
    });

    it('records every query by a supervisor or portal, with its filters and the rows returned', async () => {
      const sup = client(SUPERVISOR, 'http');
      const before = await app.ctx.db.query<{ n: string }>('SELECT count(*) AS n FROM audit_queries');
      await sup.search({ from: '2026-11-01', to: '2026-11-30', department: RS, limit: 5 });
      const { rows } = await app.ctx.db.query<{ requester: string; role: string; kind: string; filters: Record<string, string>; rows: string; error_code: string | null }>(
        'SELECT requester, role, kind, filters, rows, error_code FROM audit_queries ORDER BY seq DESC LIMIT 1',
      );
      expect(Number((await app.ctx.db.query<{ n: string }>('SELECT count(*) AS n FROM audit_queries')).rows[0]!.n)).toBe(Number(before.rows[0]!.n) + 1);
      expect(rows[0]).toMatchObject({ requester: SUPERVISOR, role: 'supervisor', kind: 'search', error_code: null });
      expect(rows[0]!.filters).toMatchObject({ department: RS });
      expect(Number(rows[0]!.rows)).toBe(5);
      const kinds = await app.ctx.db.query<{ kind: string; role: string }>('SELECT DISTINCT kind, role FROM audit_queries');
      expect(kinds.rows).toEqual(expect.arrayContaining([
        { kind: 'export', role: 'supervisor' },
        { kind: 'trace', role: 'supervisor' },
        { kind: 'subject', role: 'portal' },
        { kind: 'covert-flag', role: 'department' },
      ]));
      const refused = await app.ctx.db.query('SELECT 1 FROM audit_queries WHERE error_code = $1', ['ZT_ERR_AUDIT_QUERY_INVALID']);
      expect(refused.rowCount).toBeGreaterThan(0);
      // A department that is not a supervisor is refused, and its attempt is recorded with what it asked for.
      await expect(client(RS, 'http').search({ from: '2026-11-01', to: '2026-11-30', subject: '11010519491231002X' })).rejects.toMatchObject({ code: 'ZT_ERR_AUDIT_FORBIDDEN' });
      const forbidden = await app.ctx.db.query<{ requester: string; role: string; filters: { path: string; needed: string }; protocol: string }>(
        `SELECT requester, role, filters, protocol FROM audit_queries WHERE kind = 'forbidden' ORDER BY seq DESC LIMIT 1`,
      );
      expect(forbidden.rows[0]).toMatchObject({ requester: RS, role: 'none', protocol: 'http', filters: { needed: 'supervisor' } });
      // The subject it asked for is kept by its blind index, not in clear.
      expect(forbidden.rows[0]!.filters.path).toContain(`subject=${app.ctx.pseudonyms.of('11010519491231002X')}`);
      const { rows: all } = await app.ctx.db.query<{ filters: unknown }>('SELECT filters FROM audit_queries');
      for (const code of SUBJECTS) expect(JSON.stringify(all)).not.toContain(code);
      // The record of queries cannot be rewritten.
      await expect(app.ctx.db.query('DELETE FROM audit_queries')).rejects.toThrow(/append-only/);
    });
  });
}

suite('access-log search (embedded PGlite)', () => ({}));
describeWithService('postgres', 'access-log search (PostgreSQL)', () => {
  suite('on PostgreSQL', () => ({ databaseUrl: postgresUrl!, databaseSchema: uniqueName('zt_audit_search') }));
});
