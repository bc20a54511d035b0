-- The data catalogue (数据目录). Supply-list entries (供给清单): data resources with their data items, each
-- resource in one sharing class; a not-shared (不予共享) one must carry its legal basis.
CREATE TABLE data_resources (
  code           text PRIMARY KEY CHECK (code ~ '^[A-Z0-9][A-Z0-9._-]{1,63}$'),
  name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  provider_uscc  char(18) NOT NULL REFERENCES departments (uscc),
  sharing_class  text NOT NULL CHECK (sharing_class IN ('unconditional', 'conditional', 'not-shared')),
  legal_basis    jsonb,
  update_cycle   text NOT NULL CHECK (update_cycle IN ('realtime', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'irregular')),
  connector      jsonb NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT data_resources_legal_basis_iff_not_shared CHECK ((sharing_class = 'not-shared') = (legal_basis IS NOT NULL))
);
CREATE INDEX data_resources_provider ON data_resources (provider_uscc, code);

CREATE TABLE data_items (
  resource_code  text NOT NULL REFERENCES data_resources (code) ON DELETE CASCADE,
  code           text NOT NULL CHECK (code ~ '^[A-Za-z][A-Za-z0-9_]{0,63}$'),
  -- Order of the items as published.
  position       integer NOT NULL,
  name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  type           text NOT NULL CHECK (type IN ('string', 'integer', 'decimal', 'boolean', 'date', 'datetime', 'binary')),
  sensitivity    text NOT NULL CHECK (sensitivity IN ('public', 'internal', 'sensitive', 'restricted')),
  categories     text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (resource_code, code)
);

-- Demand lists (需求清单): what a department needs, for which service item (事项), on what basis, and where its
-- application stands. reply_due is the supplier's deadline in working days; overdue is computed from it.
CREATE TABLE demands (
  id                     uuid PRIMARY KEY,
  requester_uscc         char(18) NOT NULL REFERENCES departments (uscc),
  resource_code          text NOT NULL REFERENCES data_resources (code),
  items                  text[] NOT NULL CHECK (cardinality(items) > 0),
  service_item           text NOT NULL,
  legal_basis            jsonb NOT NULL,
  expected_daily_volume  integer NOT NULL CHECK (expected_daily_volume >= 0),
  valid_from             date NOT NULL,
  valid_to               date NOT NULL,
  state                  text NOT NULL CHECK (state IN ('granted', 'pending', 'approved', 'refused', 'withdrawn', 'expired')),
  reply_due              date,
  terms                  jsonb,
  refusal                jsonb,
  created_at             timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT demands_validity CHECK (valid_from <= valid_to),
  CONSTRAINT demands_refusal_iff_refused CHECK ((state = 'refused') = (refusal IS NOT NULL)),
  CONSTRAINT demands_pending_has_deadline CHECK (state <> 'pending' OR reply_due IS NOT NULL)
);
CREATE INDEX demands_requester ON demands (requester_uscc, id);
CREATE INDEX demands_resource ON demands (resource_code, id);
CREATE INDEX demands_pending_reply_due ON demands (reply_due) WHERE state = 'pending';

-- Every transition of every demand, in order: who moved it from which state to which, when, with what detail.
CREATE TABLE demand_transitions (
  demand_id   uuid NOT NULL REFERENCES demands (id),
  seq         integer NOT NULL CHECK (seq >= 1),
  from_state  text,
  to_state    text NOT NULL,
  actor_uscc  char(18),
  at          timestamptz NOT NULL DEFAULT now(),
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (demand_id, seq)
);

-- The history is append-only: rows are never changed or removed.
CREATE FUNCTION demand_transitions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'demand_transitions is append-only: % is not allowed', TG_OP USING ERRCODE = '55000';
END;
$$;
CREATE TRIGGER demand_transitions_append_only BEFORE UPDATE OR DELETE ON demand_transitions
  FOR EACH ROW EXECUTE FUNCTION demand_transitions_append_only();
CREATE TRIGGER demand_transitions_no_truncate BEFORE TRUNCATE ON demand_transitions
  FOR EACH STATEMENT EXECUTE FUNCTION demand_transitions_append_only();
