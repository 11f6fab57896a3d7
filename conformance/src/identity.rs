//! The identity and idempotency contract (`IdentityStore`,
//! `IdempotencyStore`): unique logins, versioned users, sessions revoked
//! once, one code per phone, address books with one default and one owner,
//! idempotency keys claimed once even under concurrency.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use mallkit_core::catalog::Merchant;
use mallkit_core::identity::{Address, Role, Session, User, UserStatus, VerificationCode};
use mallkit_core::ids::{AddressId, MerchantId, SessionId, UserId};
use mallkit_core::storage::{
    CatalogWrite, GuardFailure, IdempotencyClaim, IdempotencyStore, IdentityStore, Store, StoreError, StoredResponse,
    Write,
};

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).single().expect("valid time")
}

fn guard<T: std::fmt::Debug>(r: Result<T, StoreError>) -> GuardFailure {
    match r {
        Err(StoreError::Guard(g)) => g,
        other => panic!("expected a guard failure, got {other:?}"),
    }
}

/// A customer with only a username (and nickname) set.
fn user(id: u64, username: &str) -> User {
    User {
        id: UserId(id),
        username: username.into(),
        phone: None,
        email: None,
        nickname: format!("昵称{id}"),
        avatar: None,
        wechat_openid: None,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        role: Role::Customer,
        merchant: None,
        status: UserStatus::Active,
        created_at: at(),
        version: 0,
    }
}

fn session(id: u64, user: u64, token: &str) -> Session {
    Session {
        id: SessionId(id),
        user: UserId(user),
        access_digest: format!("a-{token}"),
        refresh_digest: format!("r-{token}"),
        access_expires_at: at() + Duration::hours(2),
        refresh_expires_at: at() + Duration::days(30),
        revoked: false,
        created_at: at(),
    }
}

fn address(id: u64, user: u64, is_default: bool) -> Address {
    Address {
        id: AddressId(id),
        user: UserId(user),
        receiver: format!("收货人{id}"),
        phone: "13800000000".into(),
        province: "浙江省".into(),
        city: "杭州市".into(),
        district: "西湖区".into(),
        detail: format!("文三路{id}号"),
        postal_code: id.is_multiple_of(2).then(|| "310000".to_owned()),
        is_default,
    }
}

/// Users 1 (`alice`, phone, e-mail, WeChat) and 2 (`bob`, phone only).
async fn two_users<S: IdentityStore>(store: &S) -> (User, User) {
    let alice = User {
        phone: Some("13800000001".into()),
        email: Some("alice@example.com".into()),
        wechat_openid: Some("wx-alice".into()),
        avatar: Some("https://img.example.com/a.png".into()),
        ..user(1, "alice")
    };
    let bob = User { phone: Some("13800000002".into()), ..user(2, "bob") };
    store.insert_user(alice.clone(), &[]).await.expect("alice");
    store.insert_user(bob.clone(), &[]).await.expect("bob");
    (alice, bob)
}

/// A user reads back field for field, by id, by each login and by WeChat;
/// an insert starts at version 0 whatever the caller passed.
pub async fn users_round_trip_by_id_and_every_login<S: Store + IdentityStore + 'static>(store: S) {
    store
        .apply(vec![Write::Catalog(CatalogWrite::PutMerchant(Merchant { id: MerchantId(5), name: "shop".into() }))])
        .await
        .expect("shop");
    let (alice, bob) = two_users(&store).await;
    let staff = User { role: Role::Merchant, merchant: Some(MerchantId(5)), version: 9, ..user(3, "staff_1") };
    store.insert_user(staff.clone(), &[]).await.expect("staff");
    let staff = User { version: 0, ..staff };

    assert_eq!(store.user(UserId(1)).await.expect("read"), Some(alice.clone()));
    assert_eq!(store.user(UserId(3)).await.expect("read"), Some(staff.clone()));
    assert_eq!(store.user(UserId(4)).await.expect("read"), None);
    for login in ["alice", "13800000001", "alice@example.com"] {
        assert_eq!(store.user_by_login(login).await.expect("read"), Some(alice.clone()), "{login}");
    }
    assert_eq!(store.user_by_login("13800000002").await.expect("read"), Some(bob.clone()));
    assert_eq!(store.user_by_login("wx-alice").await.expect("read"), None, "an open id is not a login");
    assert_eq!(store.user_by_login("Alice").await.expect("read"), None, "logins match exactly");
    assert_eq!(store.user_by_wechat("wx-alice").await.expect("read"), Some(alice.clone()));
    assert_eq!(store.user_by_wechat("alice").await.expect("read"), None);
    assert_eq!(store.users().await.expect("read"), vec![alice, bob, staff]);
}

