-- Searching the access log (行权回溯), the citizen's view of it, and what explains a record years later.
--
-- Search orders newest first by (at, seq) and pages by keyset on that pair, so each filter needs an index that
-- starts with the filtered column and goes on with the time: a page is then one backward index scan, however deep.
-- Subject (subject_code, at) and department (requester, at) exist since 0006; case numbers have few rows each.
CREATE INDEX access_record_operator_at ON access_record (operator, at) WHERE operator IS NOT NULL;
CREATE INDEX access_record_resource_at ON access_record (resource, at) WHERE resource IS NOT NULL;
CREATE INDEX access_record_service_item_at ON access_record (service_item, at) WHERE service_item IS NOT NULL;
-- Refusals and failures are the few rows supervisors look for; permits are found through the other filters.
CREATE INDEX access_record_refused_at ON access_record (decision, at) WHERE decision <> 'permit';
-- A time range alone (and the export of one) walks this index; the BRIN index of 0006 cannot give the order.
CREATE INDEX access_record_at_seq ON access_record (at, seq);

-- Every negative-list revision (负面清单) a gateway has put in force, with the text of its rules, so that the rule ids
-- and the revision named in a record remain explainable after the list has changed. One row per distinct content:
-- a revision recompiled against a changed catalogue (new catalogue: rules) is a new row.
CREATE TABLE policy_revisions (
  revision            text NOT NULL,
  -- SM3 (hex) of the canonical JSON of `rules`: what makes two loads the same.
  content_sm3         char(64) NOT NULL,
  -- The files' digest as the engine reports it, and the catalogue revision it was compiled against.
  digest              text NOT NULL,
  catalogue_revision  text NOT NULL,
  files               text[] NOT NULL,
  -- [{id, title, effect, legalBasis: [{title, article}], condition}], list entries and built-in rules alike.
  rules               jsonb NOT NULL,
  loaded_at           timestamptz NOT NULL DEFAULT now(),
  loaded_by           text NOT NULL,
  PRIMARY KEY (revision, content_sm3)
);
CREATE INDEX policy_revisions_loaded ON policy_revisions (revision, loaded_at);

-- Cases flagged covert (秘密办件): their accesses stay out of the subject's own view until release_on (a China
-- calendar date; visible from that day on). Flagged by the requesting department for its own cases or by a supervisor;
-- lifted by a supervisor. Supervisors always see the accesses, marked covert.
CREATE TABLE audit_covert_cases (
  id           uuid PRIMARY KEY,
  requester    char(18) NOT NULL,
  case_number  text NOT NULL CHECK (length(case_number) BETWEEN 1 AND 128),
  release_on   date NOT NULL,
  reason       text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  flagged_by   char(18) NOT NULL,
  flagged_at   timestamptz NOT NULL,
  lifted_by    char(18),
  lifted_at    timestamptz,
  lift_reason  text CHECK (length(lift_reason) <= 500),
  CONSTRAINT audit_covert_cases_lift_complete CHECK ((lifted_at IS NULL) = (lifted_by IS NULL))
);
-- One flag in force per case; the subject view looks flags up by case.
CREATE UNIQUE INDEX audit_covert_cases_active ON audit_covert_cases (requester, case_number) WHERE lifted_at IS NULL;
CREATE INDEX audit_covert_cases_flagged ON audit_covert_cases (flagged_at);

-- The watchers are watched: every query of the log by a supervisor or a portal, who asked what and how much came back.
CREATE TABLE audit_queries (
  seq          bigserial PRIMARY KEY,
  at           timestamptz NOT NULL,
  requester    char(18) NOT NULL,
  -- 'none' with kind 'forbidden': a department whose signature verified but that may not read the log this way.
  role         text NOT NULL CHECK (role IN ('supervisor', 'portal', 'department', 'none')),
  kind         text NOT NULL CHECK (kind IN ('search', 'export', 'trace', 'subject', 'covert-flag', 'covert-lift', 'covert-list', 'forbidden')),
  filters      jsonb NOT NULL,
  rows         bigint NOT NULL CHECK (rows >= 0),
  -- The ZT_ERR_* code when the query was refused after its signature was accepted (bad filters, too large).
  error_code   text CHECK (error_code ~ '^ZT_ERR_[A-Z0-9_]+$'),
  protocol     text NOT NULL CHECK (protocol IN ('http', 'grpc')),
  request_digest bytea CHECK (octet_length(request_digest) = 32),
  certificate_sm3 bytea CHECK (octet_length(certificate_sm3) = 32)
);
CREATE INDEX audit_queries_requester_at ON audit_queries (requester, at);

CREATE FUNCTION audit_queries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_queries is append-only: % is not allowed', TG_OP USING ERRCODE = '55000';
END;
$$;
CREATE TRIGGER audit_queries_append_only BEFORE UPDATE OR DELETE ON audit_queries
  FOR EACH ROW EXECUTE FUNCTION audit_queries_append_only();
CREATE TRIGGER audit_queries_no_truncate BEFORE TRUNCATE ON audit_queries
  FOR EACH STATEMENT EXECUTE FUNCTION audit_queries_append_only();
