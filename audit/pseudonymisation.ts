// Migration 0016's data step: the rows written before subject identifiers were pseudonymised get the blind index in
// place of the identifier, and the tamper-evident log is re-anchored (audit/log/reanchor.ts). SQL alone cannot do it
// (the key is in a file, not in the database), so it runs at start right after the SQL migrations (buildApp, and
// zhengtong migrate), under one lock across instances. Every part is idempotent and resumable: rows already holding
// an index are skipped, each batch is its own transaction, and the log's rebuild picks up at the new tree's size.
// Once everything is converted the NOT VALID checks of 0016 are validated; a later start sees them validated and the
// re-anchor done, and does nothing (two catalogue reads).
//
// Converted here: access_record.subject_code (each record first checked against its old leaf while still in clear),
// exchange_records' keys, audit_analytics_operator_subject, audit_queries' filters (the subject asked for, and
// identifiers in a refused call's path), and access.recorded events still waiting in the outbox (key and value).
// Events already published stay on the Kafka topic until its retention removes them; the analytics index any it
// reads again.
import type { Signer } from '../certs/signer/index.js';
import type { Logger } from '../core/logging/index.js';
import { BLIND_INDEX_SQL, isBlindIndex, type BlindIndex } from '../core/pseudonyms/index.js';
import type { Database, Session } from '../core/storage/index.js';
import { ACCESS_RECORD_COLUMNS, accessRecordFromRow, type AccessRecordRow } from './access-record-row.js';
import { ACCESS_RECORD_TOPIC } from './access-record.js';
import { accessLeafHashFast } from './log/leaf.js';
import { completeReanchor, oldTreeKept, reanchors, type ReanchorStatement } from './log/reanchor.js';
import { pseudonymousFilters } from './search/search-service.js';

const LOCK = 'zhengtong.pseudonymise';
const CHECKS = [
  ['access_record', 'access_record_subject_code_pseudonymous'],
  ['exchange_records', 'exchange_records_subject_code_pseudonymous'],
  ['audit_analytics_operator_subject', 'audit_analytics_operator_subject_pseudonymous'],
  ['audit_queries', 'audit_queries_subject_pseudonymous'],
] as const;

export interface PseudonymisationOptions {
  db: Database;
  pseudonyms: BlindIndex;
  /** The platform's signing key for the re-anchor statement and the new tree's first checkpoint (null: none here). */
  signer: (() => Promise<Signer>) | null;
  platformUscc: string;
  logger?: Logger;
  /** Rows per transaction; default 1000. */
  batchSize?: number;
}

export interface PseudonymisationReport {
  /** Nothing was left to do (the usual start). */
  alreadyDone: boolean;
  converted: { accessRecords: number; editedBeforeConversion: number; exchangeRecords: number; analyticsSubjects: number; auditQueries: number; outboxEvents: number };
  /** The re-anchor made by this run, if any. */
  reanchor: ReanchorStatement | null;
  /** The log's re-anchor is still to be done (it waits for the platform key). */
  reanchorPending: boolean;
}

/** Whether the data step has nothing left: the checks validated and no re-anchor pending. */
async function done(q: Session): Promise<boolean> {
  const { rows } = await q.query<{ unvalidated: string | number; pending: boolean | null }>(
    `SELECT (SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
              WHERE n.nspname = current_schema() AND c.conname = ANY($1::text[]) AND NOT c.convalidated) AS unvalidated,
            (SELECT reanchor_pending FROM audit_log_state) AS pending`,
    [CHECKS.map(([, name]) => name)],
  );
  return Number(rows[0]?.unvalidated ?? 0) === 0 && rows[0]?.pending !== true;
}

/** Runs the data step (or finds it done). Safe from several instances at once: they queue on one lock. */
export async function pseudonymiseStoredIdentifiers(options: PseudonymisationOptions): Promise<PseudonymisationReport> {
  const { db, pseudonyms, logger } = options;
  const batch = options.batchSize ?? 1000;
  return db.withLock(LOCK, async (session) => {
    const report: PseudonymisationReport = {
      alreadyDone: false,
      converted: { accessRecords: 0, editedBeforeConversion: 0, exchangeRecords: 0, analyticsSubjects: 0, auditQueries: 0, outboxEvents: 0 },
      reanchor: null,
      reanchorPending: false,
    };
    if (await done(session)) {
      report.alreadyDone = true;
      return report;
    }
    const c = report.converted;
    const kept = await oldTreeKept(session);
    Object.assign(c, await convertAccessRecords(session, pseudonyms, batch, kept));
    c.exchangeRecords = await convertExchangeRecords(session, pseudonyms, batch);
    c.analyticsSubjects = await convertAnalyticsSubjects(session, pseudonyms, batch);
    c.auditQueries = await convertAuditQueries(session, pseudonyms, batch);
    c.outboxEvents = await convertOutbox(session, pseudonyms, batch);
    if (Object.values(c).some((n) => n > 0)) logger?.info({ ...c }, 'stored subject identifiers replaced by their blind index (migration 0016)');
    if (c.editedBeforeConversion > 0) {
      logger?.warn({ records: c.editedBeforeConversion }, 'access records that no longer matched their log leaf before conversion: they were edited before; the re-anchored log keeps their old leaves, so zhengtong audit verify goes on reporting them');
    }
    for (const [table, name] of CHECKS) await session.exec(`ALTER TABLE ${table} VALIDATE CONSTRAINT ${name}`);

    const pending = (await reanchors(session)).find((r) => r.completedAt === null);
    if (pending) {
      report.reanchor = await completeReanchor(session, pending, {
        signer: options.signer,
        platformUscc: options.platformUscc,
        pseudonymKeyVersion: pseudonyms.current,
        ...(logger ? { logger } : {}),
      });
      report.reanchorPending = report.reanchor === null;
    }
    return report;
  });
}

