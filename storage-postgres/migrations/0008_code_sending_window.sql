-- Forgot-password codes: at most N sends per phone per 24 hours
-- (IdentityPolicy::code_max_sends_per_day); the window and its count.
ALTER TABLE verification_codes
    ADD COLUMN window_started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD COLUMN sends_in_window INT NOT NULL DEFAULT 1 CHECK (sends_in_window >= 0);
