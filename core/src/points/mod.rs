//! Points (积分) and member tiers (会员等级), DESIGN §5 and seed 004 §4.
//!
//! The ledger is the truth: every change to an account is a [`LedgerEntry`]
//! with a source, and an account's `balance` and `frozen` are the sums of its
//! entries' deltas. [`PointsAccount::apply`] is the one function that moves an
//! account; both stores call it (the SQL store expresses the same guards in
//! its `UPDATE`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{LedgerEntryId, UserId};
use crate::money::{Money, Rate, Rounding};

pub mod commands;
pub mod error;
pub mod queries;

pub use error::PointsError;

pub use queries::PointsOverview;
pub mod store;
pub mod writes;

/// A ledger row refused by the account it would move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PointsShort {
    /// A row of zero or negative points where only positive ones make sense.
    #[error("user {user}: {action:?} of {points} points must be positive")]
    NonPositive {
        /// Account owner.
        user: UserId,
        /// Action.
        action: PointsAction,
        /// Points given.
        points: i64,
    },
    /// A freeze or deduction larger than the balance.
    #[error("user {user}: {needed} points needed, balance {balance}")]
    Balance {
        /// Account owner.
        user: UserId,
        /// Points needed.
        needed: i64,
        /// Balance there was.
        balance: i64,
    },
    /// A spend or unfreeze larger than the frozen points.
    #[error("user {user}: {needed} frozen points needed, {frozen} frozen")]
    Frozen {
        /// Account owner.
        user: UserId,
        /// Points needed.
        needed: i64,
        /// Frozen there were.
        frozen: i64,
    },
}

/// A user's points account (seed 004 §4.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PointsAccount {
    /// Owner.
    pub user: UserId,
    /// Points that can be spent now.
    pub balance: i64,
    /// Points held by unpaid orders.
    pub frozen: i64,
    /// Lifetime points earned from orders, less earned points taken back;
    /// decides the member tier.
    pub total_earned: i64,
    /// Points spent on payments, less points returned by refunds.
    pub total_spent: i64,
}

/// Where a ledger row comes from (seed 004 §4 `source_type`, extended).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PointsSource {
    /// 下单赠送: earned when an order completes (reference: order).
    OrderReward,
    /// 退款回退: earned points taken back by a refund (reference: after-sale or order).
    RefundReversal,
    /// 支付抵扣: points redeemed on an order (reference: order).
    PaymentDeduction,
    /// Redeemed points given back by a refund or cancel (reference: after-sale or order).
    RefundReturn,
    /// An admin's manual adjustment (reference: the adjustment id).
    AdminAdjustment,
}

/// What a ledger row does to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PointsAction {
    /// balance += n, total_earned += n.
    Earn,
    /// balance −= n, frozen += n (guard: balance ≥ n).
    Freeze,
    /// frozen −= n, balance += n (guard: frozen ≥ n).
    Unfreeze,
    /// frozen −= n, total_spent += n (guard: frozen ≥ n).
    Spend,
    /// balance += n, total_spent −= n: redeemed points given back.
    Return,
    /// balance −= n, total_earned −= n: earned points taken back. May leave
    /// the balance negative (the buyer already spent them); a negative balance
    /// blocks redemption until it is repaid.
    Reverse,
    /// balance += n (n may be negative; guard: balance stays ≥ 0).
    Adjust,
}

/// One row of the points ledger (seed 004 §4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LedgerEntry {
    /// Id.
    pub id: LedgerEntryId,
    /// Account owner.
    pub user: UserId,
    /// Source type.
    pub source: PointsSource,
    /// What the row does.
    pub action: PointsAction,
    /// The order, after-sale or adjustment this row belongs to. With `user`,
    /// `source` and `action` it is unique: a source is never applied twice.
    pub reference: u64,
    /// Points, positive except for a negative [`PointsAction::Adjust`].
    pub points: i64,
    /// Change to the spendable balance.
    pub balance_delta: i64,
    /// Change to the frozen points.
    pub frozen_delta: i64,
    /// Balance after this row; filled in by the store when the row is applied.
    pub balance_after: i64,
    /// Human-readable note ("订单完成赠送").
    pub remark: String,
    /// When the row was written.
    pub at: DateTime<Utc>,
}

