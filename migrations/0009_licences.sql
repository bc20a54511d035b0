-- The e-licence registry (电子证照库). Licence types say who defines a kind of licence, what its holder is, which
-- fields it has and which departments may issue it. Each licence version is one row, keyed by its GB/T 36904
-- identifier; the signed canonical document travels with it (document = the exact bytes signed, envelope = the
-- registry's signature over them). A change or renewal adds a new version and marks the old one superseded.
CREATE TABLE licence_types (
  code                     text PRIMARY KEY CHECK (code ~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}[0-9]{3}$'),
  name                     text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  defining_authority_code  char(18) NOT NULL,
  defining_authority_name  text NOT NULL,
  holder_kind              text NOT NULL CHECK (holder_kind IN ('person', 'organisation')),
  fields                   jsonb NOT NULL,
  -- USCCs of the departments that may issue, change and revoke licences of this type.
  issuers                  text[] NOT NULL,
  -- Default validity when an issue names no end date; null: 长期 (no end).
  validity_years           integer CHECK (validity_years BETWEEN 1 AND 100),
  created_at               timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT licence_types_code_of_authority CHECK (left(code, 18) = defining_authority_code)
);

-- Per issuer, bitstring status lists (W3C Bitstring Status List, 2 bits per licence). A licence's index is
-- perm(key, n) for the n-th licence of the list, a keyed permutation, so indexes are unguessable and never collide.
CREATE TABLE licence_status_lists (
  issuer_code   text NOT NULL,
  list_no       integer NOT NULL CHECK (list_no >= 1),
  size          integer NOT NULL CHECK (size >= 131072),
  perm_key      bytea NOT NULL CHECK (octet_length(perm_key) = 32),
  -- How many indexes have been handed out.
  allocated     integer NOT NULL DEFAULT 0,
  -- Bumped by every status change of a licence on this list, so a served list names the state it shows.
  revision      bigint NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (issuer_code, list_no),
  CONSTRAINT licence_status_lists_not_over CHECK (allocated <= size)
);

CREATE TABLE licences (
  identifier        text PRIMARY KEY,
  type_code         text NOT NULL REFERENCES licence_types (code),
  issuer_code       text NOT NULL,
  serial            text NOT NULL,
  version           integer NOT NULL CHECK (version BETWEEN 1 AND 999),
  licence_number    text NOT NULL CHECK (length(licence_number) BETWEEN 1 AND 64),
  holder_code       text NOT NULL,
  holder_code_type  text NOT NULL CHECK (holder_code_type IN ('111', '001')),
  holder_name       text NOT NULL,
  status            text NOT NULL CHECK (status IN ('active', 'suspended', 'revoked', 'superseded')),
  valid_from        date NOT NULL,
  valid_to          date,
  -- The canonical JSON the registry signed, byte for byte, and its SM3.
  document          bytea NOT NULL,
  document_sm3      bytea NOT NULL CHECK (octet_length(document_sm3) = 32),
  envelope          jsonb NOT NULL,
  list_no           integer NOT NULL,
  status_index      integer NOT NULL,
  supersedes        text REFERENCES licences (identifier),
  superseded_by     text REFERENCES licences (identifier),
  -- 'issued' online, or 'converted' from the stock of paper licences (存量证照转化).
  source            text NOT NULL CHECK (source IN ('issued', 'converted')),
  -- Notes about the licence, e.g. 'non-standard-check' for an identifier from another region.
  flags             text[] NOT NULL DEFAULT '{}',
  issued_at         timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (type_code, licence_number, version),
  UNIQUE (issuer_code, list_no, status_index),
  FOREIGN KEY (issuer_code, list_no) REFERENCES licence_status_lists (issuer_code, list_no)
);
CREATE INDEX licences_holder ON licences (holder_code, holder_code_type, type_code);
-- The status list of one issuer is rebuilt from the licences that are not active.
CREATE INDEX licences_list_not_active ON licences (issuer_code, list_no) WHERE status <> 'active';

-- Every lifecycle step, signed by the department that took it (the signature is kept in signed_statements) or by
-- the platform (stock conversion). Append-only.
CREATE TABLE licence_transitions (
  seq            bigserial PRIMARY KEY,
  identifier     text NOT NULL REFERENCES licences (identifier),
  kind           text NOT NULL CHECK (kind IN ('issue', 'convert', 'revoke', 'suspend', 'resume', 'change', 'renew')),
  actor_uscc     text NOT NULL,
  reason         text,
  from_status    text,
  to_status      text NOT NULL,
  statement_key  char(64) REFERENCES signed_statements (key),
  at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX licence_transitions_identifier ON licence_transitions (identifier, seq);

CREATE FUNCTION licence_transitions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'licence_transitions is append-only: % is not allowed', TG_OP USING ERRCODE = '55000';
END;
$$;
CREATE TRIGGER licence_transitions_append_only BEFORE UPDATE OR DELETE ON licence_transitions
  FOR EACH ROW EXECUTE FUNCTION licence_transitions_append_only();

-- Licence steps are signed statements too, and share the replay guard of the demand procedure.
ALTER TABLE signed_statements DROP CONSTRAINT signed_statements_kind_check;
ALTER TABLE signed_statements ADD CONSTRAINT signed_statements_kind_check
  CHECK (kind IN ('register', 'approve', 'refuse', 'withdraw', 'import', 'licence-type', 'licence-issue', 'licence-revoke', 'licence-suspend', 'licence-resume', 'licence-change', 'licence-renew'));

-- Stock conversion runs (存量证照转化): progress is committed with each batch, so a run resumes after a crash.
CREATE TABLE licence_conversions (
  id             uuid PRIMARY KEY,
  source_name    text NOT NULL,
  source_sm3     char(64) NOT NULL,
  type_code      text NOT NULL REFERENCES licence_types (code),
  rows_done      bigint NOT NULL DEFAULT 0,
  accepted       bigint NOT NULL DEFAULT 0,
  skipped        bigint NOT NULL DEFAULT 0,
  rejected       bigint NOT NULL DEFAULT 0,
  started_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz,
  UNIQUE (source_sm3, type_code)
);
