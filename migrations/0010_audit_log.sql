-- The tamper-evident access log (防篡改访问日志, docs/audit-log.md): an RFC 6962 Merkle tree over SM3 whose leaf i
-- is the leaf hash of one access record (audit/log/leaf.ts), with checkpoints (signed tree heads) signed by the
-- platform key. Records get leaves in the order the sequencer sees them committed; nothing is ever inserted in the
-- middle of the tree, and every table here is append-only.

-- Leaf i of the tree: the SM3 leaf hash of the access record with seq record_seq.
CREATE TABLE audit_log_leaves (
  leaf_index   bigint PRIMARY KEY CHECK (leaf_index >= 0),
  record_seq   bigint NOT NULL UNIQUE,
  leaf_hash    bytea NOT NULL CHECK (octet_length(leaf_hash) = 32),
  sequenced_at timestamptz NOT NULL DEFAULT now()
);

-- The hash of each complete aligned perfect subtree of two leaves or more: the node at (level, idx) covers leaves
-- [idx·2^level, (idx+1)·2^level). Written as soon as its last leaf is, so a proof is O(log² n) lookups.
CREATE TABLE audit_log_nodes (
  level smallint NOT NULL CHECK (level BETWEEN 1 AND 62),
  idx   bigint NOT NULL CHECK (idx >= 0),
  hash  bytea NOT NULL CHECK (octet_length(hash) = 32),
  PRIMARY KEY (level, idx)
);

-- Checkpoints: statement zhengtong/audit-checkpoint/v1 {treeSize, rootHash, signedAt, platform}, signed alone in a
-- signed envelope (JSON form) with the platform's key.
CREATE TABLE audit_checkpoints (
  tree_size bigint PRIMARY KEY CHECK (tree_size >= 1),
  root_hash bytea NOT NULL CHECK (octet_length(root_hash) = 32),
  signed_at timestamptz NOT NULL,
  platform  text NOT NULL,
  envelope  jsonb NOT NULL
);

-- The sequencer's position (one row): tree_size leaves exist; every seq below next_seq has a leaf or lies in a gap.
-- A missing seq may be skipped once a higher seq has been visible for ZT_AUDIT_GAP_SECONDS: mark_seq is the highest
-- seq seen at mark_seen_at, and when that mark is old enough every seq below it is skippable (skip_below).
CREATE TABLE audit_log_state (
  id           boolean PRIMARY KEY DEFAULT true CHECK (id),
  tree_size    bigint NOT NULL CHECK (tree_size >= 0),
  next_seq     bigint NOT NULL CHECK (next_seq >= 1),
  skip_below   bigint NOT NULL DEFAULT 1,
  mark_seq     bigint,
  mark_seen_at timestamptz,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO audit_log_state (tree_size, next_seq) VALUES (0, 1);

-- Seqs [seq_from, seq_to) that were missing longer than ZT_AUDIT_GAP_SECONDS when the sequencer passed them (a
-- rolled-back transaction, or one still open). While watched (closed_at null), a row that appears there is appended
-- at the end of the tree (its leaf carries its seq); once closed (ZT_AUDIT_GAP_WATCH_SECONDS later), such a row is
-- never sequenced and the verifier reports it as inserted.
CREATE TABLE audit_log_gaps (
  seq_from   bigint PRIMARY KEY,
  seq_to     bigint NOT NULL CHECK (seq_to > seq_from),
  skipped_at timestamptz NOT NULL DEFAULT now(),
  closed_at  timestamptz
);
CREATE INDEX audit_log_gaps_watched ON audit_log_gaps (seq_from) WHERE closed_at IS NULL;

-- Sealed archive segments (电子档案, written by the archive): leaves [leaf_from, leaf_to) sealed into a signed file
-- under the checkpoint of checkpoint_size. Once records_removed_at is set the records of those leaves live in the
-- file, not in access_record: the verifier counts them archived, not deleted.
CREATE TABLE audit_archive_segments (
  leaf_from          bigint PRIMARY KEY CHECK (leaf_from >= 0),
  leaf_to            bigint NOT NULL CHECK (leaf_to > leaf_from),
  checkpoint_size    bigint NOT NULL REFERENCES audit_checkpoints (tree_size),
  file_name          text NOT NULL,
  file_sm3           bytea NOT NULL CHECK (octet_length(file_sm3) = 32),
  sealed_at          timestamptz NOT NULL,
  records_removed_at timestamptz,
  restored_at        timestamptz,
  CHECK (leaf_to <= checkpoint_size)
);

-- Leaves, nodes and checkpoints are never changed or removed.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP USING ERRCODE = '55000';
END;
$$;
CREATE TRIGGER audit_log_leaves_append_only BEFORE UPDATE OR DELETE ON audit_log_leaves
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_leaves_no_truncate BEFORE TRUNCATE ON audit_log_leaves
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_nodes_append_only BEFORE UPDATE OR DELETE ON audit_log_nodes
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_nodes_no_truncate BEFORE TRUNCATE ON audit_log_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
