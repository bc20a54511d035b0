// The tamper-evident log on PostgreSQL: how fast the sequencer appends leaves (and their nodes) for 1,000,000 access
// records, what a checkpoint costs, proof latency from the stored nodes, and the verifier's full pass. The baseline of
// the same run is the leaf hashing alone (reading the rows and SM3 over their canonical JSON, nothing written), the
// floor under the sequencer's rate. Records are realistic permits (every column filled), loaded with INSERT … SELECT
// into a bench schema of its own, dropped afterwards.
//   ZT_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench -- audit-log
//   ZT_BENCH_AUDIT_LOG_ROWS=1000000  ZT_BENCH_KEEP=1 (keep the schema)
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BlindIndex } from '../core/pseudonyms/index.js';
import { migrate, PgDatabase } from '../core/storage/index.js';
import { InProcessSm2Signer } from '../certs/signer/index.js';
import { generateSm2KeyPair } from '../certs/sm2/sm2.js';
import { ACCESS_RECORD_COLUMNS, accessRecordFromRow, type AccessRecordRow } from '../audit/access-record-row.js';
import { accessLeafHashFast, AuditLogService, consistencyProofAt, inclusionProofAt, verifyLog } from '../audit/log/index.js';

export interface AuditLogBenchResult {
  rows: number;
  loadSeconds: number;
  hashOnly: { seconds: number; rowsPerSecond: number };
  sequence: { seconds: number; rowsPerSecond: number; batchSize: number };
  checkpointMs: number;
  inclusion: { p50: number; p99: number };
  consistency: { p50: number; p99: number };
  verify: { seconds: number; rowsPerSecond: number; ok: boolean };
  storage: { leaves: string; nodes: string };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timeMany(n: number, fn: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: Number(percentile(times, 50).toFixed(2)), p99: Number(percentile(times, 99).toFixed(2)) };
}

export async function benchAuditLog(url: string, rows: number): Promise<AuditLogBenchResult> {
  const schema = `zt_bench_auditlog_${Date.now().toString(36)}`;
  const db = await PgDatabase.open({ url, poolSize: 4, schema });
  const keys = generateSm2KeyPair();
  const signer = new InProcessSm2Signer({ privateKey: keys.privateKey });
  try {
    await migrate(db);
    let t = performance.now();
    for (let done = 0; done < rows; done += 100_000) {
      await db.query(
        `INSERT INTO access_record (id, at, requester, operator, subject_kind, subject_code, resource, items_requested, items_returned, service_item,
           case_number, decision, rule_ids, policy_revision, error_code, latency_ms, request_digest, response_digest, certificate_sm3, instance, protocol)
         SELECT gen_random_uuid(), timestamptz '2026-01-01 08:00+08' + g * interval '30 seconds', '11210100001000010R', '经办人' || (g % 20),
                'person', $3, '210100-GA-0001', ARRAY['name','address','photo'], ARRAY['name','address'], '210100-SB-0001',
                'BJ-2026-' || (g / 3), 'permit', ARRAY['GA-PHOTO-1'], '2026-01-01.1', NULL, (g % 5000) / 7.0,
                sha256(int8send(g)), sha256(int8send(-g)), sha256(int8send(g % 40)), 'bench', 'http'
           FROM generate_series($1::int, $2::int) AS g`,
        // Records hold the subject's blind index, as the access log writes them.
        [done + 1, Math.min(rows, done + 100_000), new BlindIndex([{ version: 1, key: randomBytes(32) }]).of('11010519491231002X')],
      );
    }
    await db.exec('ANALYZE access_record');
    const loadSeconds = (performance.now() - t) / 1000;

    // Baseline: read and hash every row, write nothing.
    t = performance.now();
    for (let after = 0; ; ) {
      const { rows: page } = await db.query<AccessRecordRow>(`SELECT ${ACCESS_RECORD_COLUMNS} FROM access_record WHERE seq > $1 ORDER BY seq LIMIT 10000`, [after]);
      if (page.length === 0) break;
      for (const r of page) accessLeafHashFast(accessRecordFromRow(r));
      after = Number(page[page.length - 1]!.seq);
    }
    const hashSeconds = (performance.now() - t) / 1000;

    const batchSize = 10_000;
    const log = new AuditLogService({ db, signer: async () => signer, platformUscc: '11210100001000096L', sequenceMs: 0, checkpointSeconds: 0, gapSeconds: 10, gapWatchSeconds: 3600, batchSize });
    t = performance.now();
    const run = await log.sequence();
    const sequenceSeconds = (performance.now() - t) / 1000;
    if (run.treeSize !== rows) throw new Error(`sequenced ${run.treeSize} of ${rows}`);
    t = performance.now();
    await log.checkpoint({ force: true });
    const checkpointMs = performance.now() - t;

    const inclusion = await timeMany(1000, (i) => inclusionProofAt(db, (i * 7919) % rows, rows));
    const consistency = await timeMany(1000, (i) => consistencyProofAt(db, 1 + ((i * 104729) % rows), rows));

    t = performance.now();
    const verification = await verifyLog(db, { anchors: null, pageSize: 10_000 });
    const verifySeconds = (performance.now() - t) / 1000;
    const { rows: sizes } = await db.query<{ leaves: string; nodes: string }>(
      `SELECT pg_size_pretty(pg_total_relation_size('audit_log_leaves')) AS leaves, pg_size_pretty(pg_total_relation_size('audit_log_nodes')) AS nodes`,
    );
    return {
      rows,
      loadSeconds,
      hashOnly: { seconds: hashSeconds, rowsPerSecond: rows / hashSeconds },
      sequence: { seconds: sequenceSeconds, rowsPerSecond: rows / sequenceSeconds, batchSize },
      checkpointMs,
      inclusion,
      consistency,
      verify: { seconds: verifySeconds, rowsPerSecond: rows / verifySeconds, ok: verification.ok },
      storage: sizes[0]!,
    };
  } finally {
    await signer.close();
    if (!process.env.ZT_BENCH_KEEP) await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await db.close();
  }
}

export function printAuditLog(r: AuditLogBenchResult): void {
  const rate = (n: number) => Math.round(n).toLocaleString('en');
  process.stdout.write(
    [
      `tamper-evident log on PostgreSQL, ${rate(r.rows)} access records (loaded in ${r.loadSeconds.toFixed(1)} s):`,
      `  baseline: read + SM3 leaf hash only          ${rate(r.hashOnly.rowsPerSecond).padStart(9)} rows/s (${r.hashOnly.seconds.toFixed(1)} s)`,
      `  sequencer: leaves + nodes, batches of ${r.sequence.batchSize}  ${rate(r.sequence.rowsPerSecond).padStart(9)} rows/s (${r.sequence.seconds.toFixed(1)} s; ${((r.sequence.rowsPerSecond / r.hashOnly.rowsPerSecond) * 100).toFixed(0)} % of baseline)`,
      `  checkpoint (root from nodes + SM2 signature) ${r.checkpointMs.toFixed(1)} ms`,
      `  inclusion proof from stored nodes            p50 ${r.inclusion.p50} ms  p99 ${r.inclusion.p99} ms`,
      `  consistency proof from stored nodes          p50 ${r.consistency.p50} ms  p99 ${r.consistency.p99} ms`,
      `  verify (every leaf, node and root)           ${rate(r.verify.rowsPerSecond).padStart(9)} rows/s (${r.verify.seconds.toFixed(1)} s, ${r.verify.ok ? 'clean' : 'PROBLEMS'})`,
      `  storage: leaves ${r.storage.leaves}, nodes ${r.storage.nodes}`,
    ].join('\n') + '\n',
  );
}
