//! Identity and idempotency keys in memory: users with their unique logins,
//! sessions by token digest, codes, addresses. Kept apart from the commerce
//! state (no command writes both), under its own lock.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mallkit_core::event::DomainEvent;
use mallkit_core::identity::{Address, LoginFailures, Session, User, UserFilter, VerificationCode};
use mallkit_core::ids::{AddressId, SessionId, UserId};
use mallkit_core::page::{Page, PageRequest};
use mallkit_core::storage::{
    GuardFailure, IdempotencyClaim, IdempotencyStore, IdentityStore, StoreError, StoredResponse,
};

use crate::MemoryStore;

#[derive(Debug, Clone)]
pub(crate) struct IdempotencyRecord {
    fingerprint: String,
    started_at: DateTime<Utc>,
    response: Option<StoredResponse>,
}

#[derive(Debug, Default)]
pub(crate) struct IdentityState {
    users: BTreeMap<UserId, User>,
    sessions: BTreeMap<SessionId, Session>,
    access: HashMap<String, SessionId>,
    refresh: HashMap<String, SessionId>,
    codes: HashMap<String, VerificationCode>,
    login_failures: HashMap<String, LoginFailures>,
    addresses: BTreeMap<AddressId, Address>,
    idempotency: HashMap<(UserId, String), IdempotencyRecord>,
}

impl IdentityState {
    /// The first unique login field of `user` that another user holds.
    fn taken_field(&self, user: &User) -> Option<&'static str> {
        let others = || self.users.values().filter(|u| u.id != user.id);
        let clash = |mine: Option<&String>, theirs: fn(&User) -> Option<&String>| {
            mine.is_some_and(|m| others().any(|u| theirs(u) == Some(m)))
        };
        if others().any(|u| u.username == user.username) {
            Some("username")
        } else if clash(user.phone.as_ref(), |u| u.phone.as_ref()) {
            Some("phone")
        } else if clash(user.email.as_ref(), |u| u.email.as_ref()) {
            Some("email")
        } else if clash(user.wechat_openid.as_ref(), |u| u.wechat_openid.as_ref()) {
            Some("wechat_openid")
        } else {
            None
        }
    }
}

impl MemoryStore {
    fn with_identity<T>(&self, f: impl FnOnce(&mut IdentityState) -> T) -> T {
        let mut state = self.identity.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut state)
    }

    /// Appends an identity write's events while its identity lock is held
    /// (identity, then the state: the only order both locks are taken in).
    fn log(&self, events: &[DomainEvent]) {
        if !events.is_empty() {
            self.write().events.commit(events.to_vec());
        }
    }
}