/// A taken username, phone, e-mail or open id is refused naming the field, a
/// taken id as already existing, and nothing is written.
pub async fn duplicate_logins_are_refused_naming_the_field<S: IdentityStore + 'static>(store: S) {
    let (alice, bob) = two_users(&store).await;
    let cases = [
        (user(10, "alice"), "username"),
        (User { phone: Some("13800000002".into()), ..user(10, "carol") }, "phone"),
        (User { email: Some("alice@example.com".into()), ..user(10, "carol") }, "email"),
        (User { wechat_openid: Some("wx-alice".into()), ..user(10, "carol") }, "wechat_openid"),
        // Several clashes: the first in the order username, phone, email, open id.
        (User { phone: Some("13800000001".into()), email: Some("alice@example.com".into()), ..user(10, "c") }, "phone"),
    ];
    for (candidate, field) in cases {
        assert_eq!(guard(store.insert_user(candidate, &[]).await), GuardFailure::Taken { field }, "{field}");
    }
    assert_eq!(
        guard(store.insert_user(user(2, "carol"), &[]).await),
        GuardFailure::AlreadyExists { entity: "user", id: 2 }
    );
    // A taken id is reported before a taken login.
    assert_eq!(
        guard(store.insert_user(user(2, "alice"), &[]).await),
        GuardFailure::AlreadyExists { entity: "user", id: 2 }
    );
    assert_eq!(store.user(UserId(10)).await.expect("read"), None);
    assert_eq!(store.user_by_login("carol").await.expect("read"), None);
    assert_eq!(store.users().await.expect("read"), vec![alice, bob]);
    // Several users may have no phone, e-mail or open id.
    store.insert_user(user(11, "carol"), &[]).await.expect("no phone");
    store.insert_user(user(12, "dave"), &[]).await.expect("no phone either");
    assert_eq!(store.users().await.expect("read").len(), 4);
}

/// An update needs the stored version and bumps it; logins stay unique.
pub async fn user_updates_are_versioned_and_keep_logins_unique<S: IdentityStore + 'static>(store: S) {
    let (alice, bob) = two_users(&store).await;
    let renamed = User { nickname: "Alice W.".into(), status: UserStatus::Frozen, ..alice.clone() };
    store.update_user(renamed.clone(), &[]).await.expect("update at version 0");
    let stored = store.user(UserId(1)).await.expect("read").expect("alice");
    assert_eq!(stored, User { version: 1, ..renamed.clone() });
    assert_eq!(
        guard(store.update_user(User { nickname: "stale".into(), ..renamed }, &[]).await),
        GuardFailure::VersionConflict { entity: "user", id: 1 }
    );
    let clash = User { phone: Some("13800000001".into()), ..bob.clone() };
    assert_eq!(guard(store.update_user(clash, &[]).await), GuardFailure::Taken { field: "phone" });
    let clash = User { username: "alice".into(), ..bob.clone() };
    assert_eq!(guard(store.update_user(clash, &[]).await), GuardFailure::Taken { field: "username" });
    assert_eq!(store.user(UserId(2)).await.expect("read"), Some(bob.clone()), "bob unchanged");
    assert_eq!(store.user(UserId(1)).await.expect("read"), Some(stored.clone()), "alice unchanged");
    assert_eq!(guard(store.update_user(user(9, "ghost"), &[]).await), GuardFailure::NotFound { entity: "user", id: 9 });
    // A user keeps its own logins, and a freed phone may be taken.
    let moved = User { phone: None, ..stored };
    store.update_user(moved.clone(), &[]).await.expect("drop the phone");
    store.update_user(User { phone: Some("13800000001".into()), ..bob }, &[]).await.expect("take the freed phone");
    assert_eq!(
        store.user_by_login("13800000001").await.expect("read").map(|u| (u.id, u.version)),
        Some((UserId(2), 1))
    );
    assert_eq!(store.user(UserId(1)).await.expect("read").map(|u| u.version), Some(2));
}

