-- The case record's first tables. Times are UTC ISO 8601 text, so that they
-- sort as text; columns named *_json hold JSON text.
CREATE TABLE episodes (
    episode_id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL,
    youth_id TEXT NOT NULL,
    officer_id TEXT NOT NULL,
    supervisor_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    started_at TEXT NOT NULL,
    report_json TEXT NOT NULL,
    settings_json TEXT NOT NULL,
    ended_at TEXT,
    final_state_json TEXT
);
CREATE INDEX episodes_case ON episodes (case_id);
CREATE TABLE chrono (
    id INTEGER PRIMARY KEY,
    case_id TEXT NOT NULL,
    episode_id TEXT NOT NULL REFERENCES episodes (episode_id),
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    step TEXT,
    item TEXT,
    state TEXT,
    detail_json TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE
);
CREATE INDEX chrono_episode ON chrono (episode_id, id);
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL,
    episode_id TEXT NOT NULL REFERENCES episodes (episode_id),
    step TEXT NOT NULL,
    item TEXT,
    officer_id TEXT NOT NULL,
    due TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX tasks_open ON tasks (officer_id, closed_at, due);
CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL,
    episode_id TEXT NOT NULL REFERENCES episodes (episode_id),
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    step TEXT,
    item TEXT,
    period INTEGER,
    due TEXT,
    at TEXT NOT NULL,
    sent_at TEXT
);
CREATE TABLE submissions (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL,
    episode_id TEXT NOT NULL REFERENCES episodes (episode_id),
    integration TEXT NOT NULL,
    step TEXT NOT NULL,
    item TEXT,
    reference TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    body_json TEXT NOT NULL
);
