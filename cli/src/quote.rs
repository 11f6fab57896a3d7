//! `mallkit quote FILE`: price one cart with core's pure pricing function
//! ([`mallkit_core::pricing::quote`]; no store, no clock) and print the
//! breakdown as a table, or the [`Quote`] as JSON.
//!
//! The file has the catalog sections of a scenario file (`[policy]`,
//! `[[categories]]`, `[[merchants]]`, `[[products]]`, `[[skus]]`,
//! `[[tiers]]`, `[[templates]]`), an optional `now`, a `[buyer]` (lifetime
//! points, balance, the coupons held) and a `[cart]` (lines, coupon choice,
//! points). The format is in docs/scenarios.md.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Utc};
use mallkit_core::catalog::{CatalogError, Category, CategoryTree, Merchant, Product, ProductStatus, Sku};
use mallkit_core::coupon::{CouponTemplate, StackLayer, UserCoupon, UserCouponStatus};
use mallkit_core::ids::{CouponTemplateId, MerchantId, SkuId, UserCouponId, UserId};
use mallkit_core::points::{Tier, tier_for};
use mallkit_core::pricing::{
    self, AdjustmentSource, CouponCandidate, CouponChoice, CouponRejection, PricingLine, Quote, QuoteError,
    QuoteRequest, ShippingBasis,
};
use mallkit_core::{Money, Policy};
use serde::Deserialize;

use crate::scenario::model::{CouponSpec, PointsSpec};
use crate::scenario::run::{default_start, points_choice};

/// A `mallkit quote` file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteFile {
    /// The moment of pricing, for coupon validity (default
    /// 2026-11-25T10:00:00Z, the scenarios' start).
    #[serde(default)]
    pub now: Option<DateTime<Utc>>,
    /// Engine policy; pricing reads `policy.pricing` (rounding, points,
    /// shipping).
    #[serde(default)]
    pub policy: Policy,
    /// Category tree.
    #[serde(default)]
    pub categories: Vec<Category>,
    /// Merchants.
    #[serde(default)]
    pub merchants: Vec<Merchant>,
    /// Products.
    #[serde(default)]
    pub products: Vec<Product>,
    /// SKUs with prices.
    #[serde(default)]
    pub skus: Vec<Sku>,
    /// Member tiers.
    #[serde(default)]
    pub tiers: Vec<Tier>,
    /// Coupon templates.
    #[serde(default)]
    pub templates: Vec<CouponTemplate>,
    /// The buyer.
    #[serde(default)]
    pub buyer: Buyer,
    /// The cart and the buyer's choices.
    pub cart: CartSetup,
}

/// The buyer of a quote file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Buyer {
    /// Lifetime earned points: they decide the member tier.
    #[serde(default)]
    pub lifetime_points: i64,
    /// Spendable points balance.
    #[serde(default)]
    pub points: i64,
    /// The coupons the buyer holds.
    #[serde(default)]
    pub coupons: Vec<HeldCoupon>,
}

/// A coupon the buyer holds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldCoupon {
    /// The template it was claimed from.
    pub template: CouponTemplateId,
    /// Its name in `cart.coupons` and in the output (default: the template
    /// id, as a string).
    #[serde(rename = "as", default)]
    pub name: Option<String>,
    /// When it was claimed (default: `now`); a `days_after_claim` validity
    /// counts from here.
    #[serde(default)]
    pub claimed_at: Option<DateTime<Utc>>,
    /// Its status (default `unused`).
    #[serde(default)]
    pub status: Option<UserCouponStatus>,
}

/// The cart of a quote file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartSetup {
    /// `[[sku, units], …]`.
    pub lines: Vec<(u64, u32)>,
    /// `"best"` (default), `"none"`, or coupon names.
    #[serde(default)]
    pub coupons: CouponSpec,
    /// `"none"` (default), `"max"`, or a number of points.
    #[serde(default)]
    pub points: PointsSpec,
}

/// What a coupon is called in the output.
struct CouponInfo {
    name: String,
    title: String,
    template: CouponTemplateId,
    layer: Option<StackLayer>,
}

/// A priced cart with the names the table shows.
pub struct Priced {
    /// The quote, as core computed it.
    pub quote: Quote,
    now: DateTime<Utc>,
    tier: Option<Tier>,
    lifetime_points: i64,
    balance: i64,
    choice: CouponChoice,
    policy: Policy,
    sku_names: HashMap<SkuId, String>,
    merchant_names: HashMap<MerchantId, String>,
    coupons: BTreeMap<UserCouponId, CouponInfo>,
}

/// The buyer's user id in the quote (any id: the quote only needs one).
const BUYER: UserId = UserId(1);

