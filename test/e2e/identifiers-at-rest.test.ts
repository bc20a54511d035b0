// Issue 15: outside the source records, a person's resident ID number is stored only as its blind index. On
// PostgreSQL, one person is read every way the platform reads people (an exchange query, a licence lookup and a
// licence verification by a department, an application intake prefill), through buildApp and the real HTTP routes,
// signed as departments sign; the person's citizen view shows the reads; then every table of the database but the
// source records, the access-record events on the bus (keys and values: Kafka when ZT_TEST_KAFKA_BROKERS is set, the
// in-process bus otherwise), the metrics and the captured server log are searched for the ID number in clear: zero
// hits.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ACCESS_RECORD_TOPIC } from '../../audit/index.js';
import { AuditClient, DepartmentKey, ExchangeClient, IntakeClient, LicenceClient } from '../../client/index.js';
import { loadConfig, type Config } from '../../core/config/index.js';
import type { DeliveredEvent, Subscription } from '../../core/events/index.js';
import { createLogger } from '../../core/logging/index.js';
import { isBlindIndex } from '../../core/pseudonyms/index.js';
import { PgDatabase } from '../../core/storage/index.js';
import { DEMO_SUBJECTS } from '../../exchange/datasets/index.js';
import { buildApp, type App } from '../../gateway/app.js';
import { demoKeyFiles } from '../../demo/index.js';
import { waitUntil } from '../support/ca.js';
import { describeWithService, kafkaBrokers, postgresUrl, uniqueName } from '../support/services.js';

const PERSON = DEMO_SUBJECTS.applicant.idNumber; // 刘志强, 210103198503120312: household, insurance, marriage, a 结婚证
const YS = '112101000010000537'; // 营商环境建设局: reads household data for the restaurant application
const MZ = '11210100001000045C'; // 民政局: takes marriage registrations, issues 结婚证
const PORTAL = '11210100001000109A'; // 政务服务中心 (一网通办): shows a citizen who read their data
const PLATFORM = '11210100001000088R';
const MARRIAGE_LICENCE = '11100000MB00032322001';
const MARRIAGE_REGISTRATION = 'HYDJ-210100-0011';

/**
 * The source records, left out of the search: they hold the person's identifiers because that is what they are.
 * Each has a reason; every other table is searched whole.
 */
const SOURCE_TABLES: Record<string, string> = {
  exchange_records: "the suppliers' data the exchange serves (its key, subject_code, is checked on its own below)",
  exchange_extracts: 'the extracts delivered by suppliers',
  licences: 'the e-licences, which name their holder',
  licence_transitions: 'the signed steps of each licence',
  licence_conversions: 'stock licences converted from paper',
  intake_cases: 'the intake case files (办件), which name their applicant',
};
/** In signed_statements only the licences' signed statements are source records; the other kinds are searched. */
const SOURCE_STATEMENTS = "kind LIKE 'licence-%'";

