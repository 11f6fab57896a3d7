//! A template's total cannot drop below what it has issued; amounts survive
//! a JSON round trip exactly.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use mallkit_core::clock::{ManualClock, SequentialIds};
use mallkit_core::coupon::{CouponKind, CouponScope, CouponTemplate, TemplateStatus, Validity};
use mallkit_core::ids::{CouponTemplateId, UserId};
use mallkit_core::payment::SimulatedProvider;
use mallkit_core::{Mall, MallError, Money, Policy};
use mallkit_storage_memory::MemoryStore;
use proptest::prelude::*;

#[tokio::test]
async fn total_limit_cannot_drop_below_issued() {
    let now = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().expect("time");
    let mall = Mall::new(
        MemoryStore::new(),
        Arc::new(ManualClock::new(now)),
        Arc::new(SequentialIds::starting_at(100)),
        Arc::new(SimulatedProvider::instant()),
        Policy::default(),
    );
    let mut template = CouponTemplate {
        id: CouponTemplateId(1),
        title: "满299减30".into(),
        kind: CouponKind::Threshold { threshold: Money::from_yuan(299), amount: Money::from_yuan(30) },
        scope: CouponScope::All,
        validity: Validity::DaysAfterClaim { days: 7 },
        total_limit: Some(10),
        per_user_limit: 1,
        issued: 0,
        used: 0,
        status: TemplateStatus::Enabled,
        layer: None,
    };
    mall.save_template(template.clone()).await.expect("saved");
    for user in 1..=3 {
        mall.claim_coupon(UserId(user), CouponTemplateId(1)).await.expect("claimed");
    }
    template.total_limit = Some(2);
    match mall.save_template(template.clone()).await {
        Err(MallError::InvalidInput { field, message }) => {
            assert_eq!(field, "template.total_limit");
            assert!(message.contains("3 coupons already issued"), "{message}");
        }
        other => panic!("expected invalid input, got {other:?}"),
    }
    template.total_limit = Some(3);
    mall.save_template(template).await.expect("exactly what was issued is fine");
}

proptest! {
    #[test]
    fn amounts_round_trip_through_json_numbers(fen in -999_999_999_999_999i64..1_000_000_000_000_000) {
        let money = Money::from_fen(fen);
        let text = serde_json::to_string(&money).expect("serialise");
        prop_assert!(!text.starts_with('"'), "a JSON number: {}", text);
        let back: Money = serde_json::from_str(&text).expect("read back");
        prop_assert_eq!(back, money);
    }

    #[test]
    fn huge_amounts_round_trip_as_strings(fen in 1_000_000_000_000_000i64..i64::MAX / 2) {
        let money = Money::from_fen(fen);
        let text = serde_json::to_string(&money).expect("serialise");
        prop_assert!(text.starts_with('"'), "a string: {}", text);
        let back: Money = serde_json::from_str(&text).expect("read back");
        prop_assert_eq!(back, money);
    }
}

#[test]
fn a_third_decimal_is_refused_in_json() {
    assert!(serde_json::from_str::<Money>("12.345").is_err());
    assert!(serde_json::from_str::<Money>("\"12.345\"").is_err());
    assert_eq!(serde_json::from_str::<Money>("12.3").expect("12.30"), Money::from_fen(1230));
    assert_eq!(serde_json::to_string(&Money::from_fen(1230)).expect("json"), "12.3");
    assert_eq!(serde_json::to_string(&Money::from_fen(-5)).expect("json"), "-0.05");
}
