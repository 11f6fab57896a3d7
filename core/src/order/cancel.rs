//! Cancelling a paid order before it ships (seed 001 §6.5, DESIGN §6): the
//! pure plan of what goes back. The command loads the order, calls
//! [`plan`], refunds [`CancelPlan::amount`] through the provider and writes
//! the plan.

use crate::after_sales::AfterSaleError;
use crate::ids::SkuId;
use crate::money::Money;
use crate::order::Order;

/// What cancelling a paid order gives back: whatever earlier refunds left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelPlan {
    /// The order with every line settled (all units after-sold and
    /// refunded, all redeemed points returned), its refunded total raised
    /// by `amount` and the shipping fee marked refunded. Its status is the
    /// caller's (the cancel transition).
    pub order: Order,
    /// Money back through the provider, yuan: each line's payable not yet
    /// refunded, plus the shipping fee unless it went back already.
    pub amount: Money,
    /// Units to restock per SKU: each line's units not yet refunded.
    pub restock: Vec<(SkuId, u32)>,
    /// Redeemed points not yet returned.
    pub points_back: i64,
}

/// Plans the cancel of paid `order`.
///
/// # Errors
/// [`AfterSaleError::InProgress`] while a line has units in an after-sales
/// case that is not refunded yet (the case must end first).
pub fn plan(order: &Order) -> Result<CancelPlan, AfterSaleError> {
    if order.lines.iter().any(|l| l.after_sales_quantity > l.refunded_quantity) {
        return Err(AfterSaleError::InProgress { order: order.id });
    }
    let mut order = order.clone();
    let mut amount = if order.shipping_refunded { Money::ZERO } else { order.shipping_fee };
    let mut restock = Vec::new();
    let mut points_back = 0;
    for l in &mut order.lines {
        let units = l.quantity - l.refunded_quantity;
        if units > 0 {
            restock.push((l.sku, units));
        }
        amount += l.payable - l.refunded_amount;
        points_back += l.points_used - l.points_returned;
        l.after_sales_quantity = l.quantity;
        l.refund_claimed_quantity = l.quantity;
        l.refunded_quantity = l.quantity;
        l.refunded_amount = l.payable;
        l.points_returned = l.points_used;
    }
    order.refunded_total += amount;
    order.shipping_refunded = true;
    Ok(CancelPlan { order, amount, restock, points_back })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::fixtures::paid_order;

    fn m(s: &str) -> Money {
        s.parse().expect("money")
    }

    #[test]
    fn an_open_case_blocks_the_cancel() {
        // The fixture's two units are in a case that has refunded nothing yet.
        assert_eq!(plan(&paid_order()), Err(AfterSaleError::InProgress { order: paid_order().id }));
    }

    #[test]
    fn a_paid_order_gives_back_goods_shipping_and_points() {
        let mut order = paid_order();
        order.lines[0].after_sales_quantity = 0;
        order.lines[0].refund_claimed_quantity = 0;
        let p = plan(&order).expect("no case open");
        assert_eq!((p.amount, p.points_back), (m("97.00"), 300));
        assert_eq!(p.restock, vec![(SkuId(3), 2)]);
        assert_eq!((p.order.refunded_total, p.order.shipping_refunded), (m("97.00"), true));
        assert!(p.order.fully_refunded());
    }

    #[test]
    fn after_a_partial_refund_only_the_rest_goes_back() {
        // One unit (43.50 and 150 points) went back through a case already.
        let mut order = paid_order();
        let line = &mut order.lines[0];
        (line.refunded_quantity, line.refunded_amount, line.points_returned) = (1, m("43.50"), 150);
        order.refunded_total = m("43.50");
        order.lines[0].after_sales_quantity = 1;
        let p = plan(&order).expect("the case ended refunded");
        assert_eq!((p.amount, p.points_back), (m("53.50"), 150));
        assert_eq!(p.restock, vec![(SkuId(3), 1)]);
        assert_eq!(p.order.refunded_total, m("97.00"));

        // Shipping already refunded and every unit refunded: nothing is left.
        let none = plan(&p.order).expect("nothing open");
        assert_eq!((none.amount, none.points_back, none.restock.len()), (Money::ZERO, 0, 0));
    }
}