/// A session is found by either digest, digests are unique, and a revoke
/// answers true exactly once.
pub async fn sessions_are_found_by_digest_and_revoked_once<S: IdentityStore + 'static>(store: S) {
    two_users(&store).await;
    let s = session(100, 1, "one");
    store.insert_session(s.clone(), &[]).await.expect("session");
    assert_eq!(store.session_by_access("a-one").await.expect("read"), Some(s.clone()));
    assert_eq!(store.session_by_refresh("r-one").await.expect("read"), Some(s.clone()));
    assert_eq!(store.session_by_access("r-one").await.expect("read"), None, "a refresh digest is no access digest");
    assert_eq!(store.session_by_refresh("a-one").await.expect("read"), None);

    let same_access = Session { refresh_digest: "r-other".into(), ..session(101, 2, "x") };
    let same_access = Session { access_digest: "a-one".into(), ..same_access };
    assert_eq!(guard(store.insert_session(same_access, &[]).await), GuardFailure::Taken { field: "token" });
    let same_refresh = Session { refresh_digest: "r-one".into(), ..session(101, 2, "x") };
    assert_eq!(guard(store.insert_session(same_refresh, &[]).await), GuardFailure::Taken { field: "token" });
    assert_eq!(
        guard(store.insert_session(session(100, 2, "two"), &[]).await),
        GuardFailure::AlreadyExists { entity: "session", id: 100 }
    );
    // A taken digest is reported before a taken id.
    assert_eq!(guard(store.insert_session(session(100, 2, "one"), &[]).await), GuardFailure::Taken { field: "token" });
    assert_eq!(store.session_by_access("a-x").await.expect("read"), None);
    assert_eq!(store.session_by_access("a-two").await.expect("read"), None);

    assert!(store.revoke_session(SessionId(100)).await.expect("revoke"), "the first revoke revokes");
    assert!(!store.revoke_session(SessionId(100)).await.expect("revoke"), "the second finds it revoked");
    assert!(!store.revoke_session(SessionId(999)).await.expect("revoke"), "no such session");
    let revoked = store.session_by_refresh("r-one").await.expect("read").expect("session");
    assert_eq!(revoked, Session { revoked: true, ..s });
}

/// Revoking a user's sessions revokes all of them and no one else's.
pub async fn revoking_a_users_sessions_leaves_others_alone<S: IdentityStore + 'static>(store: S) {
    two_users(&store).await;
    for (id, user, token) in [(100, 1, "a1"), (101, 1, "a2"), (102, 2, "b1"), (103, 1, "a3")] {
        store.insert_session(session(id, user, token), &[]).await.expect("session");
    }
    assert!(store.revoke_session(SessionId(103)).await.expect("revoke"));
    store.revoke_sessions_of(UserId(1)).await.expect("revoke all");
    for (token, revoked) in [("a1", true), ("a2", true), ("a3", true), ("b1", false)] {
        let s = store.session_by_access(&format!("a-{token}")).await.expect("read").expect("session");
        assert_eq!(s.revoked, revoked, "{token}");
    }
    assert!(store.revoke_session(SessionId(102)).await.expect("revoke"), "bob's session was still live");
    store.revoke_sessions_of(UserId(7)).await.expect("a user with no sessions");
}

