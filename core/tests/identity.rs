//! Identity rules over the in-memory store with a manual clock: the
//! forgot-password code's limits, and answers that do not tell registered
//! phones or logins apart.

use std::sync::{Arc, Mutex};

use chrono::{Duration, TimeZone, Utc};
use mallkit_core::MallError;
use mallkit_core::clock::{ManualClock, SequentialIds};
use mallkit_core::identity::IdentityError;
use mallkit_core::identity::{Accounts, Credentials, IdentityPolicy, IdentityProvider, Registration, SmsSender};
use mallkit_storage_memory::MemoryStore;

/// Plain-text "hashes" and predictable tokens; counts password checks.
#[derive(Default)]
struct Fake {
    checks: Mutex<u32>,
    next: Mutex<u32>,
}

impl Credentials for Fake {
    fn hash_password(&self, password: &str) -> String {
        format!("plain:{password}")
    }
    fn verify_password(&self, password: &str, hash: &str) -> bool {
        *self.checks.lock().expect("lock") += 1;
        hash == format!("plain:{password}")
    }
    fn new_token(&self) -> String {
        let mut n = self.next.lock().expect("lock");
        *n += 1;
        format!("token-{n}")
    }
    fn new_code(&self) -> String {
        "123456".into()
    }
    fn digest(&self, secret: &str) -> String {
        format!("d:{secret}")
    }
}

#[derive(Default)]
struct Outbox(Mutex<Vec<String>>);

impl SmsSender for Outbox {
    fn send_code(&self, phone: &str, _code: &str) {
        self.0.lock().expect("lock").push(phone.to_owned());
    }
}

struct NoWechat;

impl IdentityProvider for NoWechat {
    fn open_id(&self, _: &str) -> Option<String> {
        None
    }
}

struct World {
    accounts: Accounts<MemoryStore>,
    clock: Arc<ManualClock>,
    credentials: Arc<Fake>,
    outbox: Arc<Outbox>,
}

async fn world() -> World {
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).single().expect("time")));
    let credentials = Arc::new(Fake::default());
    let outbox = Arc::new(Outbox::default());
    let accounts = Accounts::new(
        MemoryStore::new(),
        clock.clone(),
        Arc::new(SequentialIds::starting_at(1)),
        credentials.clone(),
        outbox.clone(),
        Arc::new(NoWechat),
        IdentityPolicy::default(),
    );
    let registration = Registration {
        username: "alice".into(),
        password: "pass1234".into(),
        phone: Some("13800000001".into()),
        ..Registration::default()
    };
    accounts.register(registration).await.expect("register");
    World { accounts, clock, credentials, outbox }
}

fn kind(r: Result<(), MallError>) -> &'static str {
    r.err().map_or("ok", |e| e.kind())
}

#[tokio::test]
async fn a_code_allows_five_guesses_and_five_sends_a_day() {
    let w = world().await;
    let phone = "13800000001";
    w.accounts.send_reset_code(phone).await.expect("send");
    for _ in 0..5 {
        assert_eq!(kind(w.accounts.reset_password(phone, "000000", "fresh2024").await), "verification_code_invalid");
    }
    // The right code after five wrong guesses is refused: the code is burnt.
    assert_eq!(kind(w.accounts.reset_password(phone, "123456", "fresh2024").await), "verification_code_invalid");

    // Four more sends, a minute apart; the sixth in 24 hours is refused.
    for _ in 0..4 {
        w.clock.advance(Duration::seconds(61));
        w.accounts.send_reset_code(phone).await.expect("send");
    }
    w.clock.advance(Duration::seconds(61));
    match w.accounts.send_reset_code(phone).await {
        Err(MallError::Identity(IdentityError::CodeSentTooOften { retry_after_seconds })) => {
            assert_eq!(retry_after_seconds, 24 * 3600 - 5 * 61, "until the window that opened at the first send ends");
        }
        other => panic!("expected too many sends, got {other:?}"),
    }
    assert_eq!(w.outbox.0.lock().expect("lock").len(), 5);
    // The last code sent still works, once.
    w.accounts.reset_password(phone, "123456", "fresh2024").await.expect("reset");
    assert_eq!(kind(w.accounts.reset_password(phone, "123456", "other2024").await), "verification_code_invalid");
    w.accounts.login("alice", "fresh2024").await.expect("new password");
    // A day later the window starts again.
    w.clock.advance(Duration::hours(24));
    w.accounts.send_reset_code(phone).await.expect("a new day");
}

