//! Identity (users, sessions, codes, addresses) and idempotency keys on
//! PostgreSQL, mirroring the memory store's `identity` module.
//!
//! Every call is one statement or one short transaction at `READ COMMITTED`:
//!
//! - unique logins and token digests are unique constraints; a violation is
//!   mapped by the constraint's name to [`GuardFailure::Taken`] (or
//!   [`GuardFailure::AlreadyExists`] for a primary key);
//! - users: `UPDATE … WHERE id = $1 AND version = $v` (setting `version = v + 1`);
//! - a session is revoked by `UPDATE … WHERE id = $1 AND NOT revoked`, so
//!   only one caller sees `true`;
//! - an address is upserted `ON CONFLICT (id) DO UPDATE … WHERE` the row is
//!   the same user's; a default one first locks the user's row (so default
//!   changes of one user take turns) and clears the user's other defaults,
//!   in the same transaction;
//! - an idempotency key is claimed by `INSERT … ON CONFLICT DO NOTHING`, and
//!   when the key exists its row is locked `FOR UPDATE` and decided in Rust.
//!
//! Serialization failures and deadlocks re-run the call, like a batch.

use std::future::Future;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mallkit_core::event::DomainEvent;
use mallkit_core::identity::{Address, LoginFailures, Session, User, UserFilter, VerificationCode};
use mallkit_core::ids::{AddressId, MerchantId, SessionId, UserId};
use mallkit_core::page::{Page, PageRequest};
use mallkit_core::storage::{
    GuardFailure, IdempotencyClaim, IdempotencyStore, IdentityStore, StoreError, StoredResponse,
};
use sqlx::Postgres;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;

use crate::codec::{backend, get, i32_of, i64_of, id_of, name, parse, u32_of};
use crate::paging::{Arg, List, Where, page_rows};
use crate::writes::{Stop, Tx, retryable};
use crate::{MAX_ATTEMPTS, PgStore, backoff};

// ---- errors ----

/// The constraint a unique violation hit, if `e` is one.
fn unique_violation(e: &sqlx::Error) -> Option<String> {
    let d = e.as_database_error()?;
    d.is_unique_violation().then(|| d.constraint().unwrap_or_default().to_owned())
}

/// The constraint a foreign-key violation hit, if `e` is one.
fn foreign_key_violation(e: &sqlx::Error) -> Option<String> {
    let d = e.as_database_error()?;
    d.is_foreign_key_violation().then(|| d.constraint().unwrap_or_default().to_owned())
}

/// A failed write of `user` as the guard it stands for.
fn user_write_error(e: sqlx::Error, user: &User) -> Stop {
    let field = match unique_violation(&e).as_deref() {
        Some("users_pkey") => return GuardFailure::AlreadyExists { entity: "user", id: user.id.0 }.into(),
        Some("users_username_key") => "username",
        Some("users_phone_key") => "phone",
        Some("users_email_key") => "email",
        Some("users_wechat_openid_key") => "wechat_openid",
        _ => {
            if let (Some("users_merchant_id_fkey"), Some(m)) = (foreign_key_violation(&e).as_deref(), user.merchant) {
                return GuardFailure::NotFound { entity: "merchant", id: m.0 }.into();
            }
            return Stop::Db(e);
        }
    };
    GuardFailure::Taken { field }.into()
}

/// A failed write of a row that names `user` (a session or an address),
/// when the user does not exist, as [`GuardFailure::NotFound`].
fn owner_missing(e: sqlx::Error, constraint: &str, user: UserId) -> Stop {
    if foreign_key_violation(&e).as_deref() == Some(constraint) {
        return GuardFailure::NotFound { entity: "user", id: user.0 }.into();
    }
    Stop::Db(e)
}

/// Appends an identity write's `events` in its transaction and commits both.
async fn with_events(mut tx: Tx, events: &[DomainEvent]) -> Result<(), Stop> {
    let events: Vec<&DomainEvent> = events.iter().collect();
    crate::events::append(&mut tx, &events).await?;
    tx.commit().await?;
    Ok(())
}

