-- The tables of sqlite/0002_assessments_and_annual_reports.sql, in
-- PostgreSQL's own types: at-risk assessments (§1.C, §3.A) and the annual
-- State reports produced (§4.D).
CREATE TABLE at_risk_assessments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL,
    youth_id TEXT NOT NULL,
    assessed_at TIMESTAMPTZ NOT NULL,
    assessed_by TEXT,
    indicators_json JSONB NOT NULL,
    at_risk BOOLEAN NOT NULL
);
CREATE INDEX at_risk_assessments_youth ON at_risk_assessments (youth_id, assessed_at);
CREATE TABLE annual_reports (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    year INTEGER NOT NULL,
    recipient_id TEXT NOT NULL,
    produced_at TIMESTAMPTZ NOT NULL,
    report_json JSONB NOT NULL,
    sent_at TIMESTAMPTZ
);
CREATE INDEX episodes_received ON episodes (received_at);
CREATE INDEX episodes_open ON episodes (ended_at, case_id);
