-- 0003: identity (users, login sessions, forgot-password codes, address
-- books) and the idempotency keys of creating requests.
--
-- Conventions as in 0001/0002: ids are BIGINT from core's IdGen, never
-- sequences; times TIMESTAMPTZ; enums TEXT with a CHECK on the snake_case
-- names core's serde writes. The commerce tables keep taking user ids with
-- no users row behind them (no foreign key points at users from there).
--
-- PostgreSQL checks a row's unique indexes in the order they were created
-- and reports the first one violated; the store maps constraint names to the
-- field core reports, so the order below is the memory store's order: for
-- users the id, then username, phone, email, wechat_openid; for sessions the
-- token digests before the id (the primary key is added last on purpose).

CREATE TABLE users (
    id            BIGINT NOT NULL,
    username      TEXT NOT NULL,
    phone         TEXT,
    email         TEXT,
    wechat_openid TEXT,
    nickname      TEXT NOT NULL,
    avatar        TEXT,
    password_hash TEXT NOT NULL, -- PHC string; empty for WeChat-created accounts
    role          TEXT NOT NULL CHECK (role IN ('customer', 'merchant', 'admin')),
    merchant_id   BIGINT REFERENCES merchants (id),
    status        TEXT NOT NULL CHECK (status IN ('active', 'frozen')),
    created_at    TIMESTAMPTZ NOT NULL,
    version       BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_phone_key UNIQUE (phone),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_wechat_openid_key UNIQUE (wechat_openid)
);
CREATE INDEX users_merchant ON users (merchant_id) WHERE merchant_id IS NOT NULL;

CREATE TABLE sessions (
    id                 BIGINT NOT NULL,
    user_id            BIGINT NOT NULL REFERENCES users (id),
    access_digest      TEXT NOT NULL,
    refresh_digest     TEXT NOT NULL,
    access_expires_at  TIMESTAMPTZ NOT NULL,
    refresh_expires_at TIMESTAMPTZ NOT NULL,
    revoked            BOOLEAN NOT NULL DEFAULT false,
    created_at         TIMESTAMPTZ NOT NULL,
    CONSTRAINT sessions_access_digest_key UNIQUE (access_digest),
    CONSTRAINT sessions_refresh_digest_key UNIQUE (refresh_digest)
);
ALTER TABLE sessions ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);
CREATE INDEX sessions_user ON sessions (user_id);

-- One live code per phone (not tied to a users row: codes are sent to any
-- phone that asks, and a phone may change hands).
CREATE TABLE verification_codes (
    phone      TEXT PRIMARY KEY,
    digest     TEXT NOT NULL,
    sent_at    TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    attempts   INT NOT NULL DEFAULT 0 CHECK (attempts >= 0)
);

CREATE TABLE addresses (
    id          BIGINT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    receiver    TEXT NOT NULL,
    phone       TEXT NOT NULL,
    province    TEXT NOT NULL,
    city        TEXT NOT NULL,
    district    TEXT NOT NULL,
    detail      TEXT NOT NULL,
    postal_code TEXT,
    is_default  BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX addresses_user ON addresses (user_id, id);
-- At most one default address per user.
CREATE UNIQUE INDEX addresses_one_default ON addresses (user_id) WHERE is_default;

-- A key is started (status and body NULL) or finished (both set).
CREATE TABLE idempotency_keys (
    user_id     BIGINT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    status      INT CHECK (status BETWEEN 0 AND 65535),
    body        TEXT,
    PRIMARY KEY (user_id, key),
    CONSTRAINT idempotency_keys_response_whole CHECK ((status IS NULL) = (body IS NULL))
);

-- `coupons_of_template` (every claim of a template, by id) is served by
-- user_coupons_template from 0002; that index now also covers the ORDER BY.
DROP INDEX user_coupons_template;
CREATE INDEX user_coupons_template ON user_coupons (template_id, id);
