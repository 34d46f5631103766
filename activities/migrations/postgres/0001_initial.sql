-- The case record's first tables, as sqlite/0001_initial.sql has them, in
-- PostgreSQL's own types: times are timestamptz and *_json columns jsonb.
-- postgres_record.py reads them back as the SQLite record stores them (UTC
-- ISO 8601 text, JSON text), so both records answer with the same rows.
CREATE TABLE episodes (
    episode_id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL,
    youth_id TEXT NOT NULL,
    officer_id TEXT NOT NULL,
    supervisor_id TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    report_json JSONB NOT NULL,
    settings_json JSONB NOT NULL,
    ended_at TIMESTAMPTZ,
    final_state_json JSONB
);
CREATE INDEX episodes_case ON episodes (case_id);
CREATE TABLE chrono (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id TEXT NOT NULL,
    episode_id TEXT NOT NULL REFERENCES episodes (episode_id),
    at TIMESTAMPTZ NOT NULL,
    event TEXT NOT NULL,
    step TEXT,
    item TEXT,
    state TEXT,
    detail_json JSONB NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE
);
CREATE INDEX chrono_episode ON chrono (episode_id, id);
CREATE TABLE tasks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL,
    episode_id TEXT NOT NULL REFERENCES episodes (episode_id),
    step TEXT NOT NULL,
    item TEXT,
    officer_id TEXT NOT NULL,
    due TIMESTAMPTZ NOT NULL,
    opened_at TIMESTAMPTZ NOT NULL,
    closed_at TIMESTAMPTZ
);
CREATE INDEX tasks_open ON tasks (officer_id, closed_at, due);
CREATE TABLE notices (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL,
    episode_id TEXT NOT NULL REFERENCES episodes (episode_id),
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    step TEXT,
    item TEXT,
    period INTEGER,
    due TIMESTAMPTZ,
    at TIMESTAMPTZ NOT NULL,
    sent_at TIMESTAMPTZ
);
CREATE TABLE submissions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL,
    episode_id TEXT NOT NULL REFERENCES episodes (episode_id),
    integration TEXT NOT NULL,
    step TEXT NOT NULL,
    item TEXT,
    reference TEXT NOT NULL,
    submitted_at TIMESTAMPTZ NOT NULL,
    body_json JSONB NOT NULL
);
