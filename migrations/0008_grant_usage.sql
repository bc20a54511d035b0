-- Daily use of grants that carry a quota (a supplier's approval terms: at most N calls a day), counted across every
-- gateway instance. One row per grant and China calendar day; a call is counted before any data is fetched.
CREATE TABLE grant_usage (
  demand_id  uuid NOT NULL REFERENCES demands (id),
  day        date NOT NULL,
  used       integer NOT NULL CHECK (used >= 0),
  PRIMARY KEY (demand_id, day)
);
