//! The refund of an after-sales case as a pure plan (DESIGN §5, §8): what
//! goes back to the buyer and what the order and case record, computed
//! from the case and its order alone, so it is tested without a store.
//! [`crate::Mall::refund_after_sale`] loads, plans, sends the money
//! through the provider once and applies the plan in one batch.

use crate::after_sales::{AfterSale, distribute_refund};
use crate::ids::SkuId;
use crate::money::{Money, Rounding};
use crate::order::{Order, OrderStatus};

/// What refunding a case does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundPlan {
    /// The case with each line's refunded amount, the shipping refund and
    /// the points returned and reversed.
    pub case: AfterSale,
    /// The order with each line's refunded amount, units and points, its
    /// refunded total and shipping flag (its status is the caller's: see
    /// `closes_order`).
    pub order: Order,
    /// Money back through the provider, yuan: goods, plus shipping when the
    /// whole order is refunded before it ships.
    pub total: Money,
    /// Units to restock per SKU (only before shipping; returned goods are
    /// restocked when received).
    pub restock: Vec<(SkuId, u32)>,
    /// Redeemed points given back now.
    pub points_returned: i64,
    /// Earned points taken back now.
    pub points_reversed: i64,
    /// Every line is fully refunded: the order closes.
    pub closes_order: bool,
}

/// ⌊points × part / whole⌋ (0 when `whole` is not positive).
pub fn rounding_down_share(points: i64, part: Money, whole: Money) -> i64 {
    Rounding::Down.divide(i128::from(points) * i128::from(part.fen()), i128::from(whole.fen())) as i64
}

/// Plans the refund of `case` (already moved to `refunded`) on `order`.
///
/// The money is the case's refund amount spread over its lines
/// ([`distribute_refund`]); redeemed points come back in proportion to the
/// money refunded on each line, all of them once the line is fully
/// refunded (a line paid wholly by coupon and points goes by units); earned
/// points are taken back in proportion to what was refunded since they were
/// earned (DESIGN §5).
pub fn plan(case: &AfterSale, order: &Order) -> RefundPlan {
    let (mut case, mut order) = (case.clone(), order.clone());
    let parts = distribute_refund(&order, &case.lines, case.refund_amount);
    let goods_refund: Money = parts.iter().map(|p| p.1).sum();
    for (line_no, amount) in parts {
        if let Some(ol) = order.lines.iter_mut().find(|l| l.line_no == line_no) {
            ol.refunded_amount += amount;
        }
        if let Some(cl) = case.lines.iter_mut().find(|l| l.line_no == line_no) {
            cl.refunded += amount;
        }
    }
    let unshipped = order.status == OrderStatus::AwaitingShipment;
    let mut points_returned = 0;
    let mut restock = Vec::new();
    for cl in &case.lines {
        let Some(ol) = order.lines.iter_mut().find(|l| l.line_no == cl.line_no) else { continue };
        ol.refunded_quantity = (ol.refunded_quantity + cl.quantity).min(ol.quantity);
        let due = if ol.fully_refunded() {
            ol.points_used
        } else if ol.payable.is_positive() {
            rounding_down_share(ol.points_used, ol.refunded_amount.min(ol.payable), ol.payable)
        } else {
            Rounding::Down
                .divide(i128::from(ol.points_used) * i128::from(ol.refunded_quantity), i128::from(ol.quantity))
                as i64
        };
        points_returned += due - ol.points_returned;
        ol.points_returned = due;
        if unshipped {
            restock.push((ol.sku, cl.quantity));
        }
    }
    let shipping = if unshipped && order.fully_refunded() && !order.shipping_refunded {
        order.shipping_refunded = true;
        order.shipping_fee
    } else {
        Money::ZERO
    };
    case.shipping_refund = shipping;
    let total = goods_refund + shipping;
    order.refunded_total += total;
    if points_returned > 0 {
        case.points_returned = points_returned;
    }
    let mut points_reversed = 0;
    if order.points_earned > 0 {
        let payable: Money = order.lines.iter().map(|l| l.payable).sum();
        let refunded: Money = order.lines.iter().map(|l| l.refunded_amount).sum();
        let earned_on = if order.points_earned_on.is_positive() { order.points_earned_on } else { payable };
        let refunded_since = (refunded - (payable - earned_on)).max(Money::ZERO).min(earned_on);
        let due = rounding_down_share(order.points_earned, refunded_since, earned_on);
        let reverse = due - order.points_reversed;
        if reverse > 0 {
            case.points_reversed = reverse;
            order.points_reversed = due;
            points_reversed = reverse;
        }
    }
    let closes_order = order.fully_refunded();
    RefundPlan { case, order, total, restock, points_returned: points_returned.max(0), points_reversed, closes_order }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::after_sales::{AfterSaleKind, AfterSaleLine, AfterSaleStatus};
    use crate::ids::{AfterSaleId, MerchantId, OrderId, UserId};

    fn m(s: &str) -> Money {
        s.parse().expect("money")
    }

    fn order() -> Order {
        crate::order::fixtures::paid_order()
    }

    fn case(quantity: u32, amount: &str) -> AfterSale {
        AfterSale {
            id: AfterSaleId(9),
            number: "AS9".into(),
            order: OrderId(1),
            user: UserId(7),
            merchant: MerchantId(1),
            kind: AfterSaleKind::RefundOnly,
            status: AfterSaleStatus::Refunded,
            lines: vec![AfterSaleLine { line_no: 1, quantity, amount: m(amount), refunded: Money::ZERO }],
            reason: "不想要了".into(),
            goods_amount: m(amount),
            clawback: Money::ZERO,
            clawback_by_coupon: Vec::new(),
            refund_amount: m(amount),
            shipping_refund: Money::ZERO,
            points_returned: 0,
            points_reversed: 0,
            return_tracking_no: None,
            created_at: order().created_at,
            logs: Vec::new(),
            version: 1,
        }
    }

    #[test]
    fn one_unit_then_the_last_with_the_shipping_fee() {
        let first = plan(&case(1, "43.50"), &order());
        assert_eq!((first.total, first.points_returned, first.closes_order), (m("43.50"), 150, false));
        assert_eq!(first.restock, vec![(SkuId(3), 1)]);
        assert_eq!(first.order.lines[0].refunded_amount, m("43.50"));
        assert!(!first.order.shipping_refunded);

        let last = plan(&case(1, "43.50"), &first.order);
        assert_eq!((last.total, last.points_returned, last.closes_order), (m("53.50"), 150, true));
        assert_eq!(last.case.shipping_refund, m("10.00"));
        assert_eq!(last.order.refunded_total, m("97.00"));
        assert_eq!(last.order.lines[0].points_returned, 300);
    }

    #[test]
    fn nothing_is_restocked_after_shipping() {
        let mut shipped = order();
        shipped.status = OrderStatus::Shipped;
        let p = plan(&case(2, "87.00"), &shipped);
        assert!(p.restock.is_empty());
        assert_eq!((p.total, p.closes_order, p.case.shipping_refund), (m("87.00"), true, Money::ZERO));
    }
}
