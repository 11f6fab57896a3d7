-- 0012: the domain event log (DESIGN §11), the outbox every later reader
-- (audit log, inventory logs, feeds, provider sends) is driven from.
-- Rows are appended in the batch of the command they describe and never
-- updated; seq is the write order (commit order per aggregate, whose rows
-- are written under the aggregate's own row lock or version guard).
CREATE TABLE domain_events (
    seq          BIGSERIAL PRIMARY KEY,
    id           BIGINT NOT NULL UNIQUE,
    at           TIMESTAMPTZ NOT NULL,
    actor_type   TEXT NOT NULL,
    actor_id     BIGINT,
    aggregate    TEXT NOT NULL,
    aggregate_id BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    payload      JSONB NOT NULL -- core's Event, tagged by "type" (= kind)
);
CREATE INDEX domain_events_aggregate ON domain_events (aggregate, aggregate_id, seq);
CREATE INDEX domain_events_at ON domain_events (at);