/// Reads, checks and prices the cart of `path`.
///
/// # Errors
/// A message naming the file and the field that was refused.
pub fn price(path: &Path) -> Result<Priced, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: QuoteFile = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    price_file(&file).map_err(|e| format!("{}: {e}", path.display()))
}

/// Refuses an id that two entries of one section share.
fn unique<T, K: std::hash::Hash + Eq + std::fmt::Display>(
    section: &str,
    items: &[T],
    key: impl Fn(&T) -> K,
) -> Result<(), String> {
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let k = key(item);
        if !seen.insert(k.to_string()) {
            return Err(format!("{section}[{i}].id: {k} is used by an earlier entry"));
        }
    }
    Ok(())
}

fn price_file(file: &QuoteFile) -> Result<Priced, String> {
    let now = file.now.unwrap_or_else(default_start);
    file.policy.validate().map_err(|e| e.to_string())?;

    // The catalog: references must resolve; values are checked by core's own
    // validators where core has one.
    unique("categories", &file.categories, |c| c.id)?;
    unique("merchants", &file.merchants, |m| m.id)?;
    unique("products", &file.products, |p| p.id)?;
    unique("skus", &file.skus, |s| s.id)?;
    unique("templates", &file.templates, |t| t.id)?;
    unique("tiers", &file.tiers, |t| t.level)?;
    let tree = CategoryTree::new(&file.categories).map_err(|e| format!("categories: {e}"))?;
    let merchants: HashMap<MerchantId, &Merchant> = file.merchants.iter().map(|m| (m.id, m)).collect();
    let categories: HashSet<_> = file.categories.iter().map(|c| c.id).collect();
    for (i, p) in file.products.iter().enumerate() {
        if !merchants.contains_key(&p.merchant) {
            return Err(format!("products[{i}].merchant: no merchant {} in [[merchants]]", p.merchant));
        }
        if !categories.contains(&p.category) {
            return Err(format!("products[{i}].category: no category {} in [[categories]]", p.category));
        }
    }
    let products: HashMap<_, &Product> = file.products.iter().map(|p| (p.id, p)).collect();
    for (i, s) in file.skus.iter().enumerate() {
        if !products.contains_key(&s.product) {
            return Err(format!("skus[{i}].product: no product {} in [[products]]", s.product));
        }
        if let Err(CatalogError::NegativePrice { field, .. }) = s.validate() {
            return Err(format!("skus[{i}].{field}: must not be negative"));
        }
    }
    for (i, t) in file.tiers.iter().enumerate() {
        t.validate().map_err(|(field, message)| format!("tiers[{i}].{field}: {message}"))?;
    }
    for (i, t) in file.templates.iter().enumerate() {
        t.validate().map_err(|e| format!("templates[{i}]: {e}"))?;
    }
    let templates: HashMap<_, &CouponTemplate> = file.templates.iter().map(|t| (t.id, t)).collect();
    let skus: HashMap<_, &Sku> = file.skus.iter().map(|s| (s.id, s)).collect();

    // The buyer's coupons, numbered from 1 in file order.
    let mut held = Vec::with_capacity(file.buyer.coupons.len());
    let mut infos = BTreeMap::new();
    let mut by_name: HashMap<String, UserCouponId> = HashMap::new();
    for (i, h) in file.buyer.coupons.iter().enumerate() {
        let t = templates
            .get(&h.template)
            .ok_or_else(|| format!("buyer.coupons[{i}].template: no template {} in [[templates]]", h.template))?;
        let id = UserCouponId(i as u64 + 1);
        let name = h.name.clone().unwrap_or_else(|| h.template.to_string());
        if by_name.insert(name.clone(), id).is_some() {
            return Err(format!(
                "buyer.coupons[{i}]: another coupon is also named \"{name}\"; give one of them a name with `as`"
            ));
        }
        let claimed_at = h.claimed_at.unwrap_or(now);
        let (valid_from, valid_to) = t.validity.window(claimed_at);
        held.push(UserCoupon {
            id,
            template: t.id,
            user: BUYER,
            status: h.status.unwrap_or(UserCouponStatus::Unused),
            valid_from,
            valid_to,
            claimed_at,
            checkout: None,
            used_at: None,
        });
        infos.insert(id, CouponInfo { name, title: t.title.clone(), template: t.id, layer: t.layer });
    }
    let choice = match &file.cart.coupons {
        CouponSpec::Best => CouponChoice::Best,
        CouponSpec::None => CouponChoice::None,
        CouponSpec::Chosen(names) => CouponChoice::Chosen(
            names
                .iter()
                .map(|n| {
                    by_name
                        .get(n)
                        .copied()
                        .ok_or_else(|| format!("cart.coupons: the buyer holds no coupon named \"{n}\""))
                })
                .collect::<Result<_, _>>()?,
        ),
    };

    // The cart.
    let mut lines = Vec::with_capacity(file.cart.lines.len());
    let mut sku_names = HashMap::new();
    for (i, &(sku, quantity)) in file.cart.lines.iter().enumerate() {
        let s = skus.get(&SkuId(sku)).ok_or_else(|| format!("cart.lines[{i}]: no sku {sku} in [[skus]]"))?;
        let p = products[&s.product];
        if p.status != ProductStatus::OnSale {
            return Err(format!("cart.lines[{i}]: product {} \"{}\" is off sale", p.id, p.name));
        }
        let variant: Vec<&str> = s.attributes.values().map(String::as_str).collect();
        let name = if variant.is_empty() { p.name.clone() } else { format!("{} {}", p.name, variant.join("/")) };
        sku_names.insert(s.id, name);
        lines.push(PricingLine {
            sku: s.id,
            product: p.id,
            merchant: p.merchant,
            category_path: tree.path(p.category),
            unit_price: s.price,
            quantity,
            weight_grams: s.weight_grams.unwrap_or(0),
        });
    }

    let tier = tier_for(&file.tiers, file.buyer.lifetime_points).cloned();
    let candidates: Vec<CouponCandidate<'_>> =
        held.iter().map(|c| CouponCandidate { coupon: c, template: templates[&c.template] }).collect();
    let quote = pricing::quote(&QuoteRequest {
        lines: &lines,
        tier: tier.as_ref(),
        coupons: &candidates,
        coupon_choice: &choice,
        points: points_choice(file.cart.points),
        points_balance: file.buyer.points,
        policy: &file.policy.pricing,
        now,
    })
    .map_err(|e| quote_error(&e, &infos))?;
    Ok(Priced {
        quote,
        now,
        tier,
        lifetime_points: file.buyer.lifetime_points,
        balance: file.buyer.points,
        choice,
        policy: file.policy,
        sku_names,
        merchant_names: file.merchants.iter().map(|m| (m.id, m.name.clone())).collect(),
        coupons: infos,
    })
}

