-- Wrong passwords counted per login name (IdentityPolicy::login_max_failures
-- within login_window_seconds); a successful login deletes the row.
CREATE TABLE login_failures (
    login             TEXT PRIMARY KEY,
    failures          INT NOT NULL CHECK (failures >= 0),
    window_started_at TIMESTAMPTZ NOT NULL
);
