//! The identity commands ([`Accounts`]): register, log in (password,
//! WeChat-style code), sessions, profile, password and its reset by SMS
//! code, freeze, and the address book, over an [`IdentityStore`].

use std::sync::Arc;

use chrono::Duration;

use crate::clock::{Clock, IdGen};
use crate::engine::MAX_RETRIES;
use crate::error::{MallError, invalid};
use crate::event::{Aggregate, DomainEvent, Event};
use crate::identity::IdentityError;
use crate::identity::*;
use crate::ids::{MerchantId, SessionId, UserId};
use crate::order::Actor;
use crate::page::{Page, PageRequest};
use crate::storage::{GuardFailure, IdentityStore, StoreError};

/// The identity commands: register, log in, sessions, profile, password,
/// freeze, addresses.
pub struct Accounts<S> {
    dummy_hash: std::sync::OnceLock<String>,
    pub(super) store: S,
    clock: Arc<dyn Clock>,
    pub(super) ids: Arc<dyn IdGen>,
    credentials: Arc<dyn Credentials>,
    sms: Arc<dyn SmsSender>,
    provider: Arc<dyn IdentityProvider>,
    pub(super) policy: IdentityPolicy,
}

/// Who a user acting on their own account is, in the event log.
fn actor_of(user: &User) -> Actor {
    match (user.role, user.merchant) {
        (Role::Admin, _) => Actor::Admin(user.id),
        (Role::Merchant, Some(m)) => Actor::Merchant(m),
        _ => Actor::Buyer(user.id),
    }
}

fn taken(e: StoreError) -> MallError {
    match e {
        StoreError::Guard(GuardFailure::Taken { field }) => MallError::Identity(IdentityError::LoginTaken { field }),
        other => other.into(),
    }
}

impl<S: IdentityStore> Accounts<S> {
    /// Identity over `store`.
    pub fn new(
        store: S,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGen>,
        credentials: Arc<dyn Credentials>,
        sms: Arc<dyn SmsSender>,
        provider: Arc<dyn IdentityProvider>,
        policy: IdentityPolicy,
    ) -> Accounts<S> {
        Accounts { dummy_hash: std::sync::OnceLock::new(), store, clock, ids, credentials, sms, provider, policy }
    }

    /// The store, for reads.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Registers a customer.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] naming a bad field; [`IdentityError::LoginTaken`]
    /// when the username, phone or e-mail belongs to another account.
    pub async fn register(&self, registration: Registration) -> Result<User, MallError> {
        self.create_user(registration, Role::Customer, None).await
    }

    /// Creates an account with any role (admin set-up, demo data).
    ///
    /// # Errors
    /// As [`Accounts::register`]; also [`MallError::InvalidInput`] on
    /// `merchant` when a merchant user has no merchant or another role has one.
    pub async fn create_user(
        &self,
        registration: Registration,
        role: Role,
        merchant: Option<MerchantId>,
    ) -> Result<User, MallError> {
        validate_username(&registration.username)?;
        validate_password("password", &registration.password)?;
        if let Some(phone) = &registration.phone {
            validate_phone("phone", phone)?;
        }
        if let Some(email) = &registration.email {
            validate_email(email)?;
        }
        if let Some(nickname) = &registration.nickname {
            validate_text("nickname", nickname, 32)?;
        }
        if (role == Role::Merchant) != merchant.is_some() {
            return Err(invalid("merchant", "a merchant user needs exactly one merchant; other roles none"));
        }
        let user = User {
            id: UserId(self.ids.next_id()),
            nickname: registration.nickname.unwrap_or_else(|| registration.username.clone()),
            username: registration.username,
            phone: registration.phone,
            email: registration.email,
            avatar: None,
            wechat_openid: None,
            password_hash: self.credentials.hash_password(&registration.password),
            role,
            merchant,
            status: UserStatus::Active,
            created_at: self.clock.now(),
            version: 0,
        };
        let event = self.event(actor_of(&user), user.id, Event::UserRegistered { role });
        self.store.insert_user(user.clone(), &[event]).await.map_err(taken)?;
        Ok(user)
    }

