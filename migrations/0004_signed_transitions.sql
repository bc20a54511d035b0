-- Signed transitions: each step of the demand procedure is signed by the acting department. The signed statement,
-- its envelope and the certificate it was verified with are kept, so anyone holding the CA certificate can check
-- the history again later. The key is SM3(signature ‖ SM3(statement)): a replayed signature repeats it and is
-- refused by the primary key. One statement may cover several transitions (an import of a whole demand list).
CREATE TABLE signed_statements (
  key                 char(64) PRIMARY KEY,
  kind                text NOT NULL CHECK (kind IN ('register', 'approve', 'refuse', 'withdraw', 'import')),
  actor_uscc          char(18) NOT NULL,
  statement           text NOT NULL,
  envelope            jsonb NOT NULL,
  certificate_sm3     char(64) NOT NULL,
  certificate_serial  text NOT NULL,
  signed_at           timestamptz NOT NULL,
  recorded_at         timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION signed_statements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'signed_statements is append-only: % is not allowed', TG_OP USING ERRCODE = '55000';
END;
$$;
CREATE TRIGGER signed_statements_append_only BEFORE UPDATE OR DELETE ON signed_statements
  FOR EACH ROW EXECUTE FUNCTION signed_statements_append_only();
CREATE TRIGGER signed_statements_no_truncate BEFORE TRUNCATE ON signed_statements
  FOR EACH STATEMENT EXECUTE FUNCTION signed_statements_append_only();

-- Null for steps taken by the platform itself (expiry) and for history recorded before signatures were required.
ALTER TABLE demand_transitions ADD COLUMN statement_key char(64) REFERENCES signed_statements (key);
CREATE INDEX demand_transitions_statement ON demand_transitions (statement_key) WHERE statement_key IS NOT NULL;
