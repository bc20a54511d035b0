-- The exchange's own tables (前置库): a supplier department delivers extracts of its data, and the exchange answers
-- requests for the resource from its copy, without calling the supplier's system. The tables name resources and
-- suppliers by code but do not reference the catalogue: an extract is checked against the item list it is loaded
-- with, and the copy outlives a change to the catalogue entry (the exchange decides per request whether to serve it).

-- Each extract loaded, all or nothing: who delivered it, what it held, and its SM3 digests for provenance.
CREATE TABLE exchange_extracts (
  id             uuid PRIMARY KEY,
  resource       text NOT NULL,
  supplier_uscc  char(18) NOT NULL,
  subject_kind   text NOT NULL CHECK (subject_kind IN ('person', 'organisation')),
  -- Rows of the extract, and records they wrote (more when a row has several subjects, as a marriage has two).
  row_count      integer NOT NULL CHECK (row_count > 0),
  record_count   integer NOT NULL CHECK (record_count >= row_count),
  -- SM3 of the rows as loaded (normalised, one canonical JSON line each): equal for equal data in CSV or JSONL.
  content_sm3    char(64) NOT NULL CHECK (content_sm3 ~ '^[0-9a-f]{64}$'),
  -- SM3 of the file as delivered, when the rows came from one.
  file_sm3       char(64) CHECK (file_sm3 ~ '^[0-9a-f]{64}$'),
  file_name      text,
  loaded_at      timestamptz NOT NULL
);
CREATE INDEX exchange_extracts_resource ON exchange_extracts (resource, loaded_at);

-- One record per (resource, subject): the subject's latest values, which the table connector serves. A row with two
-- subjects (a marriage registration, found by either spouse's ID number) is stored once for each.
CREATE TABLE exchange_records (
  resource      text NOT NULL,
  subject_code  text NOT NULL CHECK (subject_code ~ '^[0-9A-Z]{18}$'),
  subject_kind  text NOT NULL CHECK (subject_kind IN ('person', 'organisation')),
  "values"      jsonb NOT NULL CHECK (jsonb_typeof("values") = 'object'),
  -- When the supplier last changed the record, if it said; when the exchange loaded it (the data's "as of").
  updated_at    timestamptz,
  loaded_at     timestamptz NOT NULL,
  -- Deferred, so that an extract's row is written once its digest and counts are known, after its records.
  extract_id    uuid NOT NULL REFERENCES exchange_extracts (id) DEFERRABLE INITIALLY DEFERRED,
  PRIMARY KEY (resource, subject_code)
);
-- Which records an extract wrote (provenance questions, and purging an extract's data).
CREATE INDEX exchange_records_extract ON exchange_records (extract_id);