/// Core's refusal, with the field of the file it is about and coupon names.
fn quote_error(e: &QuoteError, coupons: &BTreeMap<UserCouponId, CouponInfo>) -> String {
    let name = |id: &UserCouponId| coupons.get(id).map_or_else(|| format!("#{id}"), |c| format!("\"{}\"", c.name));
    match e {
        QuoteError::EmptyCart | QuoteError::ZeroQuantity(_) | QuoteError::DuplicateLine(_) => {
            format!("cart.lines: {e}")
        }
        QuoteError::UnknownCoupon(id) => format!("cart.coupons: the buyer holds no coupon {}", name(id)),
        QuoteError::CouponNotApplicable { coupon, reason } => {
            format!("cart.coupons: coupon {} cannot be used: {}", name(coupon), reason_text(reason, true))
        }
        QuoteError::CouponsDoNotStack { first, second } => format!(
            "cart.coupons: coupons {} and {} cannot be used together (one per layer; a coupon without a layer stands alone)",
            name(first),
            name(second)
        ),
        QuoteError::NegativePoints(_)
        | QuoteError::PointsExceedBalance { .. }
        | QuoteError::PointsExceedCap { .. }
        | QuoteError::PointsNotWholeUnit { .. } => format!("cart.points: {e}"),
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Why a coupon was not applied, in words. `best`: the choice was the best
/// set (so a usable coupon left out is a smaller one).
fn reason_text(r: &CouponRejection, best: bool) -> String {
    match r {
        CouponRejection::NotUsable { status } => match status {
            UserCouponStatus::Locked => "locked by an unpaid order".into(),
            UserCouponStatus::Used => "already used".into(),
            UserCouponStatus::Expired => "expired".into(),
            UserCouponStatus::Void => "void".into(),
            UserCouponStatus::Unused => "not usable".into(),
        },
        CouponRejection::Disabled => "template disabled".into(),
        CouponRejection::NotYetValid { valid_from } => format!("not valid before {}", time(*valid_from)),
        CouponRejection::Expired { valid_to } => format!("expired at {}", time(*valid_to)),
        CouponRejection::OutOfScope => "out of scope".into(),
        CouponRejection::BelowThreshold { short_by } => format!("below threshold by {short_by}"),
        CouponRejection::Smaller { discount } if best => format!("smaller (takes {discount})"),
        CouponRejection::Smaller { discount } => format!("not chosen (would take {discount})"),
    }
}

/// Columns of a terminal a character takes: 2 for CJK and full-width forms.
fn char_width(c: char) -> usize {
    match u32::from(c) {
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD => 2,
        _ => 1,
    }
}

fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// `s` padded to `w` columns, on the right (`left`) or on the left.
fn pad(s: &str, w: usize, left: bool) -> String {
    let fill = " ".repeat(w.saturating_sub(width(s)));
    if left { format!("{s}{fill}") } else { format!("{fill}{s}") }
}

/// Rows of cells as aligned text: the columns in `left` are left-aligned,
/// the others right-aligned.
fn grid(rows: &[Vec<String>], left: &[usize]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..cols).map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| width(s)).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r.iter().enumerate().map(|(c, s)| pad(s, widths[c], left.contains(&c))).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

impl Priced {
    fn coupon_label(&self, id: UserCouponId) -> String {
        match self.coupons.get(&id) {
            Some(c) => {
                let layer = c.layer.map_or("exclusive", |l| match l {
                    StackLayer::Merchant => "merchant layer",
                    StackLayer::Platform => "platform layer",
                });
                format!("\"{}\" {} (#{id}, template {}, {layer})", c.name, c.title, c.template)
            }
            None => format!("#{id}"),
        }
    }

    fn merchant(&self, id: MerchantId) -> String {
        self.merchant_names.get(&id).map_or_else(|| format!("merchant {id}"), |n| format!("{n} (merchant {id})"))
    }

    /// The quote as a readable table: lines, totals, points, coupons not
    /// applied and why.
    pub fn table(&self) -> String {
        let q = &self.quote;
        let mut out = String::new();
        let tier = match &self.tier {
            Some(t) => format!("tier {} {}", t.level, t.name),
            None => "no tier".into(),
        };
        let _ = writeln!(
            out,
            "priced at {}; buyer: {tier} ({} lifetime points), balance {} points\n",
            time(self.now),
            self.lifetime_points,
            self.balance
        );

        let mut rows = vec![
            ["sku", "product", "qty", "list", "unit", "subtotal", "coupons", "points", "payable"]
                .map(String::from)
                .to_vec(),
        ];
        for l in &q.lines {
            rows.push(vec![
                l.sku.to_string(),
                self.sku_names.get(&l.sku).cloned().unwrap_or_default(),
                l.quantity.to_string(),
                l.list_unit_price.to_string(),
                l.unit_price.to_string(),
                l.subtotal.to_string(),
                l.coupon_discount.to_string(),
                l.points_deduction.to_string(),
                l.payable.to_string(),
            ]);
        }
        out.push_str(&grid(&rows, &[1]));
        out.push('\n');

        let mut totals: Vec<Vec<String>> = Vec::new();
        let mut row = |label: String, amount: Money| totals.push(vec![label, amount.to_string()]);
        row("goods at list price".into(), q.list_total);
        match &self.tier {
            Some(Tier { member_discount: Some(rate), name, .. }) => {
                row(format!("− member price ({name}, pays {rate} of the list price)"), q.member_discount);
            }
            _ => row("− member price (none)".into(), q.member_discount),
        }
        row("= goods".into(), q.goods_subtotal);
        for a in &q.adjustments {
            if let AdjustmentSource::Coupon { coupon, .. } = a.source {
                row(format!("− coupon {} on {}", self.coupon_label(coupon), a.measured_on), a.amount);
            }
        }
        if q.applied_coupons.is_empty() {
            row("− coupons (none applied)".into(), Money::ZERO);
        }
        let per_yuan = self.policy.pricing.points.redeem_points_per_yuan;
        row(format!("− points ({} points at {per_yuan} per yuan)", q.points_used), q.points_deduction);
        for s in &q.shipping {
            let basis = match s.basis {
                ShippingBasis::TierBenefit => "free: tier benefit".to_owned(),
                ShippingBasis::FreeOver => {
                    let over = self.policy.pricing.shipping.free_over.unwrap_or_default();
                    format!("free: goods after coupons {} ≥ {over}", s.goods_after_coupons)
                }
                ShippingBasis::Weight => format!("by weight, {} g", s.weight_grams),
                ShippingBasis::Flat => match self.policy.pricing.shipping.free_over {
                    Some(over) => format!("flat fee: goods after coupons {} < {over}", s.goods_after_coupons),
                    None => "flat fee".to_owned(),
                },
            };
            row(format!("+ shipping, {} ({basis})", self.merchant(s.merchant)), s.fee);
        }
        row("= payable".into(), q.payable);
        out.push_str(&grid(&totals, &[0]));

        let cap = self.policy.pricing.points.redeem_cap;
        let _ = writeln!(
            out,
            "\npoints: {} used; at most {} on this order (balance {}, cap {} of the goods after coupons)",
            q.points_used, q.points_max, self.balance, cap
        );
        if !q.rejected_coupons.is_empty() {
            out.push_str("\ncoupons not applied:\n");
            let best = self.choice == CouponChoice::Best;
            for r in &q.rejected_coupons {
                let _ = writeln!(out, "  {}: {}", self.coupon_label(r.coupon), reason_text(&r.reason, best));
            }
        }
        out
    }
}