#[async_trait]
impl IdentityStore for MemoryStore {
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.with_identity(|s| s.users.get(&id).cloned()))
    }

    async fn user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
        let login = Some(login);
        Ok(self.with_identity(|s| {
            s.users
                .values()
                .find(|u| {
                    Some(u.username.as_str()) == login || u.phone.as_deref() == login || u.email.as_deref() == login
                })
                .cloned()
        }))
    }

    async fn user_by_wechat(&self, openid: &str) -> Result<Option<User>, StoreError> {
        Ok(self.with_identity(|s| s.users.values().find(|u| u.wechat_openid.as_deref() == Some(openid)).cloned()))
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        Ok(self.with_identity(|s| s.users.values().cloned().collect()))
    }

    async fn insert_user(&self, user: User, events: &[DomainEvent]) -> Result<(), StoreError> {
        self.with_identity(|s| {
            if s.users.contains_key(&user.id) {
                return Err(GuardFailure::AlreadyExists { entity: "user", id: user.id.0 }.into());
            }
            if let Some(field) = s.taken_field(&user) {
                return Err(GuardFailure::Taken { field }.into());
            }
            s.users.insert(user.id, User { version: 0, ..user });
            self.log(events);
            Ok(())
        })
    }

    async fn update_user(&self, user: User, events: &[DomainEvent]) -> Result<(), StoreError> {
        self.with_identity(|s| {
            let stored = s.users.get(&user.id).ok_or(GuardFailure::NotFound { entity: "user", id: user.id.0 })?;
            if stored.version != user.version {
                return Err(GuardFailure::VersionConflict { entity: "user", id: user.id.0 }.into());
            }
            if let Some(field) = s.taken_field(&user) {
                return Err(GuardFailure::Taken { field }.into());
            }
            s.users.insert(user.id, User { version: user.version + 1, ..user });
            self.log(events);
            Ok(())
        })
    }

    async fn insert_session(&self, session: Session, events: &[DomainEvent]) -> Result<(), StoreError> {
        self.with_identity(|s| {
            if s.access.contains_key(&session.access_digest) || s.refresh.contains_key(&session.refresh_digest) {
                return Err(GuardFailure::Taken { field: "token" }.into());
            }
            if s.sessions.contains_key(&session.id) {
                return Err(GuardFailure::AlreadyExists { entity: "session", id: session.id.0 }.into());
            }
            s.access.insert(session.access_digest.clone(), session.id);
            s.refresh.insert(session.refresh_digest.clone(), session.id);
            s.sessions.insert(session.id, session);
            self.log(events);
            Ok(())
        })
    }

    async fn session_by_access(&self, digest: &str) -> Result<Option<Session>, StoreError> {
        Ok(self.with_identity(|s| s.access.get(digest).and_then(|id| s.sessions.get(id)).cloned()))
    }

    async fn session_by_refresh(&self, digest: &str) -> Result<Option<Session>, StoreError> {
        Ok(self.with_identity(|s| s.refresh.get(digest).and_then(|id| s.sessions.get(id)).cloned()))
    }

    async fn revoke_session(&self, id: SessionId) -> Result<bool, StoreError> {
        Ok(self.with_identity(|s| match s.sessions.get_mut(&id) {
            Some(session) if !session.revoked => {
                session.revoked = true;
                true
            }
            _ => false,
        }))
    }

    async fn revoke_sessions_of(&self, user: UserId) -> Result<(), StoreError> {
        self.with_identity(|s| s.sessions.values_mut().filter(|x| x.user == user).for_each(|x| x.revoked = true));
        Ok(())
    }

    async fn verification_code(&self, phone: &str) -> Result<Option<VerificationCode>, StoreError> {
        Ok(self.with_identity(|s| s.codes.get(phone).cloned()))
    }

    async fn put_verification_code(&self, code: VerificationCode) -> Result<(), StoreError> {
        self.with_identity(|s| s.codes.insert(code.phone.clone(), code));
        Ok(())
    }

    async fn use_code_attempt(&self, phone: &str, max: u32) -> Result<Option<VerificationCode>, StoreError> {
        Ok(self.with_identity(|s| match s.codes.get_mut(phone) {
            Some(code) if code.attempts < max => {
                code.attempts += 1;
                Some(code.clone())
            }
            _ => None,
        }))
    }

    async fn login_failures(&self, login: &str) -> Result<Option<LoginFailures>, StoreError> {
        Ok(self.with_identity(|s| s.login_failures.get(login).copied()))
    }

    async fn record_login_failure(
        &self,
        login: &str,
        now: DateTime<Utc>,
        window_cutoff: DateTime<Utc>,
    ) -> Result<LoginFailures, StoreError> {
        Ok(self.with_identity(|s| {
            let entry = s
                .login_failures
                .entry(login.to_owned())
                .or_insert(LoginFailures { failures: 0, window_started_at: now });
            if entry.window_started_at <= window_cutoff {
                *entry = LoginFailures { failures: 0, window_started_at: now };
            }
            entry.failures += 1;
            *entry
        }))
    }

    async fn clear_login_failures(&self, login: &str) -> Result<(), StoreError> {
        self.with_identity(|s| s.login_failures.remove(login));
        Ok(())
    }

    async fn addresses(&self, user: UserId) -> Result<Vec<Address>, StoreError> {
        Ok(self.with_identity(|s| s.addresses.values().filter(|a| a.user == user).cloned().collect()))
    }

    async fn put_address(&self, address: Address) -> Result<(), StoreError> {
        self.with_identity(|s| {
            if s.addresses.get(&address.id).is_some_and(|a| a.user != address.user) {
                return Err(GuardFailure::NotFound { entity: "address", id: address.id.0 }.into());
            }
            if address.is_default {
                s.addresses.values_mut().filter(|a| a.user == address.user).for_each(|a| a.is_default = false);
            }
            s.addresses.insert(address.id, address);
            Ok(())
        })
    }

    async fn delete_address(&self, user: UserId, id: AddressId) -> Result<bool, StoreError> {
        Ok(self.with_identity(|s| match s.addresses.get(&id) {
            Some(a) if a.user == user => s.addresses.remove(&id).is_some(),
            _ => false,
        }))
    }

    /// Walks the users from the highest id down, filtering each row with
    /// [`UserFilter::admits`], and stops once the page is full and the count
    /// capped: a page with no filter, or a broad one, reads about
    /// `COUNT_CAP` users; a filter matching few users (a rare keyword, role
    /// or status) reads every user. Kept as a scan on purpose: user lists
    /// are back-office reads and a substring keyword over four fields has
    /// no cheap index.
    async fn list_users(&self, filter: &UserFilter, page: PageRequest) -> Result<Page<User>, StoreError> {
        Ok(self.with_identity(|s| {
            page.page_from_iter(s.users.values().rev().filter(|u| filter.admits(u))).map(User::clone)
        }))
    }
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn claim_idempotency(
        &self,
        user: UserId,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        stale_after: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError> {
        Ok(self.with_identity(|s| {
            let record = match s.idempotency.entry((user, key.to_owned())) {
                Entry::Vacant(slot) => {
                    let fingerprint = fingerprint.to_owned();
                    slot.insert(IdempotencyRecord { fingerprint, started_at: now, response: None });
                    return IdempotencyClaim::Started;
                }
                Entry::Occupied(slot) => slot.into_mut(),
            };
            if record.fingerprint != fingerprint {
                return IdempotencyClaim::Mismatch;
            }
            match &record.response {
                Some(response) => IdempotencyClaim::Replay(response.clone()),
                None if record.started_at <= stale_after => {
                    record.started_at = now;
                    IdempotencyClaim::Started
                }
                None => IdempotencyClaim::InProgress,
            }
        }))
    }

    async fn finish_idempotency(&self, user: UserId, key: &str, response: StoredResponse) -> Result<(), StoreError> {
        self.with_identity(|s| {
            if let Some(record) = s.idempotency.get_mut(&(user, key.to_owned())) {
                record.response = Some(response);
            }
        });
        Ok(())
    }

    async fn release_idempotency(&self, user: UserId, key: &str) -> Result<(), StoreError> {
        self.with_identity(|s| s.idempotency.remove(&(user, key.to_owned())));
        Ok(())
    }

    async fn purge_idempotency(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(self.with_identity(|s| {
            let count = s.idempotency.len();
            s.idempotency.retain(|_, r| r.started_at >= before);
            (count - s.idempotency.len()) as u64
        }))
    }
}
