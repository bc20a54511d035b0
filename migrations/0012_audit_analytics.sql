-- Analytics of the access log (效能分析) and what anomaly flags are computed from: a projection fed by the
-- access.recorded events (topic exchange.access-records, consumer group zhengtong.audit-analytics). Delivery is at
-- least once, so every record id applied is kept (audit_analytics_applied) and a record is aggregated only in the
-- statement that first inserts its id. Text keys use '' for "the record named none" so they can be part of a key.
-- Times: hour is the UTC hour start (China has one offset, +08:00, so it is also a local hour); day is the China
-- calendar date (Asia/Shanghai).

-- Record ids already aggregated. Pruned by record time (ZT_AUDIT_ANALYTICS_RETENTION_DAYS behind the newest record);
-- an event older than the horizon is then skipped, never counted twice.
CREATE TABLE audit_analytics_applied (
  record_id  uuid PRIMARY KEY,
  at         timestamptz NOT NULL
);
CREATE INDEX audit_analytics_applied_at ON audit_analytics_applied (at);

-- One row: the pruning horizon. Applying takes a share lock on it and pruning an exclusive one, so an id is never
-- removed while a redelivery of it is being applied.
CREATE TABLE audit_analytics_state (
  singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  pruned_before  timestamptz
);
INSERT INTO audit_analytics_state (singleton, pruned_before) VALUES (true, NULL);

-- Latency histogram: 48 log-scale buckets (see audit/analytics/histogram.ts), counted by an aggregate over bucket
-- indexes and added element by element when rows merge.
CREATE FUNCTION audit_analytics_count_bucket(state bigint[], bucket integer) RETURNS bigint[] LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF state IS NULL THEN
    state := array_fill(0::bigint, ARRAY[48]);
  END IF;
  state[bucket + 1] := state[bucket + 1] + 1;
  RETURN state;
END;
$$;
CREATE AGGREGATE audit_analytics_histogram(integer) (SFUNC = audit_analytics_count_bucket, STYPE = bigint[]);

CREATE FUNCTION audit_analytics_add_buckets(a bigint[], b bigint[]) RETURNS bigint[] LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a
    ELSE ARRAY(SELECT x + y FROM unnest(a, b) WITH ORDINALITY AS t(x, y, i) ORDER BY i) END
$$;
CREATE AGGREGATE audit_analytics_sum_buckets(bigint[]) (SFUNC = audit_analytics_add_buckets, STYPE = bigint[]);

-- Sample record ids: the earliest n (UUIDv7 ids sort by time), so samples do not depend on delivery order.
CREATE FUNCTION audit_analytics_samples(a uuid[], b uuid[], n integer) RETURNS uuid[] LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(ARRAY(SELECT DISTINCT x FROM unnest(coalesce(a, '{}') || coalesce(b, '{}')) AS t(x) ORDER BY x LIMIT n), '{}')
$$;

-- Per hour, requesting department, resource and decision: volumes, items, latency, and the two counts anomaly
-- flags start from. Reports sum these rows over a range.
CREATE TABLE audit_analytics_hourly (
  hour             timestamptz NOT NULL,
  requester        text NOT NULL,
  resource         text NOT NULL,
  decision         text NOT NULL CHECK (decision IN ('permit', 'deny', 'error')),
  requests         bigint NOT NULL,
  items_requested  bigint NOT NULL,
  items_returned   bigint NOT NULL,
  latency_ms_sum   double precision NOT NULL,
  latency_buckets  bigint[] NOT NULL,
  outside_hours    bigint NOT NULL,
  without_case     bigint NOT NULL,
  PRIMARY KEY (hour, requester, resource, decision)
);
CREATE INDEX audit_analytics_hourly_requester ON audit_analytics_hourly (requester, hour);

-- Per China day, department and operator (经办人): requests, distinct subjects read (permitted requests), accesses
-- outside working hours and without a case number, with the earliest sample ids of each.
CREATE TABLE audit_analytics_operator_day (
  day                   date NOT NULL,
  requester             text NOT NULL,
  operator              text NOT NULL,
  requests              bigint NOT NULL,
  subjects              bigint NOT NULL,
  outside_hours         bigint NOT NULL,
  without_case          bigint NOT NULL,
  first_at              timestamptz NOT NULL,
  last_at               timestamptz NOT NULL,
  outside_first_at      timestamptz,
  outside_last_at       timestamptz,
  samples               uuid[] NOT NULL,
  outside_samples       uuid[] NOT NULL,
  without_case_samples  uuid[] NOT NULL,
  PRIMARY KEY (day, requester, operator)
);

-- The distinct subjects behind audit_analytics_operator_day.subjects; prunable with the applied ids.
CREATE TABLE audit_analytics_operator_subject (
  day           date NOT NULL,
  requester     text NOT NULL,
  operator      text NOT NULL,
  subject_code  text NOT NULL,
  PRIMARY KEY (day, requester, operator, subject_code)
);

-- Per department and case number (办件编号): the service items (事项) it was used with, when first and last.
CREATE TABLE audit_analytics_case (
  requester     text NOT NULL,
  case_number   text NOT NULL,
  service_item  text NOT NULL,
  requests      bigint NOT NULL,
  first_at      timestamptz NOT NULL,
  last_at       timestamptz NOT NULL,
  samples       uuid[] NOT NULL,
  PRIMARY KEY (requester, case_number, service_item)
);
CREATE INDEX audit_analytics_case_first_at ON audit_analytics_case (first_at);

