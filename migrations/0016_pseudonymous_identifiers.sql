-- Pseudonymous identifiers at rest (issue 15, item 4). Outside the source records (the exchange's extracts, the
-- licences and their statements, intake case files) a subject's resident ID number or USCC is stored only as its
-- blind index, a keyed SM3-HMAC `p<version>.<base64url>` (core/pseudonyms). The key is not in the database; these
-- tables and checks are. SQL cannot compute the index (the key lives in a file), so existing rows are converted by the
-- data step that runs right after this migration at start (audit/pseudonymisation.ts); the checks below are added
-- NOT VALID, so they hold for every row written from now on, and the data step validates them once it has converted
-- the rows written before.

-- One row per key version: a check value (HMAC of a fixed message) that identifies the key without revealing it. An
-- instance whose key differs, or lacks a version named here, is refused at start.
CREATE TABLE pseudonym_keys (
  version        integer PRIMARY KEY CHECK (version BETWEEN 1 AND 9999),
  check_value    text NOT NULL CHECK (check_value ~ '^[0-9a-f]{64}$'),
  registered_at  timestamptz NOT NULL DEFAULT now()
);

-- The access log holds the index of the subject (a refused request's malformed code included).
ALTER TABLE access_record ADD CONSTRAINT access_record_subject_code_pseudonymous
  CHECK (subject_code IS NULL OR subject_code ~ '^p[1-9][0-9]{0,3}\.[A-Za-z0-9_-]{43}$') NOT VALID;

-- The exchange's tables are looked up by the index; the record's values are the supplier's data (a source record).
ALTER TABLE exchange_records DROP CONSTRAINT exchange_records_subject_code_check;
ALTER TABLE exchange_records ADD CONSTRAINT exchange_records_subject_code_pseudonymous
  CHECK (subject_code ~ '^p[1-9][0-9]{0,3}\.[A-Za-z0-9_-]{43}$') NOT VALID;

-- The analytics count distinct subjects by their index.
ALTER TABLE audit_analytics_operator_subject ADD CONSTRAINT audit_analytics_operator_subject_pseudonymous
  CHECK (subject_code ~ '^p[1-9][0-9]{0,3}\.[A-Za-z0-9_-]{43}$') NOT VALID;

-- The record of who queried the log names the subject asked for by its index.
ALTER TABLE audit_queries ADD CONSTRAINT audit_queries_subject_pseudonymous
  CHECK (NOT (filters ? 'subject') OR filters->>'subject' ~ '^p[1-9][0-9]{0,3}\.[A-Za-z0-9_-]{43}$') NOT VALID;

-- The append-only tables allow one change, made only by the data step (SET LOCAL zt.pseudonymise = 'on' in its
-- transaction): an identifier in clear replaced by its index, every other column unchanged.
CREATE OR REPLACE FUNCTION access_record_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  unchanged access_record;
BEGIN
  IF TG_OP = 'DELETE' AND TG_LEVEL = 'ROW' THEN
    IF coalesce(current_setting('zt.archive_removal', true), '') = 'on' AND EXISTS (
      SELECT 1
        FROM audit_log_leaves l
        CROSS JOIN LATERAL (
          SELECT s.leaf_to, s.file_name, s.file_sm3 FROM audit_archive_segments s
           WHERE s.leaf_from <= l.leaf_index ORDER BY s.leaf_from DESC LIMIT 1) s
       WHERE l.record_seq = OLD.seq
         AND l.leaf_index < s.leaf_to
         AND s.file_name <> ''
         AND octet_length(s.file_sm3) = 32
    ) THEN
      RETURN OLD;
    END IF;
    RAISE EXCEPTION 'access_record is append-only: DELETE of seq % is not allowed (only the archive may remove records of a sealed segment)', OLD.seq
      USING ERRCODE = '55000';
  END IF;
  IF TG_OP = 'UPDATE' AND coalesce(current_setting('zt.pseudonymise', true), '') = 'on'
     AND OLD.subject_code IS NOT NULL AND OLD.subject_code !~ '^p[1-9][0-9]{0,3}\.[A-Za-z0-9_-]{43}$'
     AND NEW.subject_code ~ '^p[1-9][0-9]{0,3}\.[A-Za-z0-9_-]{43}$' THEN
    unchanged := NEW;
    unchanged.subject_code := OLD.subject_code;
    IF unchanged IS NOT DISTINCT FROM OLD THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'access_record is append-only: % is not allowed', TG_OP USING ERRCODE = '55000';
END;
$$;

CREATE OR REPLACE FUNCTION audit_queries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  unchanged audit_queries;
BEGIN
  IF TG_OP = 'UPDATE' AND coalesce(current_setting('zt.pseudonymise', true), '') = 'on' THEN
    unchanged := NEW;
    unchanged.filters := OLD.filters;
    IF unchanged IS NOT DISTINCT FROM OLD THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'audit_queries is append-only: % is not allowed', TG_OP USING ERRCODE = '55000';
END;
$$;

-- The tamper-evident log's leaves hash whole records, so converting the records breaks the leaves written before:
-- the log is re-anchored (docs/audit-log.md). The tree as it stood moves to audit_log_v1_* (kept, append-only, for
-- verifiers: its leaves, nodes and signed checkpoints); the data step writes the tree anew in the same leaf order from
-- the converted records, and the platform signs a re-anchor statement binding the old tree's last root to the new
-- tree's first. Until then the sequencer waits (reanchor_pending). A database whose log is still empty has nothing
-- to re-anchor and keeps its tables.
ALTER TABLE audit_log_state ADD COLUMN reanchor_pending boolean NOT NULL DEFAULT false;

-- Leaves of the new tree that could not be recomputed from a record and hold the old leaf hash: the record was
-- archived (proved by its archive file), is missing, or no longer matched its old leaf when it was converted (an edit
-- before the re-anchor, which the verifier goes on reporting).
CREATE TABLE audit_log_carried_leaves (
  leaf_index  bigint PRIMARY KEY,
  record_seq  bigint NOT NULL,
  reason      text NOT NULL CHECK (reason IN ('archived', 'missing', 'edited'))
);

-- Records whose clear form did not give their old leaf when the data step converted them (found before converting).
CREATE TABLE audit_log_reanchor_mismatches (
  record_seq  bigint PRIMARY KEY,
  leaf_index  bigint NOT NULL
);

-- The re-anchor: statement zhengtong/audit-reanchor/v1 (old tree size and root, its last signed checkpoint, new tree
-- size and root, how each leaf was carried over), signed alone in a signed envelope by the platform key.
CREATE TABLE audit_log_reanchors (
  epoch         integer PRIMARY KEY CHECK (epoch >= 2),
  old_tree_size bigint NOT NULL CHECK (old_tree_size >= 0),
  started_at    timestamptz NOT NULL DEFAULT now(),
  completed_at  timestamptz,
  statement     jsonb,
  envelope      jsonb
);

-- Archive segments name the checkpoint they were sealed under; those sealed before the re-anchor name one of the old
-- tree (audit_log_v1_checkpoints), so the reference is by value now (leaf_form says which tree).
ALTER TABLE audit_archive_segments DROP CONSTRAINT audit_archive_segments_checkpoint_size_fkey;
ALTER TABLE audit_archive_segments ADD COLUMN leaf_form smallint NOT NULL DEFAULT 2 CHECK (leaf_form IN (1, 2));

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM audit_log_leaves) OR EXISTS (SELECT 1 FROM audit_checkpoints) THEN
    ALTER TABLE audit_log_leaves RENAME TO audit_log_v1_leaves;
    ALTER TABLE audit_log_nodes RENAME TO audit_log_v1_nodes;
    ALTER TABLE audit_checkpoints RENAME TO audit_log_v1_checkpoints;
    CREATE TABLE audit_log_leaves (LIKE audit_log_v1_leaves INCLUDING ALL);
    CREATE TABLE audit_log_nodes (LIKE audit_log_v1_nodes INCLUDING ALL);
    CREATE TABLE audit_checkpoints (LIKE audit_log_v1_checkpoints INCLUDING ALL);
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
    UPDATE audit_log_state SET reanchor_pending = true;
    UPDATE audit_archive_segments SET leaf_form = 1;
    INSERT INTO audit_log_reanchors (epoch, old_tree_size) SELECT 2, tree_size FROM audit_log_state;
  END IF;
END;
$$;
