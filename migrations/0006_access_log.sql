-- The access log (访问记录): one row for every exchange request, permitted or refused, written in the same
-- transaction as its outbox event and committed before any data is released. seq orders the rows as they were
-- committed on this database; id (a UUIDv7 made by the gateway, so time-ordered too) names a record everywhere else.
-- A refused or failed request may lack what a well-formed one names (requester, subject, purpose), so those columns
-- are required of permitted requests only.
CREATE TABLE access_record (
  seq              bigserial PRIMARY KEY,
  id               uuid NOT NULL UNIQUE,
  at               timestamptz NOT NULL,
  -- USCC of the requesting department, as its certificate names it.
  requester        text,
  -- The person acting for the requester (经办人), when the request names one.
  operator         text,
  subject_kind     text CHECK (subject_kind IN ('person', 'organisation')),
  -- Resident ID number of a person, USCC of an organisation.
  subject_code     text,
  resource         text,
  items_requested  text[] NOT NULL,
  items_returned   text[] NOT NULL,
  -- 事项编码 and 办件编号: the service item and the case the data was asked for.
  service_item     text,
  case_number      text,
  decision         text NOT NULL CHECK (decision IN ('permit', 'deny', 'error')),
  rule_ids         text[] NOT NULL,
  policy_revision  text,
  error_code       text CHECK (error_code ~ '^ZT_ERR_[A-Z0-9_]+$'),
  latency_ms       real NOT NULL CHECK (latency_ms >= 0),
  -- SM3 of the canonical request and response, and the SM3 fingerprint of the requester's certificate.
  request_digest   bytea CHECK (octet_length(request_digest) = 32),
  response_digest  bytea CHECK (octet_length(response_digest) = 32),
  certificate_sm3  bytea CHECK (octet_length(certificate_sm3) = 32),
  instance         text NOT NULL,
  protocol         text NOT NULL CHECK (protocol IN ('http', 'grpc')),
  CONSTRAINT access_record_error_code_iff_refused CHECK ((decision = 'permit') = (error_code IS NULL)),
  CONSTRAINT access_record_nothing_returned_unless_permitted CHECK (decision = 'permit' OR cardinality(items_returned) = 0),
  CONSTRAINT access_record_permit_is_complete CHECK (
    decision <> 'permit' OR (
      requester IS NOT NULL AND subject_kind IS NOT NULL AND subject_code IS NOT NULL AND resource IS NOT NULL
      AND service_item IS NOT NULL AND case_number IS NOT NULL AND policy_revision IS NOT NULL
      AND request_digest IS NOT NULL AND response_digest IS NOT NULL AND certificate_sm3 IS NOT NULL))
);
-- Who read this person's or organisation's data (citizens' transparency, supervisors).
CREATE INDEX access_record_subject ON access_record (subject_code, at) WHERE subject_code IS NOT NULL;
-- What a department asked for over a period.
CREATE INDEX access_record_requester_at ON access_record (requester, at);
-- Every access made for one case (办件).
CREATE INDEX access_record_case_number ON access_record (case_number) WHERE case_number IS NOT NULL;
-- Time ranges: rows arrive in time order, so a BRIN index is nearly free to maintain.
CREATE INDEX access_record_at ON access_record USING brin (at);

-- The log is append-only: rows are never changed or removed.
CREATE FUNCTION access_record_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'access_record is append-only: % is not allowed', TG_OP USING ERRCODE = '55000';
END;
$$;
CREATE TRIGGER access_record_append_only BEFORE UPDATE OR DELETE ON access_record
  FOR EACH ROW EXECUTE FUNCTION access_record_append_only();
CREATE TRIGGER access_record_no_truncate BEFORE TRUNCATE ON access_record
  FOR EACH STATEMENT EXECUTE FUNCTION access_record_append_only();
