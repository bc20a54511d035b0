-- Roles in the registry (issue 15): the platform administrator grants and withdraws the administrator, supervisor
-- and portal roles with signed requests, kept in the append-only signed history (signed_statements) so anyone with
-- the CA certificate can check who granted what. The first administrator, and the departments named by the older
-- ZT_AUDIT_SUPERVISORS / ZT_AUDIT_PORTALS settings, are bootstrapped from configuration once, without a statement.
ALTER TABLE signed_statements DROP CONSTRAINT signed_statements_kind_check;
ALTER TABLE signed_statements ADD CONSTRAINT signed_statements_kind_check
  CHECK (kind IN ('register', 'approve', 'refuse', 'withdraw', 'import', 'licence-type', 'licence-issue', 'licence-revoke', 'licence-suspend',
                  'licence-resume', 'licence-change', 'licence-renew', 'role-grant', 'role-withdraw'));

CREATE TABLE role_changes (
  id              bigserial PRIMARY KEY,
  role            text NOT NULL CHECK (role IN ('administrator', 'supervisor', 'portal')),
  department      char(18) NOT NULL,
  action          text NOT NULL CHECK (action IN ('grant', 'withdraw')),
  at              timestamptz NOT NULL DEFAULT now(),
  -- The administrator who signed the change, or null for a bootstrap from configuration (source says which).
  by_department   char(18),
  source          text NOT NULL,
  reason          text,
  statement_key   char(64) REFERENCES signed_statements (key),
  CHECK ((by_department IS NULL) = (statement_key IS NULL))
);
CREATE INDEX role_changes_department ON role_changes (department, role, id);

CREATE FUNCTION role_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'role_changes is append-only: % is not allowed', TG_OP USING ERRCODE = '55000';
END;
$$;
CREATE TRIGGER role_changes_append_only BEFORE UPDATE OR DELETE ON role_changes
  FOR EACH ROW EXECUTE FUNCTION role_changes_append_only();
CREATE TRIGGER role_changes_no_truncate BEFORE TRUNCATE ON role_changes
  FOR EACH STATEMENT EXECUTE FUNCTION role_changes_append_only();
