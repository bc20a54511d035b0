-- Departments (部门) of the city government: each one supplies and demands data through the exchange.
-- The unified social credit code (统一社会信用代码, GB 32100) identifies a department.
CREATE TABLE departments (
  uscc        char(18) PRIMARY KEY,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  short_name  text,
  area_code   char(6) NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Key/value facts about this installation (when demo data was seeded, and so on).
CREATE TABLE zt_installation (
  key         text PRIMARY KEY,
  value       jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Transactional outbox: an event is written in the same transaction as the change it reports, and a relay
-- publishes it to the event bus afterwards. A committed change therefore never loses its event, whatever
-- happens to the process between commit and publication.
CREATE TABLE zt_outbox (
  id          bigserial PRIMARY KEY,
  topic       text NOT NULL,
  event_key   text,
  value       bytea NOT NULL,
  headers     jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  attempts    integer NOT NULL DEFAULT 0,
  last_error  text
);
