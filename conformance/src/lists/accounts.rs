//! Coupon, ledger and user pages: `CouponStore::list_templates` and
//! `template_claims` (by id), `held_coupons` (newest claim first, statuses
//! as of `now`), `PointsStore::ledger_page` (newest first, by source) and
//! `IdentityStore::list_users` (newest first; role, status and keyword
//! against `UserFilter::admits`).

use chrono::{DateTime, Utc};
use mallkit_core::catalog::Merchant;
use mallkit_core::coupon::{
    CouponKind, CouponScope, CouponTemplate, TemplateStatus, UserCoupon, UserCouponStatus, Validity,
};
use mallkit_core::identity::{Role, User, UserFilter, UserStatus};
use mallkit_core::ids::{CategoryId, CheckoutId, CouponTemplateId, LedgerEntryId, MerchantId, UserCouponId, UserId};
use mallkit_core::money::Rate;
use mallkit_core::points::{LedgerEntry, PointsAction, PointsSource};
use mallkit_core::storage::{CatalogWrite, CouponWrite, IdentityStore, PointsWrite, Store, Write};

use super::{at, m, pages_equal};

/// Template ids, in the order they are written (not by id); 306 is never claimed.
const TEMPLATES: [u64; 9] = [305, 301, 309, 302, 308, 303, 307, 304, 306];

fn template(id: u64) -> CouponTemplate {
    let kind = match id % 3 {
        0 => CouponKind::Threshold { threshold: m("299.00"), amount: m("30.00") },
        1 => {
            CouponKind::Percentage { rate: Rate::from_bp(9000), threshold: m("100.00"), max_discount: Some(m("50.00")) }
        }
        _ => CouponKind::Cash { amount: m("5.00") },
    };
    CouponTemplate {
        id: CouponTemplateId(id),
        title: format!("双十二券 {id}"),
        kind,
        scope: if id.is_multiple_of(2) { CouponScope::All } else { CouponScope::Categories(vec![CategoryId(1)]) },
        validity: Validity::DaysAfterClaim { days: 30 },
        total_limit: if id.is_multiple_of(2) { None } else { Some(100) },
        per_user_limit: 5,
        issued: 0,
        used: 0,
        status: TemplateStatus::Enabled,
        layer: None,
    }
}

/// A coupon claimed at minute `claimed`, valid until minute `valid_to`.
fn coupon(id: u64, user: u64, template: u64, claimed: i64, valid_to: i64) -> UserCoupon {
    UserCoupon {
        id: UserCouponId(id),
        template: CouponTemplateId(template),
        user: UserId(user),
        status: UserCouponStatus::Unused,
        valid_from: at(claimed),
        valid_to: at(valid_to),
        claimed_at: at(claimed),
        checkout: None,
        used_at: None,
    }
}

/// The claims, in the order they are written: ties in claim time (9001,
/// 9002 and 9012 at minute 100), a window ending exactly at minute 10 000
/// (9003) and one minute after it (9013).
fn claims() -> Vec<UserCoupon> {
    vec![
        coupon(9007, 101, 305, 150, 9000),
        coupon(9001, 101, 301, 100, 20000),
        coupon(9101, 102, 301, 120, 20000),
        coupon(9012, 101, 304, 100, 20000),
        coupon(9003, 101, 302, 50, 10000),
        coupon(9002, 101, 301, 100, 5000),
        coupon(9010, 101, 308, 600, 9999),
        coupon(9004, 101, 303, 300, 20000),
        coupon(9102, 102, 302, 130, 20000),
        coupon(9005, 101, 303, 200, 6000),
        coupon(9014, 101, 301, 250, 8000),
        coupon(9006, 101, 305, 400, 20000),
        coupon(9103, 102, 305, 140, 20000),
        coupon(9008, 101, 307, 500, 20000),
        coupon(9013, 101, 302, 800, 10001),
        coupon(9009, 101, 308, 20, 30000),
        coupon(9104, 102, 309, 160, 20000),
        coupon(9011, 101, 309, 700, 20000),
        coupon(9105, 102, 308, 170, 20000),
    ]
}

fn set(coupon: u64, from: UserCouponStatus, to: UserCouponStatus, minute: i64) -> Write {
    let checkout = (to == UserCouponStatus::Locked).then_some(CheckoutId(coupon + 1000));
    Write::Coupon(CouponWrite::SetStatus { coupon: UserCouponId(coupon), from, to, checkout, at: at(minute) })
}