#[tokio::test]
async fn unknown_phones_and_logins_answer_like_known_ones() {
    let w = world().await;
    for phone in ["13800000001", "13900000009"] {
        w.accounts.send_reset_code(phone).await.expect("first send");
        assert_eq!(kind(w.accounts.send_reset_code(phone).await), "too_many_requests", "{phone}");
    }
    assert_eq!(w.outbox.0.lock().expect("lock").as_slice(), ["13800000001"], "no SMS to a phone without an account");
    assert_eq!(
        kind(w.accounts.reset_password("13900000009", "123456", "fresh2024").await),
        "verification_code_invalid"
    );

    let before = *w.credentials.checks.lock().expect("lock");
    assert_eq!(w.accounts.login("nobody", "pass1234").await.err().map(|e| e.kind()), Some("invalid_credentials"));
    assert_eq!(w.accounts.login("alice", "wrong123").await.err().map(|e| e.kind()), Some("invalid_credentials"));
    let after = *w.credentials.checks.lock().expect("lock");
    assert_eq!(after - before, 2, "an unknown login costs a password check too");
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_login_for_the_window() {
    let w = world().await;
    for _ in 0..5 {
        assert_eq!(w.accounts.login("alice", "wrong123").await.err().map(|e| e.kind()), Some("invalid_credentials"));
        w.clock.advance(Duration::seconds(10));
    }
    match w.accounts.login("alice", "pass1234").await {
        Err(MallError::Identity(IdentityError::TooManyAttempts { retry_after_seconds })) => {
            assert_eq!(retry_after_seconds, 900 - 50)
        }
        other => panic!("expected a lock-out, got {other:?}"),
    }
    // Unknown logins are counted and locked the same way.
    for _ in 0..5 {
        let _ = w.accounts.login("nobody", "wrong123").await;
    }
    assert_eq!(w.accounts.login("nobody", "wrong123").await.err().map(|e| e.kind()), Some("too_many_requests"));
    // After the window, the right password works and clears the count.
    w.clock.advance(Duration::seconds(900));
    w.accounts.login("alice", "pass1234").await.expect("window over");
    for _ in 0..4 {
        let _ = w.accounts.login("alice", "wrong123").await;
    }
    w.accounts.login("alice", "pass1234").await.expect("four failures are not five");
}

#[tokio::test]
async fn account_commands_log_who_registered_logged_in_and_froze() {
    use mallkit_core::event::{Aggregate, Event};
    use mallkit_core::identity::{LoginVia, Role, UserStatus};
    use mallkit_core::order::Actor;
    use mallkit_core::page::PageRequest;
    use mallkit_core::storage::{EventStore, IdentityStore};
    let w = world().await;
    let alice = w.accounts.store().user_by_login("alice").await.expect("read").expect("alice");
    let tokens = w.accounts.login("alice", "pass1234").await.expect("login");
    assert_eq!(kind(w.accounts.login("alice", "wrong-pass").await.map(|_| ())), "invalid_credentials");
    let admin = Registration { username: "root".into(), password: "rootpass1".into(), ..Registration::default() };
    let admin = w.accounts.create_user(admin, Role::Admin, None).await.expect("admin");
    w.accounts.set_status_by(admin.id, alice.id, UserStatus::Frozen).await.expect("freeze");

    let page = PageRequest::new(Some(1), Some(20)).expect("page");
    let logged = w.accounts.store().events(Some((Aggregate::User, alice.id.0)), page).await.expect("events").items;
    let seen: Vec<(Actor, Event)> = logged.into_iter().map(|e| (e.actor, e.event)).collect();
    let session = w.accounts.authenticate(&tokens.access_token).await.err().map(|e| e.kind());
    assert_eq!(session, Some("unauthenticated"), "freezing revoked the session");
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[0], (Actor::Buyer(alice.id), Event::UserRegistered { role: Role::Customer }));
    assert!(matches!(seen[1], (Actor::Buyer(u), Event::UserLoggedIn { via: LoginVia::Password, .. }) if u == alice.id));
    assert_eq!(seen[2], (Actor::Admin(admin.id), Event::UserStatusChanged { status: UserStatus::Frozen }));
}
