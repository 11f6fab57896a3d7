-- The retention sweep deletes idempotency keys claimed before a cut-off.
CREATE INDEX idempotency_keys_started ON idempotency_keys (started_at);
