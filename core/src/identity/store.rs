//! Identity storage: the store trait of this area (DESIGN §11), served by
//! every backend, and its forwarding through an `Arc` (also `Arc<dyn …>`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::event::DomainEvent;
use crate::identity::{Address, LoginFailures, Session, User, UserFilter, VerificationCode};
use crate::ids::{AddressId, SessionId, UserId};
use crate::page::{Page, PageRequest};
#[cfg(doc)]
use crate::storage::GuardFailure;
use crate::storage::StoreError;

/// Identity storage (DESIGN §9): users, sessions, codes and addresses. Each
/// call is atomic on its own; identity has no multi-row commands. The
/// writes that change an account or start a session take the domain events
/// they make (registered, logged in, profile, password, status) and append
/// them to the event log in the same step: both or neither.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// A user.
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// The user whose username, phone or e-mail equals `login` exactly.
    async fn user_by_login(&self, login: &str) -> Result<Option<User>, StoreError>;
    /// The user with this WeChat open id.
    async fn user_by_wechat(&self, openid: &str) -> Result<Option<User>, StoreError>;
    /// Every user, by id.
    async fn users(&self) -> Result<Vec<User>, StoreError>;
    /// Inserts a user, appending `events`.
    ///
    /// # Errors
    /// [`GuardFailure::Taken`] naming `username`, `phone`, `email` or
    /// `wechat_openid` when another user has it; [`GuardFailure::AlreadyExists`] for a taken id.
    async fn insert_user(&self, user: User, events: &[DomainEvent]) -> Result<(), StoreError>;
    /// Replaces a user whose stored version equals `user.version` (and bumps
    /// it), appending `events`.
    ///
    /// # Errors
    /// [`GuardFailure::VersionConflict`], [`GuardFailure::Taken`], [`GuardFailure::NotFound`].
    async fn update_user(&self, user: User, events: &[DomainEvent]) -> Result<(), StoreError>;
    /// Inserts a session, appending `events`.
    ///
    /// # Errors
    /// [`GuardFailure::Taken`] when a digest is taken.
    async fn insert_session(&self, session: Session, events: &[DomainEvent]) -> Result<(), StoreError>;
    /// The session whose access digest is `digest`.
    async fn session_by_access(&self, digest: &str) -> Result<Option<Session>, StoreError>;
    /// The session whose refresh digest is `digest`.
    async fn session_by_refresh(&self, digest: &str) -> Result<Option<Session>, StoreError>;
    /// Revokes a session; true when this call revoked it (false when it was
    /// already revoked or does not exist).
    async fn revoke_session(&self, id: SessionId) -> Result<bool, StoreError>;
    /// Revokes every session of a user.
    async fn revoke_sessions_of(&self, user: UserId) -> Result<(), StoreError>;
    /// The live code of a phone.
    async fn verification_code(&self, phone: &str) -> Result<Option<VerificationCode>, StoreError>;
    /// Creates or replaces the code of `code.phone`.
    async fn put_verification_code(&self, code: VerificationCode) -> Result<(), StoreError>;
    /// Uses up one guess of the code of `phone` atomically: when it has
    /// fewer than `max` attempts, adds one and returns the code (as after
    /// the increment); otherwise (no code, or burnt) `None`.
    async fn use_code_attempt(&self, phone: &str, max: u32) -> Result<Option<VerificationCode>, StoreError>;
    /// The failed logins counted for `login` since `window_started_at`.
    async fn login_failures(&self, login: &str) -> Result<Option<LoginFailures>, StoreError>;
    /// Counts one more failed login for `login` atomically: in the current
    /// window when it started after `window_cutoff`, else in a new window
    /// starting `now`. Returns the count after it.
    async fn record_login_failure(
        &self,
        login: &str,
        now: DateTime<Utc>,
        window_cutoff: DateTime<Utc>,
    ) -> Result<LoginFailures, StoreError>;
    /// Forgets the failed logins of `login` (after a successful one).
    async fn clear_login_failures(&self, login: &str) -> Result<(), StoreError>;
    /// A user's addresses, by id.
    async fn addresses(&self, user: UserId) -> Result<Vec<Address>, StoreError>;
    /// Creates or replaces an address of `address.user`; when it is the
    /// default, the same call clears the flag on the user's other addresses.
    ///
    /// # Errors
    /// [`GuardFailure::NotFound`] when the id belongs to another user's address.
    async fn put_address(&self, address: Address) -> Result<(), StoreError>;
    /// Deletes an address of `user`; true when one was deleted.
    async fn delete_address(&self, user: UserId, id: AddressId) -> Result<bool, StoreError>;
    /// One page of the users `filter` admits, newest first (highest id).
    async fn list_users(&self, filter: &UserFilter, page: PageRequest) -> Result<Page<User>, StoreError>;
}