describeWithService('postgres', 'subject identifiers at rest (PostgreSQL)', () => {
  let app: App;
  let config: Config;
  let dataDir: string;
  let httpUrl: string;
  const schema = uniqueName('zt_at_rest');
  const lines: string[] = [];
  const events: DeliveredEvent[] = [];
  let subscription: Subscription;
  const closers: { close(): Promise<void> }[] = [];

  const keyOf = (uscc: string) => {
    const files = demoKeyFiles(config.dataDir, uscc);
    return DepartmentKey.fromFiles(files.key, files.certificate);
  };
  const trust = () => ({ root: readFileSync(`${config.caDir}/root-ca.cert.pem`), issuing: readFileSync(`${config.caDir}/issuing-ca.cert.pem`) });
  function client<T extends { close(): Promise<void> }>(made: T): T {
    closers.push(made);
    return made;
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'zt-at-rest-'));
    config = loadConfig({
      env: {},
      overrides: {
        httpPort: 0,
        grpcPort: 0,
        dataDir,
        databaseUrl: postgresUrl!,
        databaseSchema: schema,
        // Debug: the request lines (with their URLs) and the components' own lines all reach the captured log.
        logLevel: 'debug',
        shutdownTimeoutMs: 5000,
        auditSequenceMs: 0,
        auditCheckpointSeconds: 0,
        ...(kafkaBrokers.length > 0 ? { kafkaBrokers, kafkaTopicPrefix: `${uniqueName('zt_at_rest')}.` } : {}),
      },
    });
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    app = await buildApp(config, { logger: createLogger({ level: 'debug', instanceId: 'at-rest', destination }), seedDemo: true });
    ({ httpUrl } = await app.listen());
    // Every access.recorded event the outbox relay publishes, key and value, from the start of the topic.
    subscription = await app.ctx.bus.subscribe({
      topics: [ACCESS_RECORD_TOPIC],
      group: uniqueName('at-rest-capture'),
      fromBeginning: true,
      handler: async (event) => {
        events.push(event);
      },
    });
    await subscription.ready;
  }, 180_000);

  afterAll(async () => {
    for (const c of closers) await c.close().catch(() => undefined);
    await subscription?.close();
    await app?.close();
    if (postgresUrl) {
      const admin = await PgDatabase.open({ url: postgresUrl, poolSize: 2, schema: undefined });
      await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => admin.close());
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("reads one person every way, shows the reads in the person's own view, and leaves the ID number nowhere in clear", async () => {
    const caseNumber = `MZ-HYDJ-${Date.now().toString(36)}`;

    // 1. A real exchange query: 营商环境建设局 reads the person's household record for a restaurant application.
    const exchange = client(new ExchangeClient({ httpUrl, signer: keyOf(YS), trust: trust(), platformUscc: PLATFORM }));
    const answer = await exchange.query({
      resource: '210100-GA-0001',
      items: ['name', 'address'],
      subject: { kind: 'person', code: PERSON },
      purpose: { serviceItem: 'QYKB-210100-0009', caseNumber: 'YS-2026-000123' },
      operator: 'zhang.san',
    });
    expect(answer.result).toMatchObject({ decision: 'permit', items: { name: DEMO_SUBJECTS.applicant.name } });

    // 2. An intake prefill: 民政局 opens the person's marriage registration case and prefills it from household data.
    const intake = client(new IntakeClient({ httpUrl, signer: keyOf(MZ), trust: trust(), platformUscc: PLATFORM }));
    const prefill = await intake.prefill({ serviceItem: MARRIAGE_REGISTRATION, caseNumber, applicant: { kind: 'person', code: PERSON }, operator: '窗口-03' });
    expect(prefill.result.fields.find((f) => f.code === 'name')).toMatchObject({ value: DEMO_SUBJECTS.applicant.name, locked: true });

    // 3. Licence reads by a department for that case: a lookup by holder (a read of personal data, recorded) and a
    //    verification of the licence it found.
    const licences = client(new LicenceClient({ httpUrl, signer: keyOf(MZ), trust: trust(), platformUscc: PLATFORM }));
    const purpose = { serviceItem: MARRIAGE_REGISTRATION, caseNumber };
    const found = await licences.findByHolder(PERSON, '111', MARRIAGE_LICENCE, { protocol: 'http', purpose, operator: '窗口-03' });
    expect(found.map((l) => l.document.holder.code)).toEqual([PERSON]);
    const verified = await licences.verify({ identifier: found[0]!.identifier }, { protocol: 'http', purpose, operator: '窗口-03' });
    expect(verified.result).toMatchObject({ status: 'valid' });

    // 4. The person's own view, through the service portal: every one of those reads, by whom and for what.
    const portal = client(new AuditClient({ httpUrl, signer: keyOf(PORTAL) }));
    const view = await portal.subjectAccesses(PERSON, { limit: 100 });
    expect(view.subject).toBe(PERSON);
    const seen = view.accesses.map((a) => `${(a.department as { uscc: string }).uscc} ${(a.resource as { code: string }).code} ${(a.purpose as { caseNumber: string }).caseNumber}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        `${YS} 210100-GA-0001 YS-2026-000123`,
        `${MZ} 210100-GA-0001 ${caseNumber}`,
        `${MZ} e-licence:${MARRIAGE_LICENCE} ${caseNumber}`,
      ]),
    );
    // The lookup and the verification are two reads of the licence.
    expect(seen.filter((s) => s === `${MZ} e-licence:${MARRIAGE_LICENCE} ${caseNumber}`).length).toBeGreaterThanOrEqual(2);

    // Everything downstream of the reads has happened: records sequenced into the Merkle log and a checkpoint
    // signed, the outbox relayed to the bus, the analytics applied.
    const db = app.ctx.db;
    await app.ctx.auditLog.sequence();
    expect(await app.ctx.auditLog.checkpoint({ force: true })).not.toBeNull();
    const count = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]!.n);
    const records = await count('SELECT count(*) AS n FROM access_record');
    await waitUntil(async () => (await count('SELECT count(*) AS n FROM zt_outbox')) === 0 && events.length >= records, 30_000, 'the outbox relayed and the events received');
    await waitUntil(async () => (await count('SELECT count(*) AS n FROM audit_analytics_applied')) >= records, 30_000, 'the analytics applied');
    expect(await count('SELECT count(*) AS n FROM audit_log_leaves')).toBe(records);

    // The records of this person are there, under the index of the ID number.
    const candidates = app.ctx.pseudonyms.candidates(PERSON);
    const mine = await db.query<{ subject_code: string }>('SELECT subject_code FROM access_record WHERE subject_code = ANY($1::text[])', [candidates]);
    expect(mine.rows.length).toBeGreaterThanOrEqual(4);
    expect(mine.rows.every((r) => isBlindIndex(r.subject_code))).toBe(true);
    const keyed = events.filter((e) => e.key !== null && candidates.includes(e.key));
    expect(keyed.length).toBe(mine.rows.length);
    expect((await db.query('SELECT 1 FROM audit_analytics_operator_subject WHERE subject_code = ANY($1::text[])', [candidates])).rowCount).toBeGreaterThan(0);
    // The exchange's own tables are keyed by the index; their values are the supplier's data.
    const exchangeKeys = await db.query<{ n: string }>(`SELECT count(*) AS n FROM exchange_records WHERE subject_code = ANY($1::text[])`, [candidates]);
    expect(Number(exchangeKeys.rows[0]!.n)).toBeGreaterThanOrEqual(3);
    expect(await count(`SELECT count(*) AS n FROM exchange_records WHERE subject_code !~ '^p[1-9][0-9]*\\.'`)).toBe(0);

    // 5. Zero hits. Every table of the schema but the source records, all columns (the row as text, and each bytea
    //    column's bytes), for the ID number in either case.
    const { rows: columns } = await db.query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
        WHERE c.table_schema = $1 ORDER BY c.table_name, c.ordinal_position`,
      [schema],
    );
    const tables = new Map<string, string[]>();
    for (const c of columns) {
      const list = tables.get(c.table_name) ?? [];
      if (c.data_type === 'bytea') list.push(c.column_name);
      tables.set(c.table_name, list);
    }
    for (const source of Object.keys(SOURCE_TABLES)) expect(tables.has(source), `source table ${source} exists`).toBe(true);
    const hits: string[] = [];
    let searched = 0;
    for (const [table, byteaColumns] of tables) {
      if (table in SOURCE_TABLES) continue;
      const onBytes = byteaColumns.map((c) => ` OR position(convert_to($1, 'UTF8') IN x."${c}") > 0 OR position(convert_to(lower($1), 'UTF8') IN x."${c}") > 0`).join('');
      const only = table === 'signed_statements' ? ` AND NOT (x.${SOURCE_STATEMENTS})` : '';
      const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${table}" x WHERE (x::text ILIKE '%' || $1 || '%'${onBytes})${only}`, [PERSON]);
      searched++;
      if (Number(rows[0]!.n) > 0) hits.push(`${table}: ${rows[0]!.n} rows`);
    }
    expect(searched).toBeGreaterThan(30);
    expect(hits).toEqual([]);

    // …the events on the bus, keys and values…
    expect(events.length).toBeGreaterThanOrEqual(records);
    const onTheBus = events.filter((e) => `${e.key ?? ''}\n${e.value.toString('utf8')}`.toUpperCase().includes(PERSON));
    expect(onTheBus).toEqual([]);

    // …the metrics…
    const metrics = await (await fetch(`${httpUrl}/metrics`)).text();
    expect(metrics.toUpperCase()).not.toContain(PERSON);

    // …and the log, which did see the person's code (the view's URL names it) and wrote it redacted.
    const log = lines.join('');
    expect(lines.filter((l) => l.includes('"incoming request"')).length).toBeGreaterThanOrEqual(5);
    expect(log.toUpperCase()).not.toContain(PERSON);
    expect(log).toContain('/v1/audit/subjects/[id-number]/accesses');
    expect(log).toContain('/v1/licences?holderCode=[id-number]&');
  });
});
