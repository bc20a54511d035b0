-- People of the web console (issue 16, console/accounts): their accounts, their sessions and the record of every
-- sign-in. A person acts for one department; a citizen acts through a service portal and the account keeps their
-- resident ID number sealed (AES-256-GCM under a key derived from the pseudonym key, `s<version>.<base64url>`) and
-- its blind index (one account per citizen), never in clear. Passwords are scrypt hashes; a session keeps the SHA-256
-- of its cookie secret, never the secret.

CREATE TABLE console_accounts (
  id               uuid PRIMARY KEY,
  -- What a local account signs in with, or the identity provider's subject claim for an OIDC account.
  login            text NOT NULL UNIQUE CHECK (login ~ '^[^[:space:][:cntrl:]]{1,200}$'),
  name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind             text NOT NULL CHECK (kind IN ('staff', 'citizen')),
  department       char(18) NOT NULL,
  source           text NOT NULL CHECK (source IN ('local', 'oidc')),
  subject_sealed   text CHECK (subject_sealed ~ '^s[1-9][0-9]{0,3}\.[A-Za-z0-9_-]{40,}$'),
  subject_index    text UNIQUE CHECK (subject_index ~ '^p[1-9][0-9]{0,3}\.[A-Za-z0-9_-]{43}$'),
  -- scrypt$<log2 N>$<r>$<p>$<salt>$<hash>, base64url; null for accounts of the identity provider.
  password_hash    text CHECK (password_hash ~ '^scrypt\$[0-9]+\$[0-9]+\$[0-9]+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$'),
  disabled         boolean NOT NULL DEFAULT false,
  failed_attempts  integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
  locked_until     timestamptz,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  CHECK ((kind = 'citizen') = (subject_sealed IS NOT NULL AND subject_index IS NOT NULL)),
  CHECK ((source = 'local') = (password_hash IS NOT NULL))
);

CREATE TABLE console_sessions (
  id            uuid PRIMARY KEY,
  -- SHA-256 of the cookie's secret: whoever reads this table cannot present the session.
  secret_hash   bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
  account_id    uuid NOT NULL REFERENCES console_accounts (id),
  csrf_token    text NOT NULL CHECK (length(csrf_token) >= 32),
  via           text NOT NULL CHECK (via IN ('local', 'oidc')),
  created_at    timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL,
  ended_at      timestamptz,
  ended_reason  text CHECK (ended_reason IN ('sign-out', 'idle', 'expired', 'password-reset', 'disabled')),
  ip            text,
  user_agent    text,
  CHECK ((ended_at IS NULL) = (ended_reason IS NULL))
);
CREATE INDEX console_sessions_open ON console_sessions (account_id) WHERE ended_at IS NULL;

-- Every sign-in, refusal, lockout, sign-out and expiry, append-only: who tried which login when.
CREATE TABLE console_sign_in_events (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL,
  event       text NOT NULL CHECK (event IN ('success', 'failure', 'lockout', 'sign-out', 'expiry')),
  -- The login as presented (an unknown one too), and the account when there is one.
  login       text NOT NULL,
  account_id  uuid REFERENCES console_accounts (id),
  session_id  uuid,
  via         text NOT NULL CHECK (via IN ('local', 'oidc')),
  reason      text,
  ip          text,
  user_agent  text
);
CREATE INDEX console_sign_in_events_account ON console_sign_in_events (account_id, id);

CREATE FUNCTION console_sign_in_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'console_sign_in_events is append-only: % is not allowed', TG_OP USING ERRCODE = '55000';
END;
$$;
CREATE TRIGGER console_sign_in_events_append_only BEFORE UPDATE OR DELETE ON console_sign_in_events
  FOR EACH ROW EXECUTE FUNCTION console_sign_in_events_append_only();
CREATE TRIGGER console_sign_in_events_no_truncate BEFORE TRUNCATE ON console_sign_in_events
  FOR EACH STATEMENT EXECUTE FUNCTION console_sign_in_events_append_only();

-- Sign-ins at the identity provider under way: the state (by its SHA-256), the PKCE verifier and the nonce, kept
-- here and taken once by the callback (deleted as it is read), so any instance can finish what another started.
CREATE TABLE console_oidc_flows (
  state_hash     bytea PRIMARY KEY CHECK (octet_length(state_hash) = 32),
  code_verifier  text NOT NULL,
  nonce          text NOT NULL,
  created_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL
);
CREATE INDEX console_oidc_flows_expiry ON console_oidc_flows (expires_at);