impl PgStore {
    /// Runs `call` until it succeeds, a guard refuses, or it fails with
    /// something other than a serialization failure or a deadlock; at most
    /// [`MAX_ATTEMPTS`] runs.
    async fn retrying<T, F, Fut>(&self, mut call: F) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut + Send,
        Fut: Future<Output = Result<T, Stop>> + Send,
        T: Send,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match call().await {
                Ok(v) => return Ok(v),
                Err(Stop::Guard(g)) => return Err(StoreError::Guard(g)),
                Err(Stop::Other(e)) => return Err(e),
                Err(Stop::Db(e)) if retryable(&e) && attempt < MAX_ATTEMPTS => {
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(Stop::Db(e)) => return Err(backend(e)),
            }
        }
    }

    /// The users `sql` (one text `$1`) finds, mapped; the first by id.
    async fn user_where(&self, sql: &'static str, key: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(sql).bind(key).fetch_optional(self.pool()).await.map_err(backend)?;
        row.as_ref().map(user).transpose()
    }

    /// The session `sql` (one text `$1`) finds.
    async fn session_where(&self, sql: &'static str, key: &str) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(sql).bind(key).fetch_optional(self.pool()).await.map_err(backend)?;
        row.as_ref().map(session).transpose()
    }
}

// ---- rows ----

fn user(r: &PgRow) -> Result<User, StoreError> {
    Ok(User {
        id: UserId(id_of(get(r, "id")?)),
        username: get(r, "username")?,
        phone: get(r, "phone")?,
        email: get(r, "email")?,
        nickname: get(r, "nickname")?,
        avatar: get(r, "avatar")?,
        wechat_openid: get(r, "wechat_openid")?,
        password_hash: get(r, "password_hash")?,
        role: parse(get(r, "role")?)?,
        merchant: get::<Option<i64>>(r, "merchant_id")?.map(|m| MerchantId(id_of(m))),
        status: parse(get(r, "status")?)?,
        created_at: get(r, "created_at")?,
        version: id_of(get(r, "version")?),
    })
}

fn session(r: &PgRow) -> Result<Session, StoreError> {
    Ok(Session {
        id: SessionId(id_of(get(r, "id")?)),
        user: UserId(id_of(get(r, "user_id")?)),
        access_digest: get(r, "access_digest")?,
        refresh_digest: get(r, "refresh_digest")?,
        access_expires_at: get(r, "access_expires_at")?,
        refresh_expires_at: get(r, "refresh_expires_at")?,
        revoked: get(r, "revoked")?,
        created_at: get(r, "created_at")?,
    })
}

fn code(r: &PgRow) -> Result<VerificationCode, StoreError> {
    Ok(VerificationCode {
        phone: get(r, "phone")?,
        digest: get(r, "digest")?,
        sent_at: get(r, "sent_at")?,
        expires_at: get(r, "expires_at")?,
        attempts: u32_of(get(r, "attempts")?)?,
        window_started_at: get(r, "window_started_at")?,
        sends_in_window: u32_of(get(r, "sends_in_window")?)?,
    })
}

fn login_failures(r: &PgRow) -> Result<LoginFailures, StoreError> {
    Ok(LoginFailures { failures: u32_of(get(r, "failures")?)?, window_started_at: get(r, "window_started_at")? })
}

fn address(r: &PgRow) -> Result<Address, StoreError> {
    Ok(Address {
        id: AddressId(id_of(get(r, "id")?)),
        user: UserId(id_of(get(r, "user_id")?)),
        receiver: get(r, "receiver")?,
        phone: get(r, "phone")?,
        province: get(r, "province")?,
        city: get(r, "city")?,
        district: get(r, "district")?,
        detail: get(r, "detail")?,
        postal_code: get(r, "postal_code")?,
        is_default: get(r, "is_default")?,
    })
}

// ---- one run of each write ----