#[async_trait]
impl<T: IdentityStore + ?Sized> IdentityStore for std::sync::Arc<T> {
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        (**self).user(id).await
    }
    async fn user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
        (**self).user_by_login(login).await
    }
    async fn user_by_wechat(&self, openid: &str) -> Result<Option<User>, StoreError> {
        (**self).user_by_wechat(openid).await
    }
    async fn users(&self) -> Result<Vec<User>, StoreError> {
        (**self).users().await
    }
    async fn insert_user(&self, user: User, events: &[DomainEvent]) -> Result<(), StoreError> {
        (**self).insert_user(user, events).await
    }
    async fn update_user(&self, user: User, events: &[DomainEvent]) -> Result<(), StoreError> {
        (**self).update_user(user, events).await
    }
    async fn insert_session(&self, session: Session, events: &[DomainEvent]) -> Result<(), StoreError> {
        (**self).insert_session(session, events).await
    }
    async fn session_by_access(&self, digest: &str) -> Result<Option<Session>, StoreError> {
        (**self).session_by_access(digest).await
    }
    async fn session_by_refresh(&self, digest: &str) -> Result<Option<Session>, StoreError> {
        (**self).session_by_refresh(digest).await
    }
    async fn revoke_session(&self, id: SessionId) -> Result<bool, StoreError> {
        (**self).revoke_session(id).await
    }
    async fn revoke_sessions_of(&self, user: UserId) -> Result<(), StoreError> {
        (**self).revoke_sessions_of(user).await
    }
    async fn verification_code(&self, phone: &str) -> Result<Option<VerificationCode>, StoreError> {
        (**self).verification_code(phone).await
    }
    async fn put_verification_code(&self, code: VerificationCode) -> Result<(), StoreError> {
        (**self).put_verification_code(code).await
    }
    async fn use_code_attempt(&self, phone: &str, max: u32) -> Result<Option<VerificationCode>, StoreError> {
        (**self).use_code_attempt(phone, max).await
    }
    async fn login_failures(&self, login: &str) -> Result<Option<LoginFailures>, StoreError> {
        (**self).login_failures(login).await
    }
    async fn record_login_failure(
        &self,
        login: &str,
        now: DateTime<Utc>,
        window_cutoff: DateTime<Utc>,
    ) -> Result<LoginFailures, StoreError> {
        (**self).record_login_failure(login, now, window_cutoff).await
    }
    async fn clear_login_failures(&self, login: &str) -> Result<(), StoreError> {
        (**self).clear_login_failures(login).await
    }
    async fn addresses(&self, user: UserId) -> Result<Vec<Address>, StoreError> {
        (**self).addresses(user).await
    }
    async fn put_address(&self, address: Address) -> Result<(), StoreError> {
        (**self).put_address(address).await
    }
    async fn delete_address(&self, user: UserId, id: AddressId) -> Result<bool, StoreError> {
        (**self).delete_address(user, id).await
    }
    async fn list_users(&self, filter: &UserFilter, page: PageRequest) -> Result<Page<User>, StoreError> {
        (**self).list_users(filter, page).await
    }
}
