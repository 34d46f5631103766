-- At-risk assessments made at intake or later (§1.C, §3.A), and the annual
-- State reports produced (§4.D). at_risk is the rule's answer when the
-- assessment was recorded (1 or 0); indicators_json the indicators seen.
CREATE TABLE at_risk_assessments (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL,
    youth_id TEXT NOT NULL,
    assessed_at TEXT NOT NULL,
    assessed_by TEXT,
    indicators_json TEXT NOT NULL,
    at_risk BOOLEAN NOT NULL
);
CREATE INDEX at_risk_assessments_youth ON at_risk_assessments (youth_id, assessed_at);
CREATE TABLE annual_reports (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    year INTEGER NOT NULL,
    recipient_id TEXT NOT NULL,
    produced_at TEXT NOT NULL,
    report_json TEXT NOT NULL,
    sent_at TEXT
);
-- The annual report and the overview read episodes by when they were
-- received, and the open ones.
CREATE INDEX episodes_received ON episodes (received_at);
CREATE INDEX episodes_open ON episodes (ended_at, case_id);