/// Binds a user's columns from `username` to `created_at`, in table order,
/// after whatever the statement bound before them.
fn bind_user<'q>(
    query: Query<'q, Postgres, PgArguments>,
    u: &'q User,
) -> Result<Query<'q, Postgres, PgArguments>, Stop> {
    Ok(query
        .bind(&u.username)
        .bind(&u.phone)
        .bind(&u.email)
        .bind(&u.wechat_openid)
        .bind(&u.nickname)
        .bind(&u.avatar)
        .bind(&u.password_hash)
        .bind(name(&u.role)?)
        .bind(u.merchant.map(|m| i64_of(m.0)))
        .bind(name(&u.status)?)
        .bind(u.created_at))
}

impl PgStore {
    async fn insert_user_once(&self, u: &User, events: &[DomainEvent]) -> Result<(), Stop> {
        let mut tx = self.pool().begin().await?;
        let insert = sqlx::query(
            "INSERT INTO users (id, username, phone, email, wechat_openid, nickname, avatar, password_hash, role,
                 merchant_id, status, created_at, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0)",
        )
        .bind(i64_of(u.id.0));
        bind_user(insert, u)?.execute(&mut *tx).await.map_err(|e| user_write_error(e, u))?;
        with_events(tx, events).await
    }

    async fn update_user_once(&self, u: &User, events: &[DomainEvent]) -> Result<(), Stop> {
        let mut tx = self.pool().begin().await?;
        let update = sqlx::query(
            "UPDATE users SET username = $3, phone = $4, email = $5, wechat_openid = $6, nickname = $7, avatar = $8,
                 password_hash = $9, role = $10, merchant_id = $11, status = $12, created_at = $13,
                 version = version + 1
             WHERE id = $1 AND version = $2",
        )
        .bind(i64_of(u.id.0))
        .bind(i64_of(u.version));
        let done = bind_user(update, u)?.execute(&mut *tx).await.map_err(|e| user_write_error(e, u))?;
        if done.rows_affected() == 1 {
            return with_events(tx, events).await;
        }
        let exists = sqlx::query("SELECT 1 FROM users WHERE id = $1")
            .bind(i64_of(u.id.0))
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        let (entity, id) = ("user", u.id.0);
        Err(if exists { GuardFailure::VersionConflict { entity, id } } else { GuardFailure::NotFound { entity, id } }
            .into())
    }

    async fn insert_session_once(&self, s: &Session, events: &[DomainEvent]) -> Result<(), Stop> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO sessions (id, user_id, access_digest, refresh_digest, access_expires_at, refresh_expires_at,
                 revoked, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(i64_of(s.id.0))
        .bind(i64_of(s.user.0))
        .bind(&s.access_digest)
        .bind(&s.refresh_digest)
        .bind(s.access_expires_at)
        .bind(s.refresh_expires_at)
        .bind(s.revoked)
        .bind(s.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| match unique_violation(&e).as_deref() {
            Some("sessions_access_digest_key" | "sessions_refresh_digest_key") => {
                GuardFailure::Taken { field: "token" }.into()
            }
            Some("sessions_pkey") => GuardFailure::AlreadyExists { entity: "session", id: s.id.0 }.into(),
            _ => owner_missing(e, "sessions_user_id_fkey", s.user),
        })?;
        with_events(tx, events).await
    }

    async fn put_address_once(&self, a: &Address) -> Result<(), Stop> {
        let mut tx = self.pool().begin().await?;
        if a.is_default {
            // One default-setting call per user at a time: the second waits
            // here and then sees (and clears) the first one's default.
            sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE")
                .bind(i64_of(a.user.0))
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE addresses SET is_default = false WHERE user_id = $1 AND id <> $2 AND is_default")
                .bind(i64_of(a.user.0))
                .bind(i64_of(a.id.0))
                .execute(&mut *tx)
                .await?;
        }
        // The id of another user's address is left alone (nothing upserted).
        let done = sqlx::query(
            "INSERT INTO addresses (id, user_id, receiver, phone, province, city, district, detail, postal_code,
                 is_default)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (id) DO UPDATE SET receiver = $3, phone = $4, province = $5, city = $6, district = $7,
                 detail = $8, postal_code = $9, is_default = $10
             WHERE addresses.user_id = $2",
        )
        .bind(i64_of(a.id.0))
        .bind(i64_of(a.user.0))
        .bind(&a.receiver)
        .bind(&a.phone)
        .bind(&a.province)
        .bind(&a.city)
        .bind(&a.district)
        .bind(&a.detail)
        .bind(&a.postal_code)
        .bind(a.is_default)
        .execute(&mut *tx)
        .await
        .map_err(|e| owner_missing(e, "addresses_user_id_fkey", a.user))?;
        if done.rows_affected() == 0 {
            let _ = tx.rollback().await;
            return Err(GuardFailure::NotFound { entity: "address", id: a.id.0 }.into());
        }
        tx.commit().await?;
        Ok(())
    }

    /// One claim; `None` when the key was released between the insert that
    /// found it and the lock (the caller claims again).
    async fn claim_once(
        &self,
        user: UserId,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        stale_after: DateTime<Utc>,
    ) -> Result<Option<IdempotencyClaim>, Stop> {
        let mut tx = self.pool().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (user_id, key, fingerprint, started_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, key) DO NOTHING",
        )
        .bind(i64_of(user.0))
        .bind(key)
        .bind(fingerprint)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 1 {
            tx.commit().await?;
            return Ok(Some(IdempotencyClaim::Started));
        }
        let row = sqlx::query(
            "SELECT fingerprint, started_at, status, body FROM idempotency_keys
             WHERE user_id = $1 AND key = $2 FOR UPDATE",
        )
        .bind(i64_of(user.0))
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            let _ = tx.rollback().await;
            return Ok(None);
        };
        let stored: String = get(&row, "fingerprint")?;
        let started_at: DateTime<Utc> = get(&row, "started_at")?;
        let status: Option<i32> = get(&row, "status")?;
        let body: Option<String> = get(&row, "body")?;
        let claim = if stored != fingerprint {
            IdempotencyClaim::Mismatch
        } else if let (Some(status), Some(body)) = (status, body) {
            IdempotencyClaim::Replay(StoredResponse { status: u16::try_from(status).map_err(backend)?, body })
        } else if started_at <= stale_after {
            sqlx::query("UPDATE idempotency_keys SET started_at = $3 WHERE user_id = $1 AND key = $2")
                .bind(i64_of(user.0))
                .bind(key)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            IdempotencyClaim::Started
        } else {
            IdempotencyClaim::InProgress
        };
        tx.commit().await?;
        Ok(Some(claim))
    }
}

