//! `mallkit quote FILE`: price one cart described by a file (the scenario
//! set-up sections plus a `[quote]` table) and print the breakdown.

use std::fmt::Write as _;
use std::path::Path;

use mallkit_core::Money;
use mallkit_core::pricing::{AdjustmentSource, CouponRejection, Quote, ShippingBasis};

use crate::scenario::{self, run};

/// Prices the cart of `path`.
///
/// # Errors
/// A message naming the file and what in it was refused.
pub async fn price(path: &Path) -> Result<Quote, String> {
    let file = scenario::load(path)?;
    let cart = file.quote.as_ref().ok_or_else(|| format!("{}: no [quote] table", path.display()))?;
    let mut world = run::setup(&file, mallkit_storage_memory::MemoryStore::new())
        .await
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let user = world.user_id(&cart.user).ok_or_else(|| format!("quote.user: no user named \"{}\"", cart.user))?;
    for template in &cart.coupons_held {
        let id = mallkit_core::ids::CouponTemplateId(*template);
        let coupon = world
            .mall
            .claim_coupon(user, id)
            .await
            .map_err(|e| format!("quote.coupons_held: template {template}: {e}"))?;
        world.name_coupon(template.to_string(), coupon.id);
    }
    let request = world.request(&Some(cart.lines.clone()), &cart.coupons, &cart.points)?;
    world.mall.preview(user, &request).await.map_err(|e| format!("{}: {} ({})", path.display(), e, e.kind()))
}

fn reason(r: &CouponRejection) -> String {
    match r {
        CouponRejection::NotUsable { status } => format!("not usable ({status:?})"),
        CouponRejection::Disabled => "template disabled".into(),
        CouponRejection::NotYetValid { valid_from } => format!("not valid before {valid_from}"),
        CouponRejection::Expired { valid_to } => format!("expired at {valid_to}"),
        CouponRejection::OutOfScope => "no line in scope".into(),
        CouponRejection::BelowThreshold { short_by } => format!("below threshold by {short_by}"),
        CouponRejection::Smaller { discount } => format!("smaller (takes {discount})"),
    }
}

/// The quote as a readable table.
pub fn table(q: &Quote) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>8} {:>8} {:>4} {:>10} {:>10} {:>11} {:>10} {:>10} {:>11}",
        "sku", "merchant", "qty", "list", "unit", "subtotal", "coupons", "points", "payable"
    );
    for l in &q.lines {
        let _ = writeln!(
            out,
            "{:>8} {:>8} {:>4} {:>10} {:>10} {:>11} {:>10} {:>10} {:>11}",
            l.sku.0,
            l.merchant.0,
            l.quantity,
            l.list_unit_price,
            l.unit_price,
            l.subtotal,
            l.coupon_discount,
            l.points_deduction,
            l.payable
        );
    }
    let row = |out: &mut String, label: &str, amount: Money| {
        let _ = writeln!(out, "{label:<58} {amount:>12}");
    };
    out.push('\n');
    row(&mut out, "goods (list price)", q.list_total);
    for a in &q.adjustments {
        let label = match a.source {
            AdjustmentSource::MemberDiscount { tier } => format!("− member price (tier {tier})"),
            AdjustmentSource::Coupon { coupon, template, layer } => {
                let layer = layer.map_or("exclusive".to_owned(), |l| format!("{l:?} layer").to_lowercase());
                format!("− coupon {coupon} (template {template}, {layer}, on {})", a.measured_on)
            }
            AdjustmentSource::Points { points } => format!("− {points} points"),
        };
        row(&mut out, &label, a.amount);
    }
    for s in &q.shipping {
        let basis = match s.basis {
            ShippingBasis::TierBenefit => "free: tier benefit",
            ShippingBasis::FreeOver => "free over threshold",
            ShippingBasis::Weight => "by weight",
            ShippingBasis::Flat => "flat fee",
        };
        row(&mut out, &format!("+ shipping, merchant {} ({basis})", s.merchant), s.fee);
    }
    row(&mut out, "payable", q.payable);
    let _ = writeln!(out, "{:<58} {:>12}", "points usable on this order (max)", q.points_max);
    if !q.rejected_coupons.is_empty() {
        out.push_str("\ncoupons not applied:\n");
        for r in &q.rejected_coupons {
            let _ = writeln!(out, "  coupon {}: {}", r.coupon, reason(&r.reason));
        }
    }
    out
}