/// One code per phone: a put replaces it whole; guesses are counted up to
/// the limit and no further.
pub async fn verification_codes_are_replaced_per_phone<S: IdentityStore + 'static>(store: S) {
    let first = VerificationCode {
        phone: "13800000001".into(),
        digest: "d1".into(),
        sent_at: at(),
        expires_at: at() + Duration::minutes(5),
        attempts: 0,
        window_started_at: at(),
        sends_in_window: 1,
    };
    assert_eq!(store.verification_code("13800000001").await.expect("read"), None);
    store.put_verification_code(first.clone()).await.expect("put");
    assert_eq!(store.verification_code("13800000001").await.expect("read"), Some(first.clone()));
    let guessed = VerificationCode { attempts: 3, ..first.clone() };
    store.put_verification_code(guessed.clone()).await.expect("count a guess");
    assert_eq!(store.verification_code("13800000001").await.expect("read"), Some(guessed));
    let second = VerificationCode {
        digest: "d2".into(),
        sent_at: at() + Duration::minutes(2),
        expires_at: at() + Duration::minutes(7),
        ..first
    };
    store.put_verification_code(second.clone()).await.expect("replace");
    assert_eq!(store.verification_code("13800000001").await.expect("read"), Some(second.clone()));
    let other = VerificationCode { phone: "13800000002".into(), digest: "d3".into(), ..second.clone() };
    store.put_verification_code(other.clone()).await.expect("another phone");
    assert_eq!(store.verification_code("13800000002").await.expect("read"), Some(other));
    assert_eq!(store.verification_code("13800000001").await.expect("read"), Some(second.clone()), "untouched");

    // Guesses: each takes one attempt (one conditional update), none past the limit.
    let used = store.use_code_attempt("13800000001", 5).await.expect("guess").expect("a live code");
    assert_eq!(used.attempts, 1, "the replacing code starts from no attempts");
    let mut granted = 0;
    for _ in 0..8 {
        granted += usize::from(store.use_code_attempt("13800000001", 5).await.expect("guess").is_some());
    }
    assert_eq!(granted, 4, "four attempts remained");
    assert_eq!(store.verification_code("13800000001").await.expect("read").map(|c| c.attempts), Some(5));
    assert_eq!(store.use_code_attempt("13900000000", 5).await.expect("no code"), None);

    // Failed logins: counted in a window, restarted after its cutoff, cleared.
    let t0 = at();
    assert_eq!(store.login_failures("alice").await.expect("read"), None);
    for n in 1..=3 {
        let counted = store.record_login_failure("alice", t0 + Duration::seconds(n), t0 - Duration::minutes(15)).await;
        assert_eq!(counted.expect("count").failures, u32::try_from(n).expect("small"));
    }
    let stored = store.login_failures("alice").await.expect("read").expect("counted");
    assert_eq!((stored.failures, stored.window_started_at), (3, t0 + Duration::seconds(1)));
    let later = t0 + Duration::minutes(20);
    let fresh = store.record_login_failure("alice", later, later - Duration::minutes(15)).await.expect("count");
    assert_eq!((fresh.failures, fresh.window_started_at), (1, later), "an old window starts again");
    store.clear_login_failures("alice").await.expect("clear");
    assert_eq!(store.login_failures("alice").await.expect("read"), None);
}

/// Addresses: one default per user, the id stays its owner's, and only the
/// owner deletes.
pub async fn addresses_keep_one_default_and_their_owner<S: IdentityStore + 'static>(store: S) {
    two_users(&store).await;
    store.put_address(address(20, 1, true)).await.expect("first");
    store.put_address(address(21, 1, false)).await.expect("second");
    store.put_address(address(30, 2, true)).await.expect("bob's");
    assert_eq!(store.addresses(UserId(1)).await.expect("read"), vec![address(20, 1, true), address(21, 1, false)]);

    store.put_address(address(21, 1, true)).await.expect("make the second the default");
    assert_eq!(store.addresses(UserId(1)).await.expect("read"), vec![address(20, 1, false), address(21, 1, true)]);
    assert_eq!(store.addresses(UserId(2)).await.expect("read"), vec![address(30, 2, true)], "bob's default stays");

    let edited = Address { detail: "文一路1号".into(), postal_code: None, ..address(20, 1, false) };
    store.put_address(edited.clone()).await.expect("edit");
    assert_eq!(store.addresses(UserId(1)).await.expect("read"), vec![edited.clone(), address(21, 1, true)]);

    // Bob cannot take over Alice's address id, default or not.
    for is_default in [false, true] {
        assert_eq!(
            guard(store.put_address(address(20, 2, is_default)).await),
            GuardFailure::NotFound { entity: "address", id: 20 }
        );
    }
    assert_eq!(store.addresses(UserId(1)).await.expect("read"), vec![edited.clone(), address(21, 1, true)]);
    assert_eq!(store.addresses(UserId(2)).await.expect("read"), vec![address(30, 2, true)]);

    assert!(!store.delete_address(UserId(2), AddressId(20)).await.expect("delete"), "not bob's");
    assert!(store.delete_address(UserId(1), AddressId(20)).await.expect("delete"), "alice's");
    assert!(!store.delete_address(UserId(1), AddressId(20)).await.expect("delete"), "already gone");
    assert_eq!(store.addresses(UserId(1)).await.expect("read"), vec![address(21, 1, true)]);
    assert_eq!(store.addresses(UserId(3)).await.expect("read"), vec![]);
}

