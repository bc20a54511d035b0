// The checks several scenarios make after their faults, against the database and with the operator's CLI: every
// answer a client received has its access record, every answered record gets its leaf in the tamper-evident log,
// and the log verifies from its first checkpoint to a new last one.
import type { Cluster } from './cluster.js';
import type { Sent } from './load.js';
import { runCli, sleep } from './report.js';

/**
 * How many answers lack their record: a permitted access record with the answer's access id and the digest of the
 * request it answered. `permitted` counts the answered records found.
 */
export async function unrecordedAnswers(cluster: Cluster, answered: readonly Sent[]): Promise<{ ids: string[]; lost: number; permitted: number }> {
  const ids = answered.map((s) => s.accessId).filter((id): id is string => typeof id === 'string');
  const rows = await cluster.query<{ id: string; digest: string }>(
    `SELECT id::text AS id, encode(request_digest, 'hex') AS digest FROM access_record WHERE id = ANY($1::uuid[]) AND decision = 'permit'`,
    [ids],
  );
  const digests = new Map(rows.map((r) => [r.id, r.digest]));
  const lost = answered.filter((s) => s.accessId === undefined || digests.get(s.accessId) !== s.requestDigest).length;
  return { ids, lost, permitted: rows.length };
}

/** Waits until the records `ids` all have a leaf, at most `timeoutMs`; resolves with how many have one. */
export async function awaitLeaves(cluster: Cluster, ids: readonly string[], timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await cluster.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_log_leaves l JOIN access_record r ON r.seq = l.record_seq WHERE r.id = ANY($1::uuid[])', [ids]);
    const leaves = Number(row!.n);
    if (leaves >= ids.length || Date.now() > deadline) return leaves;
    await sleep(1000);
  }
}

/** Signs a checkpoint and verifies the log with the CLI; `problem` says what failed, when something did. */
export async function checkpointAndVerify(cluster: Cluster, databaseUrl: string): Promise<{ treeSize: number; checkpoints: string; problem: string | null }> {
  const env = { DATABASE_URL: databaseUrl, ZT_DATABASE_SCHEMA: cluster.schema, ZT_CA_DIR: cluster.caDir, ZT_DATA_DIR: cluster.dataDir, KAFKA_BROKERS: '' };
  const checkpoint = await runCli(['audit', 'checkpoint'], env);
  if (checkpoint.status !== 0) return { treeSize: 0, checkpoints: '', problem: `zhengtong audit checkpoint exited ${checkpoint.status}: ${checkpoint.stderr.trim().slice(0, 300)}` };
  const verify = await runCli(['audit', 'verify', '--json'], env);
  try {
    const v = JSON.parse(verify.stdout) as { ok: boolean; treeSize: number; checkpoints: { total: number; valid: number } };
    const checkpoints = `${v.checkpoints.valid} of ${v.checkpoints.total} checkpoints valid`;
    return { treeSize: v.treeSize, checkpoints, problem: v.ok && verify.status === 0 ? null : `zhengtong audit verify says the log does not verify (exit ${verify.status})` };
  } catch {
    return { treeSize: 0, checkpoints: '', problem: `zhengtong audit verify exited ${verify.status}: ${verify.stderr.trim().slice(0, 300)}` };
  }
}