#[async_trait]
impl IdentityStore for PgStore {
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let row = sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(i64_of(id.0))
            .fetch_optional(self.pool())
            .await
            .map_err(backend)?;
        row.as_ref().map(user).transpose()
    }

    async fn user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
        // One user's username may be another's phone: the first by id, as in memory.
        self.user_where(
            "SELECT * FROM users WHERE username = $1 OR phone = $1 OR email = $1 ORDER BY id LIMIT 1",
            login,
        )
        .await
    }

    async fn user_by_wechat(&self, openid: &str) -> Result<Option<User>, StoreError> {
        self.user_where("SELECT * FROM users WHERE wechat_openid = $1", openid).await
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query("SELECT * FROM users ORDER BY id").fetch_all(self.pool()).await.map_err(backend)?;
        rows.iter().map(user).collect()
    }

    async fn insert_user(&self, user: User, events: &[DomainEvent]) -> Result<(), StoreError> {
        self.retrying(|| self.insert_user_once(&user, events)).await
    }

    async fn update_user(&self, user: User, events: &[DomainEvent]) -> Result<(), StoreError> {
        self.retrying(|| self.update_user_once(&user, events)).await
    }

    async fn insert_session(&self, session: Session, events: &[DomainEvent]) -> Result<(), StoreError> {
        self.retrying(|| self.insert_session_once(&session, events)).await
    }

    async fn session_by_access(&self, digest: &str) -> Result<Option<Session>, StoreError> {
        self.session_where("SELECT * FROM sessions WHERE access_digest = $1", digest).await
    }

    async fn session_by_refresh(&self, digest: &str) -> Result<Option<Session>, StoreError> {
        self.session_where("SELECT * FROM sessions WHERE refresh_digest = $1", digest).await
    }

    async fn revoke_session(&self, id: SessionId) -> Result<bool, StoreError> {
        self.retrying(|| async move {
            let done = sqlx::query("UPDATE sessions SET revoked = true WHERE id = $1 AND NOT revoked")
                .bind(i64_of(id.0))
                .execute(self.pool())
                .await?;
            Ok(done.rows_affected() == 1)
        })
        .await
    }

    async fn revoke_sessions_of(&self, user: UserId) -> Result<(), StoreError> {
        self.retrying(|| async move {
            sqlx::query("UPDATE sessions SET revoked = true WHERE user_id = $1 AND NOT revoked")
                .bind(i64_of(user.0))
                .execute(self.pool())
                .await?;
            Ok(())
        })
        .await
    }

    async fn verification_code(&self, phone: &str) -> Result<Option<VerificationCode>, StoreError> {
        let row = sqlx::query("SELECT * FROM verification_codes WHERE phone = $1")
            .bind(phone)
            .fetch_optional(self.pool())
            .await
            .map_err(backend)?;
        row.as_ref().map(code).transpose()
    }

    async fn use_code_attempt(&self, phone: &str, max: u32) -> Result<Option<VerificationCode>, StoreError> {
        let row = sqlx::query(
            "UPDATE verification_codes SET attempts = attempts + 1 WHERE phone = $1 AND attempts < $2 RETURNING *",
        )
        .bind(phone)
        .bind(i32_of(max)?)
        .fetch_optional(self.pool())
        .await
        .map_err(backend)?;
        row.as_ref().map(code).transpose()
    }

    async fn put_verification_code(&self, code: VerificationCode) -> Result<(), StoreError> {
        let attempts = i32_of(code.attempts)?;
        let sends = i32_of(code.sends_in_window)?;
        self.retrying(|| async {
            sqlx::query(
                "INSERT INTO verification_codes (phone, digest, sent_at, expires_at, attempts, window_started_at,
                     sends_in_window)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (phone) DO UPDATE SET digest = $2, sent_at = $3, expires_at = $4, attempts = $5,
                     window_started_at = $6, sends_in_window = $7",
            )
            .bind(&code.phone)
            .bind(&code.digest)
            .bind(code.sent_at)
            .bind(code.expires_at)
            .bind(attempts)
            .bind(code.window_started_at)
            .bind(sends)
            .execute(self.pool())
            .await?;
            Ok(())
        })
        .await
    }

    async fn login_failures(&self, login: &str) -> Result<Option<LoginFailures>, StoreError> {
        let row = sqlx::query("SELECT failures, window_started_at FROM login_failures WHERE login = $1")
            .bind(login)
            .fetch_optional(self.pool())
            .await
            .map_err(backend)?;
        row.as_ref().map(login_failures).transpose()
    }

    async fn record_login_failure(
        &self,
        login: &str,
        now: DateTime<Utc>,
        window_cutoff: DateTime<Utc>,
    ) -> Result<LoginFailures, StoreError> {
        // One statement: a window that started at or before the cutoff starts again now.
        let row = sqlx::query(
            "INSERT INTO login_failures (login, failures, window_started_at) VALUES ($1, 1, $2)
             ON CONFLICT (login) DO UPDATE SET
                 failures = CASE WHEN login_failures.window_started_at <= $3 THEN 1
                                 ELSE login_failures.failures + 1 END,
                 window_started_at = CASE WHEN login_failures.window_started_at <= $3 THEN $2
                                          ELSE login_failures.window_started_at END
             RETURNING failures, window_started_at",
        )
        .bind(login)
        .bind(now)
        .bind(window_cutoff)
        .fetch_one(self.pool())
        .await
        .map_err(backend)?;
        login_failures(&row)
    }

    async fn clear_login_failures(&self, login: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE login = $1")
            .bind(login)
            .execute(self.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn addresses(&self, user: UserId) -> Result<Vec<Address>, StoreError> {
        let rows = sqlx::query("SELECT * FROM addresses WHERE user_id = $1 ORDER BY id")
            .bind(i64_of(user.0))
            .fetch_all(self.pool())
            .await
            .map_err(backend)?;
        rows.iter().map(address).collect()
    }

    async fn put_address(&self, address: Address) -> Result<(), StoreError> {
        self.retrying(|| self.put_address_once(&address)).await
    }

    async fn delete_address(&self, user: UserId, id: AddressId) -> Result<bool, StoreError> {
        self.retrying(|| async move {
            let done = sqlx::query("DELETE FROM addresses WHERE id = $1 AND user_id = $2")
                .bind(i64_of(id.0))
                .bind(i64_of(user.0))
                .execute(self.pool())
                .await?;
            Ok(done.rows_affected() == 1)
        })
        .await
    }

    /// Newest first (id descending). Role and status are served by
    /// `users_role` (role, id desc) and the primary key; a keyword is
    /// `strpos(lower(col), $k) > 0` over username, nickname, phone and
    /// e-mail, which scans the users the other conditions leave (a back
    /// office list: fine at the sizes a user table reaches before it
    /// needs a search index). `lower()` follows the database's ctype: it
    /// agrees with Rust's `to_lowercase` on ASCII and on the one-to-one
    /// mappings of the usual UTF-8 locales, not on Rust's special cases
    /// (final sigma, a dotted capital I).
    async fn list_users(&self, filter: &UserFilter, page: PageRequest) -> Result<Page<User>, StoreError> {
        let mut w = Where::new();
        if let Some(r) = filter.role {
            w.and("role = $?", [Arg::Text(name(&r)?)]);
        }
        if let Some(s) = filter.status {
            w.and("status = $?", [Arg::Text(name(&s)?)]);
        }
        if let Some(k) = &filter.keyword {
            w.and(
                "(strpos(lower(username), $?) > 0 OR strpos(lower(nickname), $?) > 0 OR strpos(lower(phone), $?) > 0
                  OR strpos(lower(email), $?) > 0)",
                std::iter::repeat_n(Arg::Text(k.to_lowercase()), 4),
            );
        }
        let list = List { columns: "*", from: "users", filter: &w, order: "id DESC", by_id: false };
        let mut tx = self.snapshot().await?;
        let (rows, counted) = page_rows(&mut tx, &list, page, None).await?;
        tx.commit().await.map_err(backend)?;
        Ok(page.page_of(rows.iter().map(user).collect::<Result<Vec<_>, _>>()?, counted))
    }
}

#[async_trait]
impl IdempotencyStore for PgStore {
    async fn claim_idempotency(
        &self,
        user: UserId,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        stale_after: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError> {
        self.retrying(|| async move {
            loop {
                if let Some(claim) = self.claim_once(user, key, fingerprint, now, stale_after).await? {
                    return Ok(claim);
                }
            }
        })
        .await
    }

    async fn finish_idempotency(&self, user: UserId, key: &str, response: StoredResponse) -> Result<(), StoreError> {
        self.retrying(|| async {
            sqlx::query("UPDATE idempotency_keys SET status = $3, body = $4 WHERE user_id = $1 AND key = $2")
                .bind(i64_of(user.0))
                .bind(key)
                .bind(i32::from(response.status))
                .bind(&response.body)
                .execute(self.pool())
                .await?;
            Ok(())
        })
        .await
    }

    async fn release_idempotency(&self, user: UserId, key: &str) -> Result<(), StoreError> {
        self.retrying(|| async move {
            sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2")
                .bind(i64_of(user.0))
                .bind(key)
                .execute(self.pool())
                .await?;
            Ok(())
        })
        .await
    }

    async fn purge_idempotency(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE started_at < $1")
            .bind(before)
            .execute(self.pool())
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }
}