/// Eight addresses of one user made the default at once: all are saved and
/// exactly one is the default.
pub async fn concurrent_defaults_leave_exactly_one<S: IdentityStore + 'static>(store: S) {
    two_users(&store).await;
    store.put_address(address(20, 1, true)).await.expect("first");
    let store = Arc::new(store);
    let tasks: Vec<_> = (21..29)
        .map(|id| {
            let store = store.clone();
            tokio::spawn(async move { store.put_address(address(id, 1, true)).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("put");
    }
    let book = store.addresses(UserId(1)).await.expect("read");
    assert_eq!(book.iter().map(|a| a.id.0).collect::<Vec<_>>(), (20..29).collect::<Vec<_>>());
    assert_eq!(book.iter().filter(|a| a.is_default).count(), 1, "{book:?}");
    assert!(!book[0].is_default, "the first default was cleared");
}

/// A key starts once; the same request meanwhile is in progress, another
/// request a mismatch; a finished key replays its response; a released key
/// starts again. Keys are per user.
pub async fn idempotency_keys_start_replay_and_release<S: IdempotencyStore + 'static>(store: S) {
    let (u, other) = (UserId(1), UserId(2));
    let stale = at() - Duration::minutes(5);
    let claim = |user, fingerprint, now| store.claim_idempotency(user, "key-1", fingerprint, now, stale);
    assert_eq!(claim(u, "fp-a", at()).await.expect("claim"), IdempotencyClaim::Started);
    assert_eq!(claim(u, "fp-a", at() + Duration::seconds(1)).await.expect("claim"), IdempotencyClaim::InProgress);
    assert_eq!(claim(u, "fp-b", at() + Duration::seconds(1)).await.expect("claim"), IdempotencyClaim::Mismatch);
    assert_eq!(claim(other, "fp-b", at()).await.expect("claim"), IdempotencyClaim::Started, "keys are per user");

    let response = StoredResponse { status: 201, body: r#"{"order_id":"42","note":"下单成功"}"#.into() };
    store.finish_idempotency(u, "key-1", response.clone()).await.expect("finish");
    assert_eq!(
        claim(u, "fp-a", at() + Duration::seconds(2)).await.expect("claim"),
        IdempotencyClaim::Replay(response.clone())
    );
    assert_eq!(claim(u, "fp-a", at() + Duration::hours(1)).await.expect("claim"), IdempotencyClaim::Replay(response));
    assert_eq!(claim(u, "fp-b", at() + Duration::seconds(2)).await.expect("claim"), IdempotencyClaim::Mismatch);
    assert_eq!(claim(other, "fp-b", at()).await.expect("claim"), IdempotencyClaim::InProgress, "other's still running");

    store.release_idempotency(u, "key-1").await.expect("release");
    assert_eq!(claim(u, "fp-b", at() + Duration::seconds(3)).await.expect("claim"), IdempotencyClaim::Started);
    assert_eq!(claim(u, "fp-b", at() + Duration::seconds(4)).await.expect("claim"), IdempotencyClaim::InProgress);
    // Finishing or releasing a key nobody claimed does nothing.
    store.finish_idempotency(u, "nobody", StoredResponse { status: 200, body: "{}".into() }).await.expect("finish");
    store.release_idempotency(u, "nobody").await.expect("release");
    assert_eq!(
        store.claim_idempotency(u, "nobody", "fp", at(), stale).await.expect("claim"),
        IdempotencyClaim::Started
    );
}

/// A claim still running at `stale_after` (its caller died) is taken over,
/// and the take-over is a new start; a finished key is never taken over;
/// the retention sweep forgets old keys.
pub async fn a_stale_idempotency_claim_is_taken_over<S: IdempotencyStore + 'static>(store: S) {
    let u = UserId(1);
    let claim = |key, now, stale_after| store.claim_idempotency(u, key, "fp", now, stale_after);
    let started = at();
    assert_eq!(claim("k", started, started - Duration::minutes(5)).await.expect("claim"), IdempotencyClaim::Started);
    let later = started + Duration::minutes(10);
    assert_eq!(
        claim("k", later, started - Duration::seconds(1)).await.expect("claim"),
        IdempotencyClaim::InProgress,
        "started after stale_after: still running"
    );
    assert_eq!(claim("k", later, started).await.expect("claim"), IdempotencyClaim::Started, "started at stale_after");
    assert_eq!(
        claim("k", later + Duration::seconds(1), started + Duration::minutes(9)).await.expect("claim"),
        IdempotencyClaim::InProgress,
        "the take-over restarted the clock"
    );
    assert_eq!(
        store.claim_idempotency(u, "k", "other", later, later).await.expect("claim"),
        IdempotencyClaim::Mismatch,
        "a stale claim of another request is still a mismatch"
    );
    let response = StoredResponse { status: 200, body: "{}".into() };
    store.finish_idempotency(u, "k", response.clone()).await.expect("finish");
    assert_eq!(
        claim("k", later + Duration::days(1), later + Duration::days(1)).await.expect("claim"),
        IdempotencyClaim::Replay(response)
    );

    // The retention sweep forgets keys claimed before the cut-off, and only those.
    let newer = later + Duration::days(2);
    assert_eq!(claim("k2", newer, newer - Duration::minutes(5)).await.expect("claim"), IdempotencyClaim::Started);
    assert_eq!(store.purge_idempotency(later).await.expect("purge"), 0, "k was taken over at `later`");
    assert_eq!(store.purge_idempotency(later + Duration::seconds(1)).await.expect("purge"), 1);
    assert_eq!(claim("k", newer, newer).await.expect("claim"), IdempotencyClaim::Started, "k is new again");
    assert_eq!(claim("k2", newer, newer - Duration::minutes(5)).await.expect("claim"), IdempotencyClaim::InProgress);
}

/// Sixteen requests with one key at once: exactly one starts, the others
/// see it in progress.
pub async fn sixteen_concurrent_claims_start_exactly_once<S: IdempotencyStore + 'static>(store: S) {
    let store = Arc::new(store);
    let barrier = Arc::new(tokio::sync::Barrier::new(16));
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let (store, barrier) = (store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let now = at() + Duration::milliseconds(i);
                store.claim_idempotency(UserId(1), "same", "fp", now, at() - Duration::minutes(5)).await
            })
        })
        .collect();
    let mut claims = Vec::new();
    for task in tasks {
        claims.push(task.await.expect("task").expect("claim"));
    }
    let started = claims.iter().filter(|c| **c == IdempotencyClaim::Started).count();
    let running = claims.iter().filter(|c| **c == IdempotencyClaim::InProgress).count();
    assert_eq!((started, running), (1, 15), "{claims:?}");
}

