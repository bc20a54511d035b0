-- The web console (issue 16): people signed in act for a department, and every console action is recorded with the
-- person and the department. Reads of the access log through the console go to audit_queries like signed ones, with
-- the reader's account and session in place of the request's digest and certificate (protocol 'console'); every
-- console call, read or step, goes to console_actions, append-only. Neither holds an identifier in clear.
ALTER TABLE audit_queries ADD COLUMN console_account uuid;
ALTER TABLE audit_queries ADD COLUMN console_session text;
ALTER TABLE audit_queries DROP CONSTRAINT audit_queries_protocol_check;
ALTER TABLE audit_queries ADD CONSTRAINT audit_queries_protocol_check CHECK (protocol IN ('http', 'grpc', 'console'));
-- A signed query names its request and certificate; a console query names the person's account and session.
ALTER TABLE audit_queries ADD CONSTRAINT audit_queries_console_reader
  CHECK (protocol <> 'console' OR (console_account IS NOT NULL AND console_session IS NOT NULL));

CREATE TABLE console_actions (
  seq           bigserial PRIMARY KEY,
  at            timestamptz NOT NULL,
  account_id    uuid NOT NULL,
  login         text NOT NULL,
  department    char(18) NOT NULL,
  session_id    text NOT NULL,
  -- What was done: the console route's name (e.g. audit.search, demand.approve).
  action        text NOT NULL CHECK (action ~ '^[a-z][a-z0-9.-]{1,63}$'),
  -- What it was done to (a record, demand or resource id, a path); never an identifier in clear.
  target        text,
  outcome       text NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
  status        smallint NOT NULL,
  error_code    text CHECK (error_code ~ '^ZT_ERR_[A-Z0-9_]+$')
);
CREATE INDEX console_actions_account_at ON console_actions (account_id, at);
CREATE INDEX console_actions_department_at ON console_actions (department, at);

CREATE FUNCTION console_actions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'console_actions is append-only: % is not allowed', TG_OP USING ERRCODE = '55000';
END;
$$;
CREATE TRIGGER console_actions_append_only BEFORE UPDATE OR DELETE ON console_actions
  FOR EACH ROW EXECUTE FUNCTION console_actions_append_only();
CREATE TRIGGER console_actions_no_truncate BEFORE TRUNCATE ON console_actions
  FOR EACH STATEMENT EXECUTE FUNCTION console_actions_append_only();