impl LedgerEntry {
    /// The key that makes a source apply once: (user, source, action, reference).
    pub fn source_key(&self) -> (UserId, PointsSource, PointsAction, u64) {
        (self.user, self.source, self.action, self.reference)
    }
}

impl PointsAccount {
    /// Applies `entry` to the account and fills `entry.balance_after`.
    ///
    /// # Errors
    /// [`PointsShort::Balance`] when a freeze or negative
    /// adjustment exceeds the balance, [`PointsShort::Frozen`]
    /// when a spend or unfreeze exceeds the frozen points. The account is
    /// left unchanged on error.
    pub fn apply(&mut self, entry: &mut LedgerEntry) -> Result<(), PointsShort> {
        let n = entry.points;
        let (db, df, earned, spent) = match entry.action {
            PointsAction::Earn => (n, 0, n, 0),
            PointsAction::Freeze => (-n, n, 0, 0),
            PointsAction::Unfreeze => (n, -n, 0, 0),
            PointsAction::Spend => (0, -n, 0, n),
            PointsAction::Return => (n, 0, 0, -n),
            PointsAction::Reverse => (-n, 0, -n, 0),
            PointsAction::Adjust => (n, 0, 0, 0),
        };
        let guards_balance = matches!(entry.action, PointsAction::Freeze | PointsAction::Adjust);
        if n <= 0 && entry.action != PointsAction::Adjust {
            return Err(PointsShort::NonPositive { user: self.user, action: entry.action, points: n });
        }
        if guards_balance && db < 0 && self.balance + db < 0 {
            return Err(PointsShort::Balance { user: self.user, needed: -db, balance: self.balance });
        }
        if df < 0 && self.frozen + df < 0 {
            return Err(PointsShort::Frozen { user: self.user, needed: -df, frozen: self.frozen });
        }
        self.balance += db;
        self.frozen += df;
        self.total_earned += earned;
        self.total_spent += spent;
        entry.balance_delta = db;
        entry.frozen_delta = df;
        entry.balance_after = self.balance;
        Ok(())
    }
}

/// Redemption and earning settings (DESIGN §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PointsPolicy {
    /// Points worth one yuan when redeemed (default 100). Must be a positive
    /// multiple of 100, so that every fen is a whole number of points.
    pub redeem_points_per_yuan: i64,
    /// Largest share of the goods after coupons that points may pay
    /// (default 0.5).
    pub redeem_cap: Rate,
    /// Points earned per yuan of goods actually paid, before the tier
    /// multiplier (default 1).
    pub earn_points_per_yuan: Rate,
}

impl Default for PointsPolicy {
    fn default() -> Self {
        PointsPolicy { redeem_points_per_yuan: 100, redeem_cap: Rate::from_bp(5_000), earn_points_per_yuan: Rate::ONE }
    }
}

impl PointsPolicy {
    /// Points per fen of deduction (1 at the default rate).
    pub fn points_per_fen(&self) -> i64 {
        (self.redeem_points_per_yuan / 100).max(1)
    }

    /// The fen that `points` are worth when redeemed (whole fen only).
    pub fn deduction_for(&self, points: i64) -> Money {
        Money::from_fen(points / self.points_per_fen())
    }

    /// Points earned for `paid_goods` yuan at a tier `multiplier`, rounded
    /// down (DESIGN §5).
    pub fn earned_for(&self, paid_goods: Money, multiplier: Rate) -> i64 {
        let num = i128::from(paid_goods.fen().max(0))
            * i128::from(self.earn_points_per_yuan.bp())
            * i128::from(multiplier.bp());
        let den = 100 * i128::from(Rate::ONE_BP) * i128::from(Rate::ONE_BP);
        Rounding::Down.divide(num, den) as i64
    }
}