    /// An event about user `user` by `actor`, now.
    fn event(&self, actor: Actor, user: UserId, event: Event) -> DomainEvent {
        DomainEvent {
            id: self.ids.next_id(),
            at: self.clock.now(),
            actor,
            aggregate: Aggregate::User,
            aggregate_id: user.0,
            event,
        }
    }

    async fn start_session(&self, user: User, via: LoginVia) -> Result<Tokens, MallError> {
        let now = self.clock.now();
        let access_token = self.credentials.new_token();
        let refresh_token = self.credentials.new_token();
        let session = Session {
            id: SessionId(self.ids.next_id()),
            user: user.id,
            access_digest: self.credentials.digest(&access_token),
            refresh_digest: self.credentials.digest(&refresh_token),
            access_expires_at: now + Duration::seconds(self.policy.access_ttl_seconds),
            refresh_expires_at: now + Duration::seconds(self.policy.refresh_ttl_seconds),
            revoked: false,
            created_at: now,
        };
        let event = self.event(actor_of(&user), user.id, Event::UserLoggedIn { via, session: session.id });
        self.store.insert_session(session, &[event]).await?;
        Ok(Tokens { access_token, refresh_token, expires_in: self.policy.access_ttl_seconds, user })
    }

    /// Logs in by username, phone or e-mail and password.
    ///
    /// # Errors
    /// [`IdentityError::InvalidCredentials`] for an unknown login or a wrong
    /// password (the same error, so logins cannot be probed);
    /// [`IdentityError::TooManyAttempts`] after `login_max_failures` wrong
    /// passwords for one account (by any of its logins) within
    /// `login_window_seconds` of the first (the right password too is
    /// refused until the window ends);
    /// [`IdentityError::UserFrozen`] for a frozen account with the right password.
    pub async fn login(&self, login: &str, password: &str) -> Result<Tokens, MallError> {
        let login = login.trim();
        let now = self.clock.now();
        let window = Duration::seconds(self.policy.login_window_seconds);
        let user = self.store.user_by_login(login).await?;
        // Failures count per account (username, phone and e-mail alike), or
        // per login name when there is no such account.
        let key = user.as_ref().map_or_else(|| format!("login:{login}"), |u| format!("user:{}", u.id));
        if let Some(f) = self.store.login_failures(&key).await?
            && f.failures >= self.policy.login_max_failures
            && now < f.window_started_at + window
        {
            let wait = f.window_started_at + window - now;
            return Err(MallError::Identity(IdentityError::TooManyAttempts {
                retry_after_seconds: wait.num_seconds().max(1),
            }));
        }
        // An unknown login (or one without a password) still costs one
        // password check, so the answer time does not tell accounts apart.
        let hash = match &user {
            Some(u) if !u.password_hash.is_empty() => u.password_hash.as_str(),
            _ => self.dummy_hash.get_or_init(|| self.credentials.hash_password("mallkit-no-such-account")),
        };
        let matches = self.credentials.verify_password(password, hash);
        let Some(user) = user.filter(|u| matches && !u.password_hash.is_empty()) else {
            // Counted for unknown logins too, so the lock-out does not tell them apart.
            self.store.record_login_failure(&key, now, now - window).await?;
            return Err(MallError::Identity(IdentityError::InvalidCredentials));
        };
        self.store.clear_login_failures(&key).await?;
        if user.status == UserStatus::Frozen {
            return Err(MallError::Identity(IdentityError::UserFrozen(user.id)));
        }
        self.start_session(user, LoginVia::Password).await
    }

