//! The exact best-coupon search of [`super::quote`] (DESIGN §4): every
//! usable coupon's scope as a bit set over the cart's lines, its discount
//! on the lines in scope, and the search over single coupons and
//! merchant-then-platform pairs for the largest discount (ties: earliest
//! expiry, then lowest id).

use super::*;

/// Lines of a cart in a coupon's scope, as a bit set: the first 64 lines
/// inline, the rest (rare) on the heap.
#[derive(Debug, Clone)]
struct ScopeMask {
    all: bool,
    first: u64,
    rest: Vec<u64>,
}

impl ScopeMask {
    fn new(t: &CouponTemplate, lines: &[&PricingLine]) -> ScopeMask {
        use crate::coupon::CouponScope as Scope;
        let mut mask = ScopeMask { all: false, first: 0, rest: vec![0; lines.len().saturating_sub(64).div_ceil(64)] };
        // One tight loop per kind of scope; the rule itself is `CouponScope::covers`.
        let mut mark = |covered: &dyn Fn(&PricingLine) -> bool| {
            for (i, l) in lines.iter().enumerate() {
                if covered(l) {
                    mask.insert(i);
                }
            }
        };
        match &t.scope {
            Scope::All => return ScopeMask { all: true, first: 0, rest: Vec::new() },
            Scope::Merchant(m) => mark(&|l| l.merchant == *m),
            Scope::Products(ids) => mark(&|l| ids.contains(&l.product)),
            Scope::Skus(ids) => mark(&|l| ids.contains(&l.sku)),
            Scope::Categories(_) => mark(&|l| {
                t.scope.covers(ScopeFacts {
                    sku: l.sku,
                    product: l.product,
                    merchant: l.merchant,
                    category_path: &l.category_path,
                })
            }),
        }
        mask
    }

    fn insert(&mut self, i: usize) {
        if i < 64 {
            self.first |= 1 << i;
        } else {
            self.rest[(i - 64) / 64] |= 1 << (i % 64);
        }
    }

    fn contains(&self, i: usize) -> bool {
        self.all || if i < 64 { self.first & (1 << i) != 0 } else { self.rest[(i - 64) / 64] & (1 << (i % 64)) != 0 }
    }

    fn sum(&self, amounts: &[Money]) -> Money {
        if self.all {
            return amounts.iter().sum();
        }
        let mut total = 0i64;
        for (w, word) in std::iter::once(&self.first).chain(&self.rest).enumerate() {
            let mut bits = *word;
            while bits != 0 {
                total += amounts[w * 64 + bits.trailing_zeros() as usize].fen();
                bits &= bits - 1;
            }
        }
        Money::from_fen(total)
    }
}

/// A candidate coupon with what the cart makes of it.
#[derive(Debug)]
pub(super) struct Evaluated<'a> {
    pub(super) coupon: &'a UserCoupon,
    pub(super) template: &'a CouponTemplate,
    /// Index into `CouponTable::masks` and `CouponTable::discounts`.
    mask: usize,
    /// Status, template status and window allow its use now.
    usable: bool,
}

pub(super) struct CouponTable<'a> {
    pub(super) coupons: Vec<Evaluated<'a>>,
    masks: Vec<ScopeMask>,
    /// Per template: its discount alone on this cart, or why it has none.
    discounts: Vec<Result<Money, CouponRejection>>,
    /// Template ids, same index as `masks`.
    templates: Vec<CouponTemplateId>,
    now: DateTime<Utc>,
}