async function setFlag(tx: { query(sql: string): Promise<unknown> }): Promise<void> {
  // The append-only triggers let exactly this change through, and only in this transaction (migration 0016).
  await tx.query(`SELECT set_config('zt.pseudonymise', 'on', true)`);
}

/**
 * access_record, in seq order: each record still in clear is checked against its leaf in the log of before (when it
 * has one) and then given the index of its subject.
 */
async function convertAccessRecords(session: Session, pseudonyms: BlindIndex, batch: number, oldTree: boolean): Promise<{ accessRecords: number; editedBeforeConversion: number }> {
  const columns = ACCESS_RECORD_COLUMNS.split(',').map((c) => `a.${c.trim()}`).join(', ');
  const leafJoin = oldTree ? 'LEFT JOIN audit_log_v1_leaves l ON l.record_seq = a.seq' : '';
  const leafColumns = oldTree ? 'l.leaf_index AS old_leaf_index, l.leaf_hash AS old_leaf_hash' : 'NULL::bigint AS old_leaf_index, NULL::bytea AS old_leaf_hash';
  let converted = 0;
  let edited = 0;
  for (let after = 0; ; ) {
    const { rows } = await session.query<AccessRecordRow & { old_leaf_index: string | number | null; old_leaf_hash: Buffer | null }>(
      `SELECT ${columns}, ${leafColumns} FROM access_record a ${leafJoin}
        WHERE a.seq > $1 AND a.subject_code IS NOT NULL AND a.subject_code !~ $2 ORDER BY a.seq LIMIT $3`,
      [after, BLIND_INDEX_SQL, batch],
    );
    if (rows.length === 0) break;
    const seqs: string[] = [];
    const indexes: string[] = [];
    const mismatches: [string, string][] = [];
    for (const row of rows) {
      const record = accessRecordFromRow(row);
      seqs.push(String(record.seq));
      indexes.push(pseudonyms.of(record.subjectCode!));
      if (row.old_leaf_hash !== null && !accessLeafHashFast(record).equals(Buffer.from(row.old_leaf_hash))) mismatches.push([String(record.seq), String(row.old_leaf_index)]);
      after = record.seq;
    }
    await session.transaction(async (tx) => {
      await setFlag(tx);
      const { rowCount } = await tx.query(
        `UPDATE access_record a SET subject_code = u.idx FROM unnest($1::bigint[], $2::text[]) AS u(seq, idx) WHERE a.seq = u.seq AND a.subject_code !~ $3`,
        [seqs, indexes, BLIND_INDEX_SQL],
      );
      converted += rowCount;
      if (mismatches.length > 0) {
        await tx.query('INSERT INTO audit_log_reanchor_mismatches (record_seq, leaf_index) SELECT * FROM unnest($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING', [
          mismatches.map((m) => m[0]),
          mismatches.map((m) => m[1]),
        ]);
        edited += mismatches.length;
      }
    });
  }
  return { accessRecords: converted, editedBeforeConversion: edited };
}

/** exchange_records' keys; a subject already keyed by its index (an extract loaded since) keeps that newer record. */
async function convertExchangeRecords(session: Session, pseudonyms: BlindIndex, batch: number): Promise<number> {
  let converted = 0;
  for (;;) {
    const { rows } = await session.query<{ resource: string; subject_code: string }>(
      'SELECT resource, subject_code FROM exchange_records WHERE subject_code !~ $1 ORDER BY resource, subject_code LIMIT $2',
      [BLIND_INDEX_SQL, batch],
    );
    if (rows.length === 0) return converted;
    const params = [rows.map((r) => r.resource), rows.map((r) => r.subject_code), rows.map((r) => pseudonyms.of(r.subject_code))];
    await session.transaction(async (tx) => {
      await tx.query(
        `DELETE FROM exchange_records r USING unnest($1::text[], $2::text[], $3::text[]) AS u(resource, clear, idx)
          WHERE r.resource = u.resource AND r.subject_code = u.clear
            AND EXISTS (SELECT 1 FROM exchange_records x WHERE x.resource = u.resource AND x.subject_code = u.idx)`,
        params,
      );
      const { rowCount } = await tx.query(
        `UPDATE exchange_records r SET subject_code = u.idx FROM unnest($1::text[], $2::text[], $3::text[]) AS u(resource, clear, idx)
          WHERE r.resource = u.resource AND r.subject_code = u.clear`,
        params,
      );
      converted += rowCount;
    });
  }
}