    /// Logs in with a WeChat-style code, creating a customer account on first use.
    ///
    /// # Errors
    /// [`IdentityError::InvalidCredentials`] when the provider refuses the code;
    /// [`IdentityError::UserFrozen`] for a frozen account.
    pub async fn wechat_login(&self, code: &str) -> Result<Tokens, MallError> {
        let openid = self.provider.open_id(code).ok_or(MallError::Identity(IdentityError::InvalidCredentials))?;
        let user = match self.store.user_by_wechat(&openid).await? {
            Some(user) => user,
            None => {
                let id = UserId(self.ids.next_id());
                let user = User {
                    id,
                    username: format!("wx_{id}"),
                    phone: None,
                    email: None,
                    nickname: format!("微信用户{id}"),
                    avatar: None,
                    wechat_openid: Some(openid.clone()),
                    password_hash: String::new(),
                    role: Role::Customer,
                    merchant: None,
                    status: UserStatus::Active,
                    created_at: self.clock.now(),
                    version: 0,
                };
                let event = self.event(Actor::Buyer(id), id, Event::UserRegistered { role: Role::Customer });
                match self.store.insert_user(user.clone(), &[event]).await {
                    Ok(()) => user,
                    // A concurrent first login with the same code won the insert.
                    Err(StoreError::Guard(GuardFailure::Taken { .. })) => self
                        .store
                        .user_by_wechat(&openid)
                        .await?
                        .ok_or(MallError::Identity(IdentityError::InvalidCredentials))?,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        if user.status == UserStatus::Frozen {
            return Err(MallError::Identity(IdentityError::UserFrozen(user.id)));
        }
        self.start_session(user, LoginVia::Wechat).await
    }

    /// The user behind a live access token.
    ///
    /// # Errors
    /// [`MallError::Unauthenticated`] for an unknown, expired or revoked
    /// token; [`IdentityError::UserFrozen`] when the account was frozen.
    pub async fn authenticate(&self, access_token: &str) -> Result<(User, SessionId), MallError> {
        let digest = self.credentials.digest(access_token);
        let session = self.store.session_by_access(&digest).await?.ok_or(MallError::Unauthenticated)?;
        if session.revoked || session.access_expires_at <= self.clock.now() {
            return Err(MallError::Unauthenticated);
        }
        let user = self.store.user(session.user).await?.ok_or(MallError::Unauthenticated)?;
        if user.status == UserStatus::Frozen {
            return Err(MallError::Identity(IdentityError::UserFrozen(user.id)));
        }
        Ok((user, session.id))
    }

    /// Swaps a live refresh token for a new pair; the old session is revoked
    /// (each refresh token works once).
    ///
    /// # Errors
    /// [`MallError::Unauthenticated`] for an unknown, used, expired or revoked
    /// refresh token; [`IdentityError::UserFrozen`].
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, MallError> {
        let digest = self.credentials.digest(refresh_token);
        let session = self.store.session_by_refresh(&digest).await?.ok_or(MallError::Unauthenticated)?;
        if session.revoked || session.refresh_expires_at <= self.clock.now() {
            return Err(MallError::Unauthenticated);
        }
        // Only the caller that revokes it gets the new pair.
        if !self.store.revoke_session(session.id).await? {
            return Err(MallError::Unauthenticated);
        }
        let user = self.store.user(session.user).await?.ok_or(MallError::Unauthenticated)?;
        if user.status == UserStatus::Frozen {
            return Err(MallError::Identity(IdentityError::UserFrozen(user.id)));
        }
        self.start_session(user, LoginVia::Refresh).await
    }

    /// Revokes one session (logout).
    ///
    /// # Errors
    /// [`MallError::Storage`].
    pub async fn logout(&self, session: SessionId) -> Result<(), MallError> {
        self.store.revoke_session(session).await?;
        Ok(())
    }

    /// A user.
    ///
    /// # Errors
    /// [`MallError::NotFound`].
    pub async fn user(&self, id: UserId) -> Result<User, MallError> {
        self.store.user(id).await?.ok_or_else(|| MallError::not_found("user", id))
    }

    /// Changes user `id` by `change` under its version, retrying a
    /// concurrent change, with `event` by `actor` (the user themself when
    /// `None`).
    async fn update_user(
        &self,
        id: UserId,
        actor: Option<Actor>,
        event: Event,
        change: impl Fn(&mut User),
    ) -> Result<User, MallError> {
        for _ in 0..MAX_RETRIES {
            let mut user = self.user(id).await?;
            change(&mut user);
            let event = self.event(actor.unwrap_or_else(|| actor_of(&user)), id, event.clone());
            match self.store.update_user(user.clone(), &[event]).await {
                Ok(()) => {
                    user.version += 1;
                    return Ok(user);
                }
                Err(StoreError::Guard(GuardFailure::VersionConflict { .. })) => continue,
                Err(e) => return Err(taken(e)),
            }
        }
        Err(MallError::Conflict { entity: "user", id: id.0 })
    }

    /// Changes profile fields.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] naming a bad field; [`IdentityError::LoginTaken`].
    pub async fn update_profile(&self, id: UserId, update: ProfileUpdate) -> Result<User, MallError> {
        if let Some(nickname) = &update.nickname {
            validate_text("nickname", nickname, 32)?;
        }
        if let Some(avatar) = &update.avatar
            && avatar.chars().count() > 500
        {
            return Err(invalid("avatar", "must be at most 500 characters"));
        }
        if let Some(email) = &update.email {
            validate_email(email)?;
        }
        if let Some(phone) = &update.phone {
            validate_phone("phone", phone)?;
        }
        self.update_user(id, None, Event::ProfileUpdated, |user| {
            if let Some(v) = &update.nickname {
                user.nickname = v.trim().to_owned();
            }
            if let Some(v) = &update.avatar {
                user.avatar = Some(v.clone());
            }
            if let Some(v) = &update.email {
                user.email = Some(v.clone());
            }
            if let Some(v) = &update.phone {
                user.phone = Some(v.clone());
            }
        })
        .await
    }

    /// Changes the password after checking the old one; every session of the
    /// user is revoked, so the client logs in again.
    ///
    /// # Errors
    /// [`IdentityError::InvalidCredentials`] for a wrong old password;
    /// [`MallError::InvalidInput`] naming `new_password`.
    pub async fn change_password(&self, id: UserId, old: &str, new: &str) -> Result<(), MallError> {
        let user = self.user(id).await?;
        if user.password_hash.is_empty() || !self.credentials.verify_password(old, &user.password_hash) {
            return Err(MallError::Identity(IdentityError::InvalidCredentials));
        }
        validate_password("new_password", new)?;
        let hash = self.credentials.hash_password(new);
        self.update_user(id, None, Event::PasswordChanged, |u| u.password_hash = hash.clone()).await?;
        self.store.revoke_sessions_of(id).await?;
        Ok(())
    }

    /// Sends a forgot-password code to `phone`. Answers the same whether or
    /// not an account has that phone, so numbers cannot be probed.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] naming `phone`;
    /// [`IdentityError::CodeSentTooOften`] within the resend interval or past
    /// `code_max_sends_per_day` codes in 24 hours.
    pub async fn send_reset_code(&self, phone: &str) -> Result<(), MallError> {
        validate_phone("phone", phone)?;
        let now = self.clock.now();
        let day = Duration::hours(24);
        let previous = self.store.verification_code(phone).await?;
        if let Some(p) = &previous
            && now < p.sent_at + Duration::seconds(self.policy.code_resend_seconds)
        {
            let wait = p.sent_at + Duration::seconds(self.policy.code_resend_seconds) - now;
            return Err(MallError::Identity(IdentityError::CodeSentTooOften {
                retry_after_seconds: wait.num_seconds().max(1),
            }));
        }
        let (window_started_at, sends_in_window) = match &previous {
            Some(p) if now < p.window_started_at + day => {
                if p.sends_in_window >= self.policy.code_max_sends_per_day {
                    let wait = p.window_started_at + day - now;
                    return Err(MallError::Identity(IdentityError::CodeSentTooOften {
                        retry_after_seconds: wait.num_seconds().max(1),
                    }));
                }
                (p.window_started_at, p.sends_in_window + 1)
            }
            _ => (now, 1),
        };
        // A phone without an account gets a record too (one nobody can
        // match: its code is never sent and it is burnt), so the resend
        // limits answer the same whether or not the phone is registered.
        let registered = self.store.user_by_login(phone).await?.is_some();
        let code = self.credentials.new_code();
        let record = VerificationCode {
            phone: phone.to_owned(),
            digest: if registered { self.credentials.digest(&code) } else { self.credentials.new_token() },
            sent_at: now,
            expires_at: now + Duration::seconds(self.policy.code_ttl_seconds),
            attempts: if registered { 0 } else { self.policy.code_max_attempts },
            window_started_at,
            sends_in_window,
        };
        self.store.put_verification_code(record).await?;
        if registered {
            self.sms.send_code(phone, &code);
        }
        Ok(())
    }

    /// Sets a new password with a code from [`Accounts::send_reset_code`];
    /// the code is used up and every session revoked.
    ///
    /// # Errors
    /// [`IdentityError::VerificationCodeInvalid`] for a wrong, expired or burnt
    /// code (a code is burnt after `code_max_attempts` guesses or one use);
    /// [`MallError::InvalidInput`] naming `phone` or `new_password`.
    pub async fn reset_password(&self, phone: &str, code: &str, new: &str) -> Result<(), MallError> {
        validate_phone("phone", phone)?;
        validate_password("new_password", new)?;
        let now = self.clock.now();
        // Each guess uses up one attempt atomically, so concurrent guesses
        // cannot get past the limit.
        let max = self.policy.code_max_attempts;
        let Some(record) = self.store.use_code_attempt(phone, max).await? else {
            return Err(MallError::Identity(IdentityError::VerificationCodeInvalid));
        };
        if record.expires_at <= now || record.digest != self.credentials.digest(code) {
            return Err(MallError::Identity(IdentityError::VerificationCodeInvalid));
        }
        // Burn the code: a second use fails.
        self.store.put_verification_code(VerificationCode { attempts: max, ..record }).await?;
        let user = self
            .store
            .user_by_login(phone)
            .await?
            .ok_or(MallError::Identity(IdentityError::VerificationCodeInvalid))?;
        let hash = self.credentials.hash_password(new);
        self.update_user(user.id, None, Event::PasswordChanged, |u| u.password_hash = hash.clone()).await?;
        self.store.revoke_sessions_of(user.id).await?;
        Ok(())
    }

    /// Freezes or unfreezes a user (admin); freezing revokes every session.
    ///
    /// # Errors
    /// [`MallError::NotFound`].
    pub async fn set_status(&self, id: UserId, status: UserStatus) -> Result<User, MallError> {
        self.change_status(Actor::System, id, status).await
    }

    async fn change_status(&self, actor: Actor, id: UserId, status: UserStatus) -> Result<User, MallError> {
        let event = Event::UserStatusChanged { status };
        let user = self.update_user(id, Some(actor), event, |u| u.status = status).await?;
        if status == UserStatus::Frozen {
            self.store.revoke_sessions_of(id).await?;
        }
        Ok(user)
    }

    /// Freezes or unfreezes a user as admin `by`: as [`Accounts::set_status`],
    /// but an admin cannot freeze their own account.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] on `id` for one's own account; [`MallError::NotFound`].
    pub async fn set_status_by(&self, by: UserId, id: UserId, status: UserStatus) -> Result<User, MallError> {
        if by == id && status == UserStatus::Frozen {
            return Err(invalid("id", "an admin cannot freeze their own account"));
        }
        self.change_status(Actor::Admin(by), id, status).await
    }

    /// One page of the users `filter` admits, newest first (the back office's customer list).
    ///
    /// # Errors
    /// [`MallError::Storage`].
    pub async fn users(&self, filter: &UserFilter, page: PageRequest) -> Result<Page<User>, MallError> {
        Ok(self.store.list_users(filter, page).await?)
    }
}