/// Templates and claims written, coupons locked, used, released, expired
/// and voided, template 309 disabled; returns every coupon as read back.
async fn coupons<S: Store>(store: &S) -> Vec<UserCoupon> {
    use UserCouponStatus::{Expired, Locked, Unused, Used, Void};
    store
        .apply(TEMPLATES.iter().map(|&t| Write::Coupon(CouponWrite::PutTemplate(template(t)))).collect())
        .await
        .expect("templates");
    for c in claims() {
        store.apply(vec![Write::Coupon(CouponWrite::Issue(c))]).await.expect("claim");
    }
    let moves = vec![
        set(9004, Unused, Locked, 1000),
        set(9005, Unused, Locked, 1000),
        set(9006, Unused, Locked, 1100),
        set(9006, Locked, Used, 1101),
        set(9012, Unused, Locked, 1200),
        set(9012, Locked, Used, 1201),
        set(9103, Unused, Locked, 1300),
        set(9103, Locked, Used, 1301),
        set(9007, Unused, Expired, 9001),
        set(9008, Unused, Void, 1400),
        set(9014, Unused, Locked, 1500),
        set(9014, Locked, Unused, 1530),
    ];
    store.apply(moves).await.expect("moves");
    let disable = Write::Coupon(CouponWrite::SetTemplateStatus {
        template: CouponTemplateId(309),
        status: TemplateStatus::Disabled,
    });
    store.apply(vec![disable]).await.expect("disable");
    let mut read = Vec::new();
    for c in claims() {
        read.push(store.user_coupon(c.id).await.expect("read").expect("coupon"));
    }
    read.sort_by_key(|c| c.id);
    let status = |id: u64| read.iter().find(|c| c.id == UserCouponId(id)).map(|c| c.status);
    assert_eq!((status(9006), status(9014), status(9008)), (Some(Used), Some(Unused), Some(Void)));
    read
}

/// Every template page by id, with the claims and uses the store counted
/// and a disabled one; each template's claims by id, whoever holds them
/// (none for one template, none for an unknown one).
pub async fn template_and_claim_pages_follow_ids<S: Store + 'static>(store: S) {
    let held = coupons(&store).await;
    let mut templates: Vec<CouponTemplate> = TEMPLATES
        .iter()
        .map(|&id| {
            let of = |c: &&UserCoupon| c.template == CouponTemplateId(id);
            CouponTemplate {
                issued: held.iter().filter(of).count() as u32,
                used: held.iter().filter(of).filter(|c| c.status == UserCouponStatus::Used).count() as u32,
                status: if id == 309 { TemplateStatus::Disabled } else { TemplateStatus::Enabled },
                ..template(id)
            }
        })
        .collect();
    templates.sort_by_key(|t| t.id);
    pages_equal("templates", &templates, |p| store.list_templates(p)).await;
    assert_eq!(templates.iter().map(|t| t.issued).sum::<u32>(), 19);
    for id in TEMPLATES.into_iter().chain([399]) {
        let template = CouponTemplateId(id);
        let expected: Vec<UserCoupon> = held.iter().filter(|c| c.template == template).cloned().collect();
        assert_eq!(expected.is_empty(), [306, 399].contains(&id));
        pages_equal(&format!("claims of {id}"), &expected, |p| store.template_claims(template, p)).await;
    }
}

/// A buyer's coupons newest claim first (then id), each with its status as
/// of `now`: an unused coupon whose window ended before `now` reads and
/// filters as expired, one ending exactly at `now` is still unused, a
/// locked one past its window stays locked; for three different `now`s and
/// every status filter. Another buyer's coupons never show.
pub async fn held_coupons_page_by_claim_time_with_status_as_of_now<S: Store + 'static>(store: S) {
    use UserCouponStatus::{Expired, Locked, Unused, Used, Void};
    let held = coupons(&store).await;
    for now in [at(4000), at(10000), at(10002)] {
        for user in [101, 102, 103] {
            for status in [None, Some(Unused), Some(Locked), Some(Used), Some(Expired), Some(Void)] {
                let mut expected: Vec<UserCoupon> = held
                    .iter()
                    .filter(|c| c.user == UserId(user))
                    .map(|c| UserCoupon { status: c.status_at(now), ..c.clone() })
                    .filter(|c| status.is_none_or(|s| c.status == s))
                    .collect();
                expected.sort_by(|a, b| b.claimed_at.cmp(&a.claimed_at).then(b.id.cmp(&a.id)));
                let what = format!("coupons of {user} as of {now}, {status:?}");
                pages_equal(&what, &expected, |p| store.held_coupons(UserId(user), status, now, p)).await;
            }
        }
    }
    // the data exercises the rule
    let of_101 = |now: DateTime<Utc>, s| held.iter().filter(|c| c.user == UserId(101) && c.status_at(now) == s).count();
    assert_eq!((of_101(at(4000), Expired), of_101(at(10000), Expired), of_101(at(10002), Expired)), (1, 4, 6));
    assert_eq!(of_101(at(10000), Locked), 2);
}

