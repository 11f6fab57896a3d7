//! Policy validation names the offending field.

use mallkit_core::{MallError, Money, Policy};

fn m(s: &str) -> Money {
    s.parse().expect("money literal")
}

#[test]
fn policy_validation_names_the_field() {
    assert_eq!(Policy::default().validate(), Ok(()));
    let mut p = Policy::default();
    p.pricing.points.redeem_points_per_yuan = 150;
    let field = |p: &Policy| match p.validate() {
        Err(MallError::InvalidInput { field, .. }) => field,
        other => panic!("expected invalid input, got {other:?}"),
    };
    assert_eq!(field(&p), "policy.pricing.points.redeem_points_per_yuan");
    let mut p = Policy::default();
    p.pricing.shipping.flat_fee = m("-1.00");
    assert_eq!(field(&p), "policy.pricing.shipping.flat_fee");
    let p = Policy { payment_timeout_minutes: 0, ..Policy::default() };
    assert_eq!(field(&p), "policy.payment_timeout_minutes");
}
