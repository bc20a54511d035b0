import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isZtError } from '../core/errors/index.js';
import { isValidResidentId } from '../core/identifiers/index.js';
import { BlindIndex } from '../core/pseudonyms/index.js';
import { migrate, PgDatabase, PgliteDatabase, sqlState, SqlState, type Database, type QueryResult, type Queryable } from '../core/storage/index.js';
import { openMigratedDatabase, randomUscc, rejectionCode } from '../test/support/ca.js';
import { describeWithService, postgresUrl, uniqueName } from '../test/support/services.js';
import {
  ACCESS_RECORD_LIMITS,
  ACCESS_RECORD_TOPIC,
  accessRecordToJson,
  AccessLogWriter,
  newAccessRecordId,
  normaliseAccessRecord,
  type AccessLogBatchReport,
  type AccessRecordInput,
} from './index.js';

const REQUESTER = '11210100001000029N';
const PERSON = '11010519491231002X';
const pseudonyms = new BlindIndex([{ version: 1, key: randomBytes(32) }]);
const PERSON_INDEX = pseudonyms.of(PERSON);

function permitted(overrides: Partial<AccessRecordInput> = {}): AccessRecordInput {
  return {
    decision: 'permit',
    protocol: 'http',
    latencyMs: 2.25,
    requester: REQUESTER,
    operator: '张三',
    subjectKind: 'person',
    subjectCode: PERSON,
    resource: '210100-GA-0001',
    itemsRequested: ['name', 'address', 'photo'],
    itemsReturned: ['name', 'address'],
    serviceItem: '210100-SB-0001',
    caseNumber: 'BJ-2025-000001',
    ruleIds: ['GA-PHOTO-1'],
    policyRevision: '2025-08-01.1',
    requestDigest: randomBytes(32),
    responseDigest: randomBytes(32),
    certificateSm3: randomBytes(32),
    ...overrides,
  };
}

function refused(overrides: Partial<AccessRecordInput> = {}): AccessRecordInput {
  return { decision: 'deny', errorCode: 'ZT_ERR_REQUEST_INVALID', protocol: 'grpc', latencyMs: 0.4, ...overrides };
}

/** The database as the writer sees it, counting the batch statements and transactions, and able to hold them. */
class Instrumented implements Database {
  readonly kind: Database['kind'];
  readonly location: string;
  statements = 0;
  transactions = 0;
  #gate: Promise<void> | null = null;
  #open: (() => void) | null = null;

  constructor(readonly inner: Database) {
    this.kind = inner.kind;
    this.location = inner.location;
  }

  /** Holds every batch statement until release(). */
  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }

  release(): void {
    this.#open?.();
    this.#gate = null;
  }

  async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    if (sql.includes('INSERT INTO access_record')) {
      this.statements++;
      if (this.#gate) await this.#gate;
    }
    return this.inner.query<R>(sql, params);
  }
  exec(sql: string): Promise<void> {
    return this.inner.exec(sql);
  }
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.transactions++;
    return this.inner.transaction(fn);
  }
  withLock: Database['withLock'] = (key, fn) => this.inner.withLock(key, fn);
  ping(): Promise<void> {
    return this.inner.ping();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

async function count(db: Database, table: 'access_record' | 'zt_outbox'): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]!.n;
}

/** Waits until the writer has handed its current batch to the database. */
async function untilStatements(db: Instrumented, n: number): Promise<void> {
  for (let i = 0; i < 1000 && db.statements < n; i++) await nextTurn();
  expect(db.statements).toBe(n);
}

interface Harness {
  /** An empty, migrated database of its own, which may share a server (or a PGlite instance) with others. */
  open(): Promise<{ db: Database; release(): Promise<void> }>;
  /** A database that is the test's alone, to close. */
  openDedicated(): Promise<Database>;
  dispose(): Promise<void>;
}