fn entry(id: u64, user: u64, source: PointsSource, action: PointsAction, reference: u64, points: i64) -> LedgerEntry {
    LedgerEntry {
        id: LedgerEntryId(id),
        user: UserId(user),
        source,
        action,
        reference,
        points,
        balance_delta: 0,
        frozen_delta: 0,
        balance_after: 0,
        remark: format!("{source:?} {reference}"),
        at: at(0),
    }
}

/// A buyer's ledger newest first (the reverse of the write order, which
/// here is not the id order), alone and by each source; another buyer's
/// rows never show, a buyer without rows has an empty ledger.
pub async fn ledger_pages_newest_first_by_source<S: Store + 'static>(store: S) {
    use PointsAction::{Adjust, Earn, Freeze, Return, Reverse, Spend, Unfreeze};
    use PointsSource::{AdminAdjustment, OrderReward, PaymentDeduction, RefundReturn, RefundReversal};
    let batches: Vec<Vec<LedgerEntry>> = vec![
        vec![entry(8001, 101, OrderReward, Earn, 5001, 300)],
        vec![entry(8002, 101, AdminAdjustment, Adjust, 1, 500)],
        vec![entry(8101, 102, OrderReward, Earn, 5101, 100)],
        vec![entry(8003, 101, PaymentDeduction, Freeze, 5002, 200)],
        vec![entry(8004, 101, PaymentDeduction, Spend, 5002, 200)],
        vec![entry(8006, 101, OrderReward, Earn, 5003, 120)],
        vec![entry(8005, 101, RefundReturn, Return, 7001, 50)],
        vec![entry(8007, 101, RefundReversal, Reverse, 7001, 30)],
        vec![
            entry(8008, 101, PaymentDeduction, Freeze, 5004, 100),
            entry(8009, 101, PaymentDeduction, Unfreeze, 5004, 100),
        ],
        vec![entry(8010, 101, AdminAdjustment, Adjust, 2, -80)],
        vec![entry(8102, 102, AdminAdjustment, Adjust, 9, 50)],
        vec![entry(8011, 101, OrderReward, Earn, 5005, 60)],
        vec![entry(8012, 101, PaymentDeduction, Freeze, 5006, 150)],
        vec![entry(8013, 101, PaymentDeduction, Spend, 5006, 150)],
        vec![entry(8014, 101, RefundReturn, Return, 7002, 150)],
        vec![entry(8015, 101, OrderReward, Earn, 5007, 200)],
        vec![entry(8016, 101, RefundReversal, Reverse, 7002, 20)],
        vec![entry(8017, 101, AdminAdjustment, Adjust, 3, 10)],
    ];
    let mut batches = batches;
    // times follow the writes, ids do not
    for (k, e) in batches.iter_mut().flatten().enumerate() {
        e.at = at(k as i64 * 10);
    }
    for batch in &batches {
        store
            .apply(batch.iter().cloned().map(|v| Write::Points(PointsWrite::Post(v))).collect())
            .await
            .expect("points");
    }
    assert_eq!(store.points_account(UserId(101)).await.expect("account").balance, 910);
    for user in [101, 102, 103] {
        let mut newest: Vec<LedgerEntry> = store.ledger(UserId(user)).await.expect("ledger");
        newest.reverse();
        let written: Vec<LedgerEntryId> =
            batches.iter().flatten().rev().filter(|e| e.user == UserId(user)).map(|e| e.id).collect();
        assert_eq!(newest.iter().map(|e| e.id).collect::<Vec<_>>(), written, "ledger of {user}");
        for source in [
            None,
            Some(OrderReward),
            Some(RefundReversal),
            Some(PaymentDeduction),
            Some(RefundReturn),
            Some(AdminAdjustment),
        ] {
            let expected: Vec<LedgerEntry> =
                newest.iter().filter(|e| source.is_none_or(|s| e.source == s)).cloned().collect();
            let what = format!("ledger of {user}, {source:?}");
            pages_equal(&what, &expected, |p| store.ledger_page(UserId(user), source, p)).await;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn user(
    id: u64,
    username: &str,
    nickname: &str,
    phone: Option<&str>,
    email: Option<&str>,
    role: Role,
    merchant: Option<u64>,
    status: UserStatus,
) -> User {
    User {
        id: UserId(id),
        username: username.into(),
        phone: phone.map(String::from),
        email: email.map(String::from),
        nickname: nickname.into(),
        avatar: None,
        wechat_openid: None,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        role,
        merchant: merchant.map(MerchantId),
        status,
        created_at: at(id as i64),
        version: 0,
    }
}

/// Twenty-four users of every role and status, with logins in mixed case,
/// Chinese nicknames, some without phone or e-mail.
fn users() -> Vec<User> {
    use Role::{Admin, Customer, Merchant};
    use UserStatus::{Active, Frozen};
    let mut users = vec![
        user(201, "wangfang", "王芳", Some("13800138001"), Some("wangfang@mall.cn"), Customer, None, Active),
        user(202, "Li_Lei", "李雷", Some("13800138002"), None, Customer, None, Active),
        user(203, "ALICE_w", "Alice", Some("13900001111"), Some("Alice.W@Example.com"), Customer, None, Frozen),
        user(204, "bob_chen", "小陈", None, Some("bob@example.com"), Customer, None, Active),
        user(205, "xiaomi_shop", "小米店长", Some("13700000005"), Some("shop@xiaomi.com"), Merchant, Some(1), Active),
        user(206, "huawei_ops", "华为运营", None, Some("ops@HUAWEI.com"), Merchant, Some(2), Frozen),
        user(207, "admin", "管理员", None, Some("admin@MALL.cn"), Admin, None, Active),
        user(208, "zhangsan", "张三", Some("13800138008"), None, Customer, None, Frozen),
        user(209, "malice99", "麦粒", None, None, Customer, None, Active),
        user(210, "HuaweiShop2", "华为二店", None, None, Merchant, Some(2), Active),
    ];
    for id in 211..=224u64 {
        let email = format!("buyer{id}@QQ.com");
        let phone = format!("1860000{id:04}");
        let status = if id % 5 == 0 { Frozen } else { Active };
        let role = if id == 222 { Admin } else { Customer };
        let nickname = format!("买家{id}");
        let email = (id.is_multiple_of(3)).then_some(email.as_str());
        users.push(user(id, &format!("buyer{id}"), &nickname, Some(&phone), email, role, None, status));
    }
    users
}

/// Users newest first (highest id), by role, by status, by a keyword found
/// in the username, nickname, phone or e-mail whatever its case (`_` and
/// `%` are plain characters), and all of them at once.
pub async fn user_pages_filter_by_role_status_and_keyword<S: Store + IdentityStore + 'static>(store: S) {
    let merchants = [1, 2].map(|id| {
        Write::Catalog(CatalogWrite::PutMerchant(Merchant { id: MerchantId(id), name: format!("店铺{id}") }))
    });
    store.apply(merchants.to_vec()).await.expect("merchants");
    let users = users();
    for u in users.iter().rev().step_by(2).chain(users.iter().rev().skip(1).step_by(2)) {
        store.insert_user(u.clone(), &[]).await.expect("user");
    }
    let by = |role, status, keyword: Option<&str>| UserFilter { role, status, keyword: keyword.map(String::from) };
    let mut filters = vec![UserFilter::default()];
    for role in [Role::Customer, Role::Merchant, Role::Admin] {
        filters.push(by(Some(role), None, None));
    }
    for status in [UserStatus::Active, UserStatus::Frozen] {
        filters.push(by(None, Some(status), None));
    }
    filters.push(by(Some(Role::Customer), Some(UserStatus::Frozen), None));
    let keywords = [
        "alice",
        "ALI",
        "王",
        "小",
        "138001",
        "example.com",
        "@MALL.CN",
        "qq",
        "_",
        "%",
        "zz",
        "shop",
        "13800138008",
        "买家21",
    ];
    for k in keywords {
        filters.push(by(None, None, Some(k)));
    }
    filters.push(by(Some(Role::Merchant), None, Some("SHOP")));
    filters.push(by(Some(Role::Customer), Some(UserStatus::Active), Some("buyer")));
    for filter in &filters {
        let mut expected: Vec<User> = users.iter().filter(|u| filter.admits(u)).cloned().collect();
        expected.sort_by_key(|u| std::cmp::Reverse(u.id));
        if !matches!(filter.keyword.as_deref(), Some("%" | "zz")) {
            assert!(!expected.is_empty(), "the data exercises {filter:?}");
        }
        pages_equal(&format!("users {filter:?}"), &expected, |p| store.list_users(filter, p)).await;
    }
    let underscore = users.iter().filter(|u| by(None, None, Some("_")).admits(u)).count();
    assert!(0 < underscore && underscore < users.len(), "`_` matches some users, not every one");
}
