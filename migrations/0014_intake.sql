-- Application intake (受理): each case (办件编号) of an intake department belongs to one applicant and one service
-- item (事项). The first prefill opens it; a case number reused for another applicant or item is refused, so one
-- case's reads cannot be borrowed for someone else.
CREATE TABLE intake_cases (
  requester       char(18) NOT NULL,
  case_number     text NOT NULL CHECK (length(case_number) BETWEEN 1 AND 64),
  service_item    text NOT NULL,
  applicant_kind  text NOT NULL CHECK (applicant_kind IN ('person', 'organisation')),
  applicant_code  text NOT NULL,
  opened_at       timestamptz NOT NULL,
  PRIMARY KEY (requester, case_number)
);
CREATE INDEX intake_cases_applicant ON intake_cases (applicant_code, opened_at);
