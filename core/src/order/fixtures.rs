//! A test order shared by the pure rules' tests (refunds, cancels).

use chrono::{TimeZone, Utc};

use crate::ids::{CheckoutId, MerchantId, OrderId, PaymentId, ProductId, SkuId, UserId};
use crate::money::Money;
use crate::order::{Order, OrderLine, OrderStatus};

fn m(s: &str) -> Money {
    s.parse().expect("money")
}

/// Seed 000 §6 refund only before shipping: 2 × 45.00 plus a 10.00 fee, paid.
pub(crate) fn paid_order() -> Order {
    let at = Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).single().expect("time");
    Order {
        id: OrderId(1),
        number: "ORD1".into(),
        checkout: CheckoutId(1),
        user: UserId(7),
        merchant: MerchantId(1),
        status: OrderStatus::AwaitingShipment,
        lines: vec![OrderLine {
            line_no: 1,
            sku: SkuId(3),
            product: ProductId(2),
            name: "A8001".into(),
            quantity: 2,
            list_unit_price: m("45.00"),
            unit_price: m("45.00"),
            subtotal: m("90.00"),
            coupon_discount: Money::ZERO,
            points_used: 300,
            points_deduction: m("3.00"),
            payable: m("87.00"),
            after_sales_quantity: 2,
            refund_claimed_quantity: 2,
            refunded_quantity: 0,
            refunded_amount: Money::ZERO,
            points_returned: 0,
        }],
        goods_subtotal: m("90.00"),
        coupon_discount: Money::ZERO,
        points_used: 300,
        points_deduction: m("3.00"),
        shipping_fee: m("10.00"),
        payable: m("97.00"),
        coupons: Vec::new(),
        remark: String::new(),
        created_at: at,
        pay_deadline: at,
        paid_at: Some(at),
        payment: Some(PaymentId(5)),
        shipment: None,
        auto_confirm_at: None,
        completed_at: None,
        ended_at: None,
        points_earned: 0,
        points_earned_on: Money::ZERO,
        points_reversed: 0,
        refunded_total: Money::ZERO,
        shipping_refunded: false,
        shipping_address: None,
        history: Vec::new(),
        version: 3,
    }
}
