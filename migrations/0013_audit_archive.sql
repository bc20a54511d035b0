-- The electronic archive (电子档案, docs/audit-archive.md): sealed segments of the access log are written to signed
-- archive files (audit_archive_segments, created with the log in 0010); once sealed, their records may be removed
-- from the live log, and restored from the file for queries.

-- What a segment holds, for listing it without opening its file.
ALTER TABLE audit_archive_segments
  ADD COLUMN segment_root bytea CHECK (octet_length(segment_root) = 32),
  ADD COLUMN first_at timestamptz,
  ADD COLUMN last_at timestamptz,
  -- A segment is restored only after its records were removed; removing them again clears restored_at.
  ADD CONSTRAINT audit_archive_segments_restored_after_removal CHECK (restored_at IS NULL OR records_removed_at IS NOT NULL);

-- The access log stays append-only, with one exception: the archive may delete the records of a segment that is
-- sealed into a recorded file, and only inside a transaction that says so (SET LOCAL zt.archive_removal = 'on').
-- Any other DELETE, every UPDATE and TRUNCATE are refused as before. The setting is transaction-local and a plain
-- connection never has it, so a stray DELETE, or one inside an unsealed range, still fails.
CREATE OR REPLACE FUNCTION access_record_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
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
  RAISE EXCEPTION 'access_record is append-only: % is not allowed', TG_OP USING ERRCODE = '55000';
END;
$$;