/// A member tier (会员等级): a range of lifetime earned points with benefits
/// (seed 001 VIP levels, seed 004 member levels).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Level number, 0 for the base tier (seed 004 `level`).
    pub level: u32,
    /// Name (普通会员, 银卡会员, 金卡会员…).
    pub name: String,
    /// Lifetime earned points from which the tier applies.
    pub min_points: i64,
    /// Earning multiplier (1.0 = no bonus).
    #[serde(default = "one")]
    pub points_multiplier: Rate,
    /// Orders ship free.
    #[serde(default)]
    pub free_shipping: bool,
    /// Member price as a share of the SKU price (0.95 = 5% off), applied per
    /// unit and rounded to the fen.
    #[serde(default)]
    pub member_discount: Option<Rate>,
    /// Benefits described in words (seed 001 VIP benefits).
    #[serde(default)]
    pub benefits: Vec<String>,
}

impl Tier {
    /// Checks the tier: a name, `min_points` ≥ 0, a member discount in (0, 1].
    ///
    /// # Errors
    /// `(field, message)` for the first bad field (`name`, `min_points`, `member_discount`).
    pub fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        if self.name.trim().is_empty() {
            return Err(("name", "must not be empty"));
        }
        if self.min_points < 0 {
            return Err(("min_points", "must not be negative"));
        }
        if self.member_discount.is_some_and(|r| r.bp() == 0 || r.bp() > Rate::ONE_BP) {
            return Err(("member_discount", "must be in (0, 1]"));
        }
        Ok(())
    }
}

fn one() -> Rate {
    Rate::ONE
}

/// The tier for `lifetime_points`: the one with the highest `min_points` not
/// above it. `None` when no tier starts that low.
pub fn tier_for(tiers: &[Tier], lifetime_points: i64) -> Option<&Tier> {
    tiers.iter().filter(|t| t.min_points <= lifetime_points).max_by_key(|t| (t.min_points, t.level))
}

/// The lowest tier above `lifetime_points` (the one to reach next), if any.
pub fn next_tier(tiers: &[Tier], lifetime_points: i64) -> Option<&Tier> {
    tiers.iter().filter(|t| t.min_points > lifetime_points).min_by_key(|t| (t.min_points, t.level))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_tier_is_the_lowest_above() {
        let t = |level, min_points| Tier {
            level,
            name: format!("t{level}"),
            min_points,
            points_multiplier: Rate::ONE,
            free_shipping: false,
            member_discount: None,
            benefits: Vec::new(),
        };
        let tiers = [t(0, 0), t(2, 1000), t(1, 100)];
        assert_eq!(next_tier(&tiers, 50).map(|t| t.level), Some(1));
        assert_eq!(next_tier(&tiers, 100).map(|t| t.level), Some(2));
        assert_eq!(next_tier(&tiers, 1000), None);
        assert_eq!(tier_for(&tiers, 999).map(|t| t.level), Some(1));
    }

    fn entry(action: PointsAction, points: i64) -> LedgerEntry {
        LedgerEntry {
            id: LedgerEntryId(1),
            user: UserId(1),
            source: PointsSource::AdminAdjustment,
            action,
            reference: 1,
            points,
            balance_delta: 0,
            frozen_delta: 0,
            balance_after: 0,
            remark: String::new(),
            at: DateTime::<Utc>::MIN_UTC,
        }
    }

    #[test]
    fn freeze_spend_unfreeze_keep_the_sums() {
        let mut a = PointsAccount { user: UserId(1), ..Default::default() };
        a.apply(&mut entry(PointsAction::Earn, 500)).expect("earn");
        a.apply(&mut entry(PointsAction::Freeze, 300)).expect("freeze");
        assert!(a.apply(&mut entry(PointsAction::Freeze, 201)).is_err());
        a.apply(&mut entry(PointsAction::Spend, 200)).expect("spend");
        a.apply(&mut entry(PointsAction::Unfreeze, 100)).expect("unfreeze");
        assert_eq!((a.balance, a.frozen, a.total_earned, a.total_spent), (300, 0, 500, 200));
    }

    #[test]
    fn earning_rounds_down_with_multiplier() {
        let p = PointsPolicy::default();
        // 2520.00 paid at 1.5× → 3780 points; 99.99 at 1× → 99.
        assert_eq!(p.earned_for(Money::from_fen(252_000), Rate::from_bp(15_000)), 3_780);
        assert_eq!(p.earned_for(Money::from_fen(9_999), Rate::ONE), 99);
    }
}
