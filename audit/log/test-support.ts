// Test helpers for the tamper-evident log: access records written straight into the table, fast and in bulk.
import type { Queryable } from '../../core/storage/index.js';

/**
 * Inserts `count` refused records (a refusal needs the fewest columns) in one statement; `seqs` gives explicit seqs
 * (to plant gaps), otherwise the bigserial assigns them. Each row differs (latency, operator) so each leaf differs.
 */
export async function insertRecords(q: Queryable, count: number, options: { seqs?: readonly number[]; at?: Date; tag?: string } = {}): Promise<void> {
  const at = (options.at ?? new Date('2026-03-02T09:00:00Z')).toISOString();
  const tag = options.tag ?? 'op';
  if (options.seqs) {
    await q.query(
      `INSERT INTO access_record (seq, id, at, operator, decision, error_code, items_requested, items_returned, rule_ids, latency_ms, instance, protocol)
       SELECT s, gen_random_uuid(), $2::timestamptz + s * interval '1 millisecond', $3 || s, 'deny', 'ZT_ERR_REQUEST_INVALID', '{}', '{}', '{}', (s % 1000) / 8.0, 'test', 'http'
         FROM unnest($1::bigint[]) AS s`,
      [options.seqs, at, tag],
    );
    return;
  }
  await q.query(
    `INSERT INTO access_record (id, at, operator, decision, error_code, items_requested, items_returned, rule_ids, latency_ms, instance, protocol)
     SELECT gen_random_uuid(), $2::timestamptz + g * interval '1 millisecond', $3 || g, 'deny', 'ZT_ERR_REQUEST_INVALID', '{}', '{}', '{}', (g % 1000) / 8.0, 'test', 'grpc'
       FROM generate_series(1, $1::int) AS g`,
    [count, at, tag],
  );
}