/** The analytics' distinct-subject sets: each clear code's rows become rows of its index. */
async function convertAnalyticsSubjects(session: Session, pseudonyms: BlindIndex, batch: number): Promise<number> {
  let converted = 0;
  for (;;) {
    const { rows } = await session.query<{ subject_code: string }>(
      'SELECT DISTINCT subject_code FROM audit_analytics_operator_subject WHERE subject_code !~ $1 LIMIT $2',
      [BLIND_INDEX_SQL, batch],
    );
    if (rows.length === 0) return converted;
    const clear = rows.map((r) => r.subject_code);
    await session.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO audit_analytics_operator_subject (day, requester, operator, subject_code)
         SELECT s.day, s.requester, s.operator, u.idx FROM audit_analytics_operator_subject s JOIN unnest($1::text[], $2::text[]) AS u(clear, idx) ON s.subject_code = u.clear
         ON CONFLICT DO NOTHING`,
        [clear, clear.map((code) => pseudonyms.of(code))],
      );
      const { rowCount } = await tx.query('DELETE FROM audit_analytics_operator_subject WHERE subject_code = ANY($1::text[])', [clear]);
      converted += rowCount;
    });
  }
}

/** audit_queries: the subject asked for, and identifiers in the path of a refused call, by their index. */
async function convertAuditQueries(session: Session, pseudonyms: BlindIndex, batch: number): Promise<number> {
  let converted = 0;
  for (let after = 0; ; ) {
    const { rows } = await session.query<{ seq: string | number; requester: string; filters: Record<string, unknown> | string }>(
      `SELECT seq, requester, filters FROM audit_queries
        WHERE seq > $1 AND ((filters ? 'subject' AND filters->>'subject' !~ $2) OR filters->>'path' ~ '[0-9A-Za-z]{18}')
        ORDER BY seq LIMIT $3`,
      [after, BLIND_INDEX_SQL, batch],
    );
    if (rows.length === 0) return converted;
    const seqs: string[] = [];
    const filters: string[] = [];
    for (const row of rows) {
      after = Number(row.seq);
      const f = pseudonymousFilters(typeof row.filters === 'string' ? (JSON.parse(row.filters) as Record<string, unknown>) : row.filters, pseudonyms, row.requester.trim());
      seqs.push(String(row.seq));
      filters.push(JSON.stringify(f));
    }
    await session.transaction(async (tx) => {
      await setFlag(tx);
      const { rowCount } = await tx.query('UPDATE audit_queries q SET filters = u.f::jsonb FROM unnest($1::bigint[], $2::text[]) AS u(seq, f) WHERE q.seq = u.seq', [seqs, filters]);
      converted += rowCount;
    });
  }
}

/** access.recorded events still in the outbox: the key and the record's subjectCode by their index. */
async function convertOutbox(session: Session, pseudonyms: BlindIndex, batch: number): Promise<number> {
  let converted = 0;
  for (let after = 0; ; ) {
    const { rows } = await session.query<{ id: string | number; event_key: string | null; value: Buffer }>(
      `SELECT id, event_key, value FROM zt_outbox
        WHERE id > $1 AND topic = $2 AND event_key !~ $3 AND event_key !~ '^[0-9a-f]{8}-[0-9a-f]{4}-'
        ORDER BY id LIMIT $4`,
      [after, ACCESS_RECORD_TOPIC, BLIND_INDEX_SQL, batch],
    );
    if (rows.length === 0) return converted;
    const ids: string[] = [];
    const keys: string[] = [];
    const values: Buffer[] = [];
    for (const row of rows) {
      after = Number(row.id);
      let value = Buffer.from(row.value);
      try {
        const event = JSON.parse(value.toString('utf8')) as { record?: { subjectCode?: unknown } };
        if (event.record && typeof event.record.subjectCode === 'string' && !isBlindIndex(event.record.subjectCode)) {
          event.record.subjectCode = pseudonyms.of(event.record.subjectCode);
          value = Buffer.from(JSON.stringify(event), 'utf8');
        }
      } catch {
        // Not JSON: only the key is converted.
      }
      ids.push(String(row.id));
      keys.push(pseudonyms.of(row.event_key!));
      values.push(value);
    }
    await session.transaction(async (tx) => {
      for (let i = 0; i < ids.length; i++) {
        await tx.query('UPDATE zt_outbox SET event_key = $2, value = $3 WHERE id = $1', [ids[i], keys[i], values[i]]);
      }
    });
    converted += ids.length;
  }
}