function accessLogContract(harness: Harness): void {
  const releases: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const release of releases.splice(0)) await release();
  });
  afterAll(() => harness.dispose());

  async function setUp(options: Partial<ConstructorParameters<typeof AccessLogWriter>[1]> = {}) {
    const opened = await harness.open();
    const db = new Instrumented(opened.db);
    releases.push(opened.release);
    const batches: AccessLogBatchReport[] = [];
    let nudges = 0;
    const writer = new AccessLogWriter(db, {
      pseudonyms,
      instance: 'gw-test-1',
      onBatch: (report) => batches.push(report),
      onOutboxWrite: () => nudges++,
      ...options,
    });
    return { db, writer, batches, nudges: () => nudges };
  }

  it('commits a record and its outbox event together before write() resolves', async () => {
    const { db, writer, nudges } = await setUp();
    const input = permitted();
    const receipt = await writer.write(input);
    expect(receipt.seq).toBeGreaterThan(0);
    expect(nudges()).toBe(1);

    const { rows } = await db.query<Record<string, unknown>>('SELECT * FROM access_record WHERE id = $1', [receipt.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      seq: receipt.seq,
      at: receipt.at,
      requester: REQUESTER,
      operator: '张三',
      subject_kind: 'person',
      subject_code: PERSON_INDEX,
      resource: '210100-GA-0001',
      items_requested: ['name', 'address', 'photo'],
      items_returned: ['name', 'address'],
      service_item: '210100-SB-0001',
      case_number: 'BJ-2025-000001',
      decision: 'permit',
      rule_ids: ['GA-PHOTO-1'],
      policy_revision: '2025-08-01.1',
      error_code: null,
      latency_ms: 2.25,
      request_digest: Buffer.from(input.requestDigest as Uint8Array),
      response_digest: Buffer.from(input.responseDigest as Uint8Array),
      certificate_sm3: Buffer.from(input.certificateSm3 as Uint8Array),
      instance: 'gw-test-1',
      protocol: 'http',
    });

    const events = await db.query<{ topic: string; event_key: string; value: Buffer; headers: Record<string, string> }>(
      'SELECT topic, event_key, value, headers FROM zt_outbox',
    );
    expect(events.rows).toHaveLength(1);
    const event = events.rows[0]!;
    expect(event.topic).toBe(ACCESS_RECORD_TOPIC);
    expect(event.event_key).toBe(PERSON_INDEX);
    expect(event.headers).toEqual({ 'zt-event-type': 'access.recorded' });
    const expected = accessRecordToJson(normaliseAccessRecord({ ...input, id: receipt.id, at: receipt.at, instance: 'gw-test-1' }, { pseudonyms }));
    expect(JSON.parse(event.value.toString('utf8'))).toEqual({ type: 'access.recorded', record: expected });
    // The identifier is nowhere: not in the row, the event's key or its value.
    expect(JSON.stringify(rows[0]) + event.event_key + event.value.toString('utf8')).not.toContain(PERSON);
  });

  it('claims the nonce in the record\'s statement, and records a nonce claimed before as the refusal of a replay', async () => {
    const { db, writer } = await setUp();
    const expiresAt = new Date(Date.now() + 600_000);
    const first = permitted();
    const nonce = { key: randomBytes(32).toString('hex'), expiresAt };
    const statements = db.statements;
    const receipt = await writer.write(first, { nonce });
    expect(receipt.replayed).toBe(false);
    expect(db.statements - statements).toBe(1);
    const { rows: claimed } = await db.query<{ key: string }>('SELECT key FROM exchange_nonces WHERE key = $1', [nonce.key]);
    expect(claimed.map((r) => r.key.trim())).toEqual([nonce.key]);

    // The same nonce again, together with a fresh one and a record without any, in one batch.
    const other = { key: randomBytes(32).toString('hex'), expiresAt };
    const replay = permitted({ requestDigest: randomBytes(32) });
    const [again, fresh, plain] = await Promise.all([writer.write(replay, { nonce }), writer.write(permitted(), { nonce: other }), writer.write(refused())]);
    expect([again.replayed, fresh.replayed, plain.replayed]).toEqual([true, false, false]);

    const { rows } = await db.query<Record<string, unknown>>(
      'SELECT decision, error_code, items_requested, items_returned, response_digest, request_digest FROM access_record WHERE id = $1',
      [again.id],
    );
    expect(rows).toEqual([
      {
        decision: 'deny',
        error_code: 'ZT_ERR_REQUEST_REPLAYED',
        items_requested: ['name', 'address', 'photo'],
        items_returned: [],
        response_digest: null,
        request_digest: Buffer.from(replay.requestDigest as Uint8Array),
      },
    ]);
    // Its event says what the row says: the leaf, the bus and the analytics see one refusal.
    const { rows: events } = await db.query<{ value: Buffer }>(`SELECT value FROM zt_outbox WHERE convert_from(value, 'UTF8') LIKE '%' || $1 || '%'`, [again.id]);
    const expected = accessRecordToJson(
      normaliseAccessRecord(
        { ...replay, id: again.id, at: again.at, instance: 'gw-test-1', decision: 'deny', errorCode: 'ZT_ERR_REQUEST_REPLAYED', itemsReturned: [], responseDigest: null },
        { pseudonyms },
      ),
    );
    expect(events.map((e) => JSON.parse(e.value.toString('utf8')))).toEqual([{ type: 'access.recorded', record: expected }]);
    const { rows: permits } = await db.query<{ decision: string }>('SELECT decision FROM access_record WHERE id = $1', [fresh.id]);
    expect(permits).toEqual([{ decision: 'permit' }]);
  });

  it('keeps only the index of the malformed subject code of a refused request', async () => {
    const { db, writer } = await setUp();
    await writer.write(refused({ subjectKind: 'person', subjectCode: '11010519491231002A' }));
    const { rows } = await db.query<{ subject_code: string }>('SELECT subject_code FROM access_record');
    expect(rows).toEqual([{ subject_code: pseudonyms.of('11010519491231002A') }]);
  });

  it('records a refused request with what it had, keyed by the record id when there is no subject', async () => {
    const { db, writer } = await setUp();
    const receipt = await writer.write(refused({ requester: 'not a code', caseNumber: `x\u0000y${'z'.repeat(500)}`, itemsRequested: ['a', '"{b}"\\'] }));
    const { rows } = await db.query<Record<string, unknown>>('SELECT requester, case_number, items_requested, items_returned, decision, error_code, protocol FROM access_record');
    expect(rows).toEqual([
      {
        requester: 'not a code',
        case_number: `x\uFFFDy${'z'.repeat(ACCESS_RECORD_LIMITS.caseNumber - 3)}`,
        items_requested: ['a', '"{b}"\\'],
        items_returned: [],
        decision: 'deny',
        error_code: 'ZT_ERR_REQUEST_INVALID',
        protocol: 'grpc',
      },
    ]);
    const { rows: events } = await db.query<{ event_key: string }>('SELECT event_key FROM zt_outbox');
    expect(events).toEqual([{ event_key: receipt.id }]);
  });

  it('commits 1,000 concurrent writes in a few transactions, every record with its event', async () => {
    const { db, writer, batches } = await setUp();
    const writes: Promise<{ id: string; seq: number }>[] = [];
    // Arriving over 20 turns of the event loop, as requests do, rather than all in one.
    for (let turn = 0; turn < 20; turn++) {
      for (let i = 0; i < 50; i++) writes.push(writer.write(permitted({ subjectKind: 'organisation', subjectCode: randomUscc(), caseNumber: `C-${turn}-${i}` })));
      await nextTurn();
    }
    const receipts = await Promise.all(writes);
    expect(db.statements).toBeLessThanOrEqual(25);
    expect(db.statements).toBe(batches.length);
    expect(db.transactions).toBe(0);
    expect(batches.every((b) => b.committed && b.size <= writer.maxBatchSize)).toBe(true);
    expect(batches.reduce((n, b) => n + b.size, 0)).toBe(1000);
    expect(writer.stats()).toMatchObject({ batches: batches.length, failedBatches: 0, records: 1000 });
    expect(writer.pending).toBe(0);

    expect(await count(db, 'access_record')).toBe(1000);
    expect(await count(db, 'zt_outbox')).toBe(1000);
    expect(new Set(receipts.map((r) => r.seq)).size).toBe(1000);
    const { rows } = await db.query<{ id: string; seq: number }>('SELECT id, seq FROM access_record');
    const seqOf = new Map(rows.map((r) => [r.id, r.seq]));
    expect(receipts.every((r) => seqOf.get(r.id) === r.seq)).toBe(true);
    // The events of one batch are in the outbox in the order of its records.
    const { rows: order } = await db.query<{ seq: number }>(
      `SELECT a.seq FROM zt_outbox o JOIN access_record a ON a.id = (convert_from(o.value, 'UTF8')::jsonb #>> '{record,id}')::uuid ORDER BY o.id`,
    );
    expect(order.map((r) => r.seq)).toEqual([...seqOf.values()].sort((a, b) => a - b));
  });

  it('keeps every event of a batch whole and with its own record, whatever characters the record holds', async () => {
    const { db, writer } = await setUp();
    const expiresAt = new Date(Date.now() + 600_000);
    // Quotes, backslashes, braces, commas, the letter that stands for "no replay event", a control character the
    // events are joined by, and text beyond ASCII: each would break a naive join or array literal.
    const awkward = ['"quoted" \\ back\\slash {a,b}', 'N', 'x\u001ey', '婚姻登记 案卷 “甲”', ''];
    const writes = awkward.map((text, i) =>
      writer.write(permitted({ caseNumber: `C-${i}-${text}`, operator: text || 'op' }), i % 2 === 0 ? { nonce: { key: randomBytes(32).toString('hex'), expiresAt } } : {}),
    );
    const receipts = await Promise.all(writes);
    expect(receipts.every((r) => !r.replayed)).toBe(true);
    const { rows } = await db.query<{ value: Buffer }>('SELECT value FROM zt_outbox ORDER BY id');
    const events = rows.map((r) => JSON.parse(r.value.toString('utf8')) as { record: { id: string; caseNumber: string; operator: string } });
    expect(events.map((e) => e.record.id)).toEqual(receipts.map((r) => r.id));
    expect(events.map((e) => e.record.caseNumber)).toEqual(awkward.map((text, i) => `C-${i}-${text}`));
    expect(events.map((e) => e.record.operator)).toEqual(awkward.map((text) => text || 'op'));
  });

  it('sends a lone write at once and gathers the writes that arrive during a commit into the next batch', async () => {
    const { db, writer, batches } = await setUp();
    db.hold();
    const first = writer.write(permitted());
    await untilStatements(db, 1);
    const next = Array.from({ length: 10 }, (_, i) => writer.write(permitted({ caseNumber: `N-${i}` })));
    expect(writer.pending).toBe(11);
    db.release();
    await Promise.all([first, ...next]);
    expect(batches.map((b) => b.size)).toEqual([1, 10]);
    expect(batches[0]!.pending).toBe(10);
  });

  it('rejects every write of a failing batch with ZT_ERR_STORAGE_UNAVAILABLE and leaves nothing of it', async () => {
    const { db, writer, batches, nudges } = await setUp();
    await db.exec("ALTER TABLE access_record ADD CONSTRAINT test_poison CHECK (case_number IS DISTINCT FROM 'POISON')");
    db.hold();
    const opener = writer.write(permitted({ caseNumber: 'FIRST' }));
    await untilStatements(db, 1);
    const batch = [
      ...Array.from({ length: 5 }, (_, i) => writer.write(permitted({ caseNumber: `GOOD-${i}` }))),
      writer.write(permitted({ caseNumber: 'POISON' })),
    ];
    db.release();
    await opener;
    const outcomes = await Promise.allSettled(batch);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason;
      expect(isZtError(error) && error.code).toBe('ZT_ERR_STORAGE_UNAVAILABLE');
      expect(sqlState((error as Error).cause)).toBe(SqlState.checkViolation);
    }
    expect(await count(db, 'access_record')).toBe(1);
    expect(await count(db, 'zt_outbox')).toBe(1);
    expect(batches.map((b) => [b.size, b.committed])).toEqual([
      [1, true],
      [6, false],
    ]);
    expect(nudges()).toBe(1);
    expect(writer.stats()).toMatchObject({ batches: 2, failedBatches: 1, records: 1 });

    // The writer goes on after a failed batch.
    await writer.write(permitted({ caseNumber: 'AFTER' }));
    expect(await count(db, 'access_record')).toBe(2);
  });

  it('rejects writes with ZT_ERR_STORAGE_UNAVAILABLE when the database is gone', async () => {
    const db = await harness.openDedicated();
    const writer = new AccessLogWriter(db, { pseudonyms, instance: 'gw-test-1' });
    await writer.write(permitted());
    await db.close();
    const writes = Array.from({ length: 3 }, () => writer.write(permitted()));
    for (const w of writes) {
      const error = await w.then(
        () => null,
        (e: unknown) => e,
      );
      expect(isZtError(error) && error.code).toBe('ZT_ERR_STORAGE_UNAVAILABLE');
      expect((error as Error).cause).toBeDefined();
    }
    expect(writer.stats().failedBatches).toBe(1);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of access records', async () => {
    const { db, writer } = await setUp();
    const { id } = await writer.write(permitted());
    for (const sql of [`UPDATE access_record SET decision = 'deny', error_code = 'ZT_ERR_INTERNAL', items_returned = '{}' WHERE id = '${id}'`, `DELETE FROM access_record WHERE id = '${id}'`, 'TRUNCATE access_record']) {
      const error = await db.query(sql).then(
        () => null,
        (e: unknown) => e,
      );
      expect(sqlState(error), sql).toBe('55000');
      expect((error as Error).message).toMatch(/append-only/);
    }
    const { rows } = await db.query<{ decision: string }>('SELECT decision FROM access_record');
    expect(rows).toEqual([{ decision: 'permit' }]);
  });

  it('close() commits what was accepted and refuses what comes after', async () => {
    const { db, writer } = await setUp();
    db.hold();
    const accepted = Array.from({ length: 30 }, (_, i) => writer.write(permitted({ caseNumber: `CLOSE-${i}` })));
    await untilStatements(db, 1);
    accepted.push(writer.write(permitted({ caseNumber: 'QUEUED' })));
    const closed = writer.close();
    expect(await rejectionCode(writer.write(permitted()))).toBe('ZT_ERR_SHUTTING_DOWN');
    let done = false;
    void closed.then(() => (done = true));
    await nextTurn();
    expect(done).toBe(false);
    db.release();
    await closed;
    expect(writer.pending).toBe(0);
    const receipts = await Promise.all(accepted);
    expect(receipts).toHaveLength(31);
    expect(await count(db, 'access_record')).toBe(31);
    expect(await count(db, 'zt_outbox')).toBe(31);
    await writer.close();
  });

  it('rejects a record the gateway got wrong without writing it, and does not hold up the others', async () => {
    const { db, writer } = await setUp();
    const results = await Promise.allSettled([
      writer.write(permitted()),
      writer.write(permitted({ certificateSm3: null })),
      writer.write({ ...refused(), errorCode: 'ZT_ERR_NO_SUCH_CODE' as never }),
      writer.write(permitted()),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      expect(isZtError((r as PromiseRejectedResult).reason) && (r as PromiseRejectedResult).reason.code).toBe('ZT_ERR_INTERNAL');
    }
    expect(await count(db, 'access_record')).toBe(2);
  });

  it('writes an id once: a record reusing one is rejected alone', async () => {
    const { db, writer } = await setUp();
    const id = newAccessRecordId();
    await writer.write(permitted({ id }));
    const other = newAccessRecordId();
    const results = await Promise.allSettled([
      writer.write(permitted({ caseNumber: 'A' })),
      writer.write(permitted({ id, caseNumber: 'again' })),
      writer.write(permitted({ id: other, caseNumber: 'B' })),
      writer.write(permitted({ id: other, caseNumber: 'B twice' })),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect(await count(db, 'access_record')).toBe(3);
    expect(await count(db, 'zt_outbox')).toBe(3);
    const { rows } = await db.query<{ case_number: string }>('SELECT case_number FROM access_record WHERE id = $1', [other]);
    expect(rows).toEqual([{ case_number: 'B' }]);
  });

  it('refuses writes beyond maxPending instead of queueing without bound', async () => {
    const { db, writer } = await setUp({ maxPending: 3 });
    db.hold();
    const inFlight = writer.write(permitted());
    await untilStatements(db, 1);
    const queued = [writer.write(permitted()), writer.write(permitted()), writer.write(permitted())];
    expect(await rejectionCode(writer.write(permitted()))).toBe('ZT_ERR_STORAGE_UNAVAILABLE');
    db.release();
    await Promise.all([inFlight, ...queued]);
    expect(await count(db, 'access_record')).toBe(4);
  });
}

describe('access log writer on PGlite', () => {
  // Opening PGlite takes seconds, so the tests share one instance, each in a schema of its own.
  let shared: Promise<PgliteDatabase> | null = null;
  let schemas = 0;
  accessLogContract({
    async open() {
      const db = await (shared ??= PgliteDatabase.open({ dataDir: undefined }));
      const schema = `audit_test_${++schemas}`;
      await db.exec(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
      await migrate(db);
      return { db, release: async () => undefined };
    },
    openDedicated: openMigratedDatabase,
    async dispose() {
      await (await shared)?.close();
    },
  });
});

describeWithService('postgres', 'access log writer on PostgreSQL', () => {
  const schemas: string[] = [];
  const open = async () => {
    const schema = uniqueName('zt_audit');
    schemas.push(schema);
    const db = await PgDatabase.open({ url: postgresUrl!, poolSize: 4, schema });
    await migrate(db);
    return db;
  };
  accessLogContract({
    async open() {
      const db = await open();
      return { db, release: () => db.close() };
    },
    openDedicated: open,
    async dispose() {
      const admin = await PgDatabase.open({ url: postgresUrl!, poolSize: 1, schema: undefined });
      for (const schema of schemas) await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.close();
    },
  });
});

describe('normaliseAccessRecord', () => {
  it('uses a valid resident ID number in the fixtures', () => {
    expect(isValidResidentId(PERSON)).toBe(true);
  });

  it('makes a time-ordered UUIDv7 id and fills the defaults', () => {
    const at = new Date('2025-08-01T08:00:00.123Z');
    const r = normaliseAccessRecord(refused(), { instance: 'gw', now: () => at });
    expect(r.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(r.id.replace('-', '').slice(0, 12), 16)).toBe(at.getTime());
    expect(r).toMatchObject({ at, instance: 'gw', itemsRequested: [], itemsReturned: [], ruleIds: [], requester: null, requestDigest: null });
    expect(newAccessRecordId(new Date(at.getTime() + 1)) > r.id).toBe(true);
  });

  it('upper-cases identifiers and takes digests as bytes or hex', () => {
    const hex = 'AB'.repeat(32);
    const r = normaliseAccessRecord(permitted({ requester: REQUESTER.toLowerCase(), subjectCode: PERSON.toLowerCase(), requestDigest: hex }), { instance: 'gw' });
    expect(r.requester).toBe(REQUESTER);
    expect(r.subjectCode).toBe(PERSON);
    expect(r.requestDigest).toEqual(Buffer.alloc(32, 0xab));
    expect(normaliseAccessRecord(permitted({ subjectCode: ` ${PERSON.toLowerCase()}` }), { instance: 'gw', pseudonyms }).subjectCode).toBe(PERSON_INDEX);
  });

  it('copies digest bytes, so the caller may reuse its buffer', () => {
    const digest = Buffer.alloc(32, 1);
    const r = normaliseAccessRecord(permitted({ requestDigest: digest }), { instance: 'gw' });
    digest.fill(2);
    expect(r.requestDigest).toEqual(Buffer.alloc(32, 1));
  });

  const bugs: [string, AccessRecordInput][] = [
    ['a permit without a certificate', permitted({ certificateSm3: null })],
    ['a permit without a case number', permitted({ caseNumber: '  ' })],
    ['a permit with an invalid requester', permitted({ requester: '11210100001000029A' })],
    ['a permit with a subject code that does not fit its kind', permitted({ subjectKind: 'organisation' })],
    ['a permit returning an item not requested', permitted({ itemsReturned: ['salary'] })],
    ['a permit with an error code', permitted({ errorCode: 'ZT_ERR_INTERNAL' })],
    ['a permit with an over-long case number', permitted({ caseNumber: 'x'.repeat(ACCESS_RECORD_LIMITS.caseNumber + 1) })],
    ['a refusal without an error code', refused({ errorCode: null })],
    ['a refusal with a code not in the catalogue', refused({ errorCode: 'ZT_ERR_WHATEVER' as never })],
    ['a refusal that returned items', refused({ itemsRequested: ['a'], itemsReturned: ['a'] })],
    ['an unknown decision', refused({ decision: 'maybe' as never })],
    ['an unknown protocol', refused({ protocol: 'smtp' as never })],
    ['a negative latency', refused({ latencyMs: -1 })],
    ['a latency that is not a number', refused({ latencyMs: Number.NaN })],
    ['a digest of the wrong size', refused({ requestDigest: Buffer.alloc(20) })],
    ['an id that is not a UUID', refused({ id: 'abc' })],
    ['an invalid time', refused({ at: new Date(Number.NaN) })],
    ['an unknown subject kind', refused({ subjectKind: 'robot' as never })],
  ];
  it.each(bugs)('refuses %s with ZT_ERR_INTERNAL', (_, input) => {
    let error: unknown;
    try {
      normaliseAccessRecord(input, { instance: 'gw' });
    } catch (e) {
      error = e;
    }
    expect(isZtError(error) && error.code).toBe('ZT_ERR_INTERNAL');
  });

  it('needs an instance', () => {
    expect(() => normaliseAccessRecord(refused())).toThrow(/instance/);
  });
});