impl<'a> CouponTable<'a> {
    pub(super) fn build(req: &QuoteRequest<'a>, lines: &[&PricingLine], amount: &[Money]) -> CouponTable<'a> {
        let rounding = req.policy.rounding;
        let mut table = CouponTable {
            coupons: Vec::with_capacity(req.coupons.len()),
            masks: Vec::with_capacity(req.coupons.len().min(32)),
            discounts: Vec::with_capacity(req.coupons.len().min(32)),
            templates: Vec::with_capacity(req.coupons.len().min(32)),
            now: req.now,
        };
        for cand in req.coupons {
            let (c, t) = (cand.coupon, cand.template);
            // Coupons usually come grouped by template: try the last slot first.
            let last = table.templates.len().wrapping_sub(1);
            let cached = (table.templates.get(last) == Some(&t.id)).then_some(last);
            let mask = match cached.or_else(|| table.templates.iter().position(|id| *id == t.id)) {
                Some(m) => m,
                None => {
                    let m = ScopeMask::new(t, lines);
                    let e = m.sum(amount);
                    table.discounts.push(if e.is_zero() {
                        Err(CouponRejection::OutOfScope)
                    } else {
                        t.kind.discount(e, rounding).map_err(|short_by| CouponRejection::BelowThreshold { short_by })
                    });
                    table.masks.push(m);
                    table.templates.push(t.id);
                    table.masks.len() - 1
                }
            };
            let usable = usability(c, t, req.now).is_ok();
            table.coupons.push(Evaluated { coupon: c, template: t, mask, usable });
        }
        table
    }

    /// Coupon `i`'s discount alone on the cart, or why it cannot apply.
    fn standalone(&self, i: usize) -> Result<Money, CouponRejection> {
        let c = &self.coupons[i];
        if c.usable {
            self.discounts[c.mask]
        } else {
            usability(c.coupon, c.template, self.now).and(self.discounts[c.mask])
        }
    }

    /// The set with the largest total discount; ties to the fewer coupons,
    /// then the earliest expiry, then the lowest id. Exact: every single
    /// coupon and every (merchant layer, platform layer) pair is considered,
    /// with pairs pruned only by an upper bound that cannot beat the best.
    pub(super) fn best(&self, amount: &[Money], rounding: Rounding) -> Vec<usize> {
        // Usable coupons of one template take off the same amount in any set,
        // so only the one that ranks first (earliest expiry, then lowest id)
        // can be in the best set: search over one representative per template.
        let mut representative: Vec<Option<usize>> = vec![None; self.masks.len()];
        for (i, c) in self.coupons.iter().enumerate() {
            if !c.usable || self.discounts[c.mask].is_err() {
                continue;
            }
            let slot = &mut representative[c.mask];
            let rank = |e: &Evaluated<'_>| (e.coupon.valid_to, e.coupon.id);
            if slot.is_none_or(|r| rank(c) < rank(&self.coupons[r])) {
                *slot = Some(i);
            }
        }
        let mut best = SetKey::empty();
        let mut merchant: Vec<(usize, Money)> = Vec::new();
        let mut platform: Vec<(usize, Money)> = Vec::new();
        for i in representative.into_iter().flatten() {
            let c = &self.coupons[i];
            let Ok(d) = self.discounts[c.mask] else { continue };
            let key = SetKey::single(d, i, c);
            if key.beats(&best) {
                best = key;
            }
            match c.template.layer {
                Some(StackLayer::Merchant) => merchant.push((i, d)),
                Some(StackLayer::Platform) => platform.push((i, d)),
                None => {}
            }
        }
        if !merchant.is_empty() && !platform.is_empty() {
            // A platform coupon's discount never grows when the merchant layer
            // reduces its eligible subtotal, so its standalone discount bounds it.
            merchant.sort_unstable_by_key(|c| std::cmp::Reverse(c.1));
            platform.sort_unstable_by_key(|c| std::cmp::Reverse(c.1));
            let top_platform = platform[0].1;
            let n = amount.len();
            let mut remaining = vec![Money::ZERO; n];
            let mut scratch = vec![Money::ZERO; n];
            for &(mi, dm) in &merchant {
                if dm + top_platform < best.discount {
                    break;
                }
                remaining.copy_from_slice(amount);
                let m = &self.coupons[mi];
                apply_coupon(self, m, &mut remaining, &mut scratch, rounding);
                for &(pi, bound) in &platform {
                    if dm + bound < best.discount {
                        break;
                    }
                    let p = &self.coupons[pi];
                    let eligible = self.masks[p.mask].sum(&remaining);
                    if let Ok(dp) = p.template.kind.discount(eligible, rounding) {
                        let key = SetKey::pair(dm + dp, (mi, m), (pi, p));
                        if key.beats(&best) {
                            best = key;
                        }
                    }
                }
            }
        }
        best.members[..best.count].to_vec()
    }

    /// Checks a buyer's explicit choice and orders it merchant layer first.
    pub(super) fn validate_choice(
        &self,
        ids: &[UserCouponId],
        amount: &[Money],
        rounding: Rounding,
    ) -> Result<Vec<usize>, QuoteError> {
        let mut chosen: Vec<usize> = Vec::with_capacity(ids.len());
        for id in ids {
            let i = self.coupons.iter().position(|c| c.coupon.id == *id).ok_or(QuoteError::UnknownCoupon(*id))?;
            if let Err(reason) = self.standalone(i) {
                return Err(QuoteError::CouponNotApplicable { coupon: *id, reason });
            }
            for &j in &chosen {
                let (a, b) = (self.coupons[j].template.layer, self.coupons[i].template.layer);
                if a.is_none() || b.is_none() || a == b {
                    return Err(QuoteError::CouponsDoNotStack { first: self.coupons[j].coupon.id, second: *id });
                }
            }
            chosen.push(i);
        }
        chosen.sort_by_key(|&i| self.coupons[i].template.layer);
        // A later layer's threshold is measured on what the earlier left.
        if chosen.len() == 2 {
            let mut remaining = amount.to_vec();
            let mut scratch = vec![Money::ZERO; amount.len()];
            apply_coupon(self, &self.coupons[chosen[0]], &mut remaining, &mut scratch, rounding);
            let p = &self.coupons[chosen[1]];
            let eligible = self.masks[p.mask].sum(&remaining);
            if let Err(short_by) = p.template.kind.discount(eligible, rounding) {
                return Err(QuoteError::CouponNotApplicable {
                    coupon: p.coupon.id,
                    reason: CouponRejection::BelowThreshold { short_by },
                });
            }
        }
        Ok(chosen)
    }

    /// Every coupon not in `chosen`, with its reason, by coupon id.
    pub(super) fn rejections(&self, chosen: &[usize]) -> Vec<RejectedCoupon> {
        let mut out: Vec<RejectedCoupon> = Vec::with_capacity(self.coupons.len());
        out.extend(self.coupons.iter().enumerate().filter(|(i, _)| !chosen.contains(i)).map(|(i, c)| RejectedCoupon {
            coupon: c.coupon.id,
            reason: match self.standalone(i) {
                Ok(discount) => CouponRejection::Smaller { discount },
                Err(r) => r,
            },
        }));
        out.sort_unstable_by_key(|r| r.coupon);
        out
    }
}

/// Status, template status and window checks.
fn usability(c: &UserCoupon, t: &CouponTemplate, now: DateTime<Utc>) -> Result<(), CouponRejection> {
    match c.status_at(now) {
        UserCouponStatus::Unused => {}
        UserCouponStatus::Expired => return Err(CouponRejection::Expired { valid_to: c.valid_to }),
        status => return Err(CouponRejection::NotUsable { status }),
    }
    if t.status == TemplateStatus::Disabled {
        return Err(CouponRejection::Disabled);
    }
    if now < c.valid_from {
        return Err(CouponRejection::NotYetValid { valid_from: c.valid_from });
    }
    Ok(())
}

/// Applies one coupon to `remaining` (reducing it) and writes its per-line
/// allocation into `allocation`; returns (eligible subtotal, discount). A
/// coupon below its threshold on `remaining` takes nothing.
pub(super) fn apply_coupon(
    table: &CouponTable<'_>,
    c: &Evaluated<'_>,
    remaining: &mut [Money],
    allocation: &mut [Money],
    rounding: Rounding,
) -> (Money, Money) {
    let mask = &table.masks[c.mask];
    let eligible = mask.sum(remaining);
    let off = c.template.kind.discount(eligible, rounding).unwrap_or(Money::ZERO);
    // Weights: the in-scope lines' remaining amounts; zero elsewhere.
    allocate_by(off, remaining.len(), |i| if mask.contains(i) { remaining[i] } else { Money::ZERO }, allocation);
    for (r, a) in remaining.iter_mut().zip(allocation.iter()) {
        *r -= *a;
    }
    (eligible, off)
}

/// The ranking key of a coupon set.
#[derive(Debug, Clone, Copy)]
struct SetKey {
    discount: Money,
    count: usize,
    /// (valid_to, id) of the members, earliest first.
    order: [(DateTime<Utc>, UserCouponId); 2],
    /// Indexes into `CouponTable::coupons`, merchant layer first.
    members: [usize; 2],
}

impl SetKey {
    fn empty() -> SetKey {
        SetKey {
            discount: Money::ZERO,
            count: 0,
            order: [(DateTime::<Utc>::MAX_UTC, UserCouponId(u64::MAX)); 2],
            members: [0; 2],
        }
    }

    fn single(discount: Money, i: usize, c: &Evaluated<'_>) -> SetKey {
        SetKey {
            discount,
            count: 1,
            order: [(c.coupon.valid_to, c.coupon.id), (DateTime::<Utc>::MAX_UTC, UserCouponId(u64::MAX))],
            members: [i, 0],
        }
    }

    fn pair(discount: Money, (mi, m): (usize, &Evaluated<'_>), (pi, p): (usize, &Evaluated<'_>)) -> SetKey {
        let (a, b) = ((m.coupon.valid_to, m.coupon.id), (p.coupon.valid_to, p.coupon.id));
        SetKey { discount, count: 2, order: if a <= b { [a, b] } else { [b, a] }, members: [mi, pi] }
    }

    fn beats(&self, other: &SetKey) -> bool {
        if self.discount.is_zero() {
            return false;
        }
        self.discount
            .cmp(&other.discount)
            .then_with(|| other.count.cmp(&self.count))
            .then_with(|| other.order.cmp(&self.order))
            .is_gt()
    }
}