/// Conformance case `identity_writes_append_their_events_or_none`: a user
/// insert, update or session insert appends its events with it; one its
/// guard refuses appends nothing.
pub async fn identity_writes_append_their_events_or_none<S: Store + IdentityStore + 'static>(store: S) {
    use mallkit_core::event::{Aggregate, DomainEvent, Event};
    use mallkit_core::identity::LoginVia;
    use mallkit_core::order::Actor;
    use mallkit_core::page::PageRequest;
    let event = |id: u64, event: Event| DomainEvent {
        id,
        at: at(),
        actor: Actor::Buyer(UserId(1)),
        aggregate: Aggregate::User,
        aggregate_id: 1,
        event,
    };
    let registered = event(901, Event::UserRegistered { role: Role::Customer });
    store.insert_user(user(1, "alice"), std::slice::from_ref(&registered)).await.expect("insert");
    // Refused: the username is taken; its event is not in the log.
    let again = event(902, Event::UserRegistered { role: Role::Customer });
    assert_eq!(guard(store.insert_user(user(2, "alice"), &[again]).await), GuardFailure::Taken { field: "username" });
    let renamed = User { nickname: "小艾".into(), ..user(1, "alice") };
    let profile = event(903, Event::ProfileUpdated);
    store.update_user(renamed.clone(), std::slice::from_ref(&profile)).await.expect("update");
    // Refused: version 0 is stale now.
    let stale = event(904, Event::PasswordChanged);
    assert_eq!(
        guard(store.update_user(renamed, &[stale]).await),
        GuardFailure::VersionConflict { entity: "user", id: 1 }
    );
    let login = event(905, Event::UserLoggedIn { via: LoginVia::Password, session: SessionId(50) });
    store.insert_session(session(50, 1, "one"), std::slice::from_ref(&login)).await.expect("session");
    let taken = event(906, Event::UserLoggedIn { via: LoginVia::Refresh, session: SessionId(51) });
    assert_eq!(
        guard(store.insert_session(session(51, 1, "one"), &[taken]).await),
        GuardFailure::Taken { field: "token" }
    );
    let page = PageRequest::new(Some(1), Some(50)).expect("page");
    let logged = store.events(Some((Aggregate::User, 1)), page).await.expect("events").items;
    assert_eq!(logged, vec![registered, profile, login]);
}
