//! The scenario file format (TOML), documented in docs/scenarios.md.
//!
//! Catalog, tiers, templates and policy use core's own serde shapes, so a
//! scenario describes exactly what core stores; steps and expectations are
//! this module's, with unknown fields refused so a typo is an error, not a
//! silently skipped check.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use mallkit_core::after_sales::AfterSaleKind;
use mallkit_core::catalog::{Category, Merchant, Product, Sku};
use mallkit_core::coupon::{CouponTemplate, TemplateStatus};
use mallkit_core::ids::{CouponTemplateId, SkuId};
use mallkit_core::points::Tier;
use mallkit_core::{Money, Policy};
use serde::Deserialize;

/// A whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Title shown in the report; defaults to the file name.
    #[serde(default)]
    pub name: Option<String>,
    /// The clock's start (default 2026-11-25T10:00:00Z).
    #[serde(default)]
    pub start: Option<DateTime<Utc>>,
    /// `instant` (default) or `callback` (payments wait for a callback step).
    #[serde(default)]
    pub payment: PaymentMode,
    /// Engine policy (core `Policy`; every field has a default).
    #[serde(default)]
    pub policy: Policy,
    /// Category tree.
    #[serde(default)]
    pub categories: Vec<Category>,
    /// Merchants.
    #[serde(default)]
    pub merchants: Vec<Merchant>,
    /// Products (SPU).
    #[serde(default)]
    pub products: Vec<Product>,
    /// SKUs with price and stock.
    #[serde(default)]
    pub skus: Vec<Sku>,
    /// Member tiers.
    #[serde(default)]
    pub tiers: Vec<Tier>,
    /// Coupon templates.
    #[serde(default)]
    pub templates: Vec<CouponTemplate>,
    /// Users by name.
    #[serde(default)]
    pub users: BTreeMap<String, UserSetup>,
    /// The steps, in order.
    #[serde(default)]
    pub steps: Vec<Step>,
}

/// How the simulated payment provider answers.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMode {
    /// Payments succeed at once.
    #[default]
    Instant,
    /// Payments stay pending until a `payment_callback` step.
    Callback,
}

/// A user of the scenario (`chen = {}` is enough).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSetup {
    /// User id; when absent the runner assigns the smallest id from 1 that
    /// no other user of the file has.
    #[serde(default)]
    pub id: Option<u64>,
    /// Spendable points granted at the start (an admin adjustment).
    #[serde(default)]
    pub points: i64,
    /// Lifetime earned points from before the scenario (they decide the
    /// member tier): one ledger row that earns them, so they are also
    /// spendable.
    #[serde(default)]
    pub lifetime_points: i64,
}

/// `"best"`, `"none"`, or a list of coupon names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CouponSpec {
    /// The best usable set.
    #[default]
    Best,
    /// No coupon.
    None,
    /// These coupons, by name.
    Chosen(Vec<String>),
}

impl<'de> Deserialize<'de> for CouponSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<CouponSpec, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = CouponSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("\"best\", \"none\" or a list of coupon names")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<CouponSpec, E> {
                match v {
                    "best" => Ok(CouponSpec::Best),
                    "none" => Ok(CouponSpec::None),
                    other => Err(E::custom(format!(
                        "coupons = \"{other}\": write \"best\", \"none\" or a list of coupon names like [\"c30\"]"
                    ))),
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<CouponSpec, A::Error> {
                let mut names = Vec::new();
                while let Some(n) = seq.next_element::<String>()? {
                    names.push(n);
                }
                Ok(CouponSpec::Chosen(names))
            }
        }
        d.deserialize_any(V)
    }
}

/// `"none"`, `"max"`, or a number of points.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PointsSpec {
    /// No points.
    #[default]
    None,
    /// As many as the balance and the cap allow.
    Max,
    /// Exactly this many.
    Exactly(i64),
}

impl<'de> Deserialize<'de> for PointsSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PointsSpec, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = PointsSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("\"none\", \"max\" or a whole number of points")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PointsSpec, E> {
                match v {
                    "none" => Ok(PointsSpec::None),
                    "max" => Ok(PointsSpec::Max),
                    other => Err(E::custom(format!(
                        "points = \"{other}\": write \"none\", \"max\" or a whole number of points like 500"
                    ))),
                }
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<PointsSpec, E> {
                Ok(PointsSpec::Exactly(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<PointsSpec, E> {
                i64::try_from(v).map(PointsSpec::Exactly).map_err(|_| E::custom(format!("points = {v}: too large")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Who performs a step that several parties may perform.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum By {
    /// The buyer of the order or case.
    #[default]
    Buyer,
    /// The order's merchant.
    Merchant,
    /// An admin.
    Admin,
}

/// One after-sales line: order line number, units, optional amount.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseLine {
    /// Order line number (from 1).
    pub line: u32,
    /// Units.
    pub quantity: u32,
    /// Amount asked, yuan; the whole refundable amount when absent.
    #[serde(default)]
    pub amount: Option<Money>,
}

/// A step: an action, its arguments, and what must hold afterwards.
#[derive(Debug)]
pub struct Step {
    /// A title for the report ("return the tile"); optional.
    pub name: Option<String>,
    /// What the step does.
    pub action: Action,
    /// Expectations checked after it.
    pub expect: Expect,
}

impl<'de> Deserialize<'de> for Step {
    /// Splits `name` and `expect` off the step's table, then reads the rest
    /// as an [`Action`] (serde cannot refuse unknown fields through
    /// `flatten`). Errors say which part of the step they are about.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Step, D::Error> {
        use serde::de::Error;
        let mut table = toml::Table::deserialize(d)?;
        let name = match table.remove("name") {
            Some(toml::Value::String(s)) => Some(s),
            Some(other) => return Err(D::Error::custom(format!("step name: expected a string, got {other}"))),
            None => None,
        };
        let action_name = table.get("action").and_then(toml::Value::as_str).unwrap_or("?").to_owned();
        let expect = match table.remove("expect") {
            Some(v) => {
                Expect::deserialize(v).map_err(|e| D::Error::custom(format!("step `{action_name}`, expect: {e}")))?
            }
            None => Expect::default(),
        };
        let action = Action::deserialize(toml::Value::Table(table))
            .map_err(|e| D::Error::custom(format!("step `{action_name}`: {e}")))?;
        Ok(Step { name, action, expect })
    }
}

/// Every action a step can take.
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Claim a coupon from a template; `as` names it.
    ClaimCoupon {
        /// Buyer name.
        user: String,
        /// Template id.
        template: CouponTemplateId,
        /// Name for the coupon.
        #[serde(rename = "as", default)]
        name: Option<String>,
    },
    /// Add units of a SKU to the cart.
    AddToCart {
        /// Buyer name.
        user: String,
        /// SKU id.
        sku: SkuId,
        /// Units.
        quantity: u32,
    },
    /// Set the units of a SKU in the cart (0 removes it).
    SetCartQuantity {
        /// Buyer name.
        user: String,
        /// SKU id.
        sku: SkuId,
        /// Units.
        quantity: u32,
    },
    /// Price without writing (seed 004 §6.1).
    Preview {
        /// Buyer name.
        user: String,
        /// (SKU, units); the cart when absent.
        #[serde(default)]
        lines: Option<Vec<(u64, u32)>>,
        /// Coupon choice.
        #[serde(default)]
        coupons: CouponSpec,
        /// Points choice.
        #[serde(default)]
        points: PointsSpec,
    },
    /// Create the orders (seed 004 §6.2); `as` names them (`name`, or
    /// `name.1`, `name.2`… by merchant when the checkout splits).
    Checkout {
        /// Buyer name.
        user: String,
        /// (SKU, units); the cart when absent.
        #[serde(default)]
        lines: Option<Vec<(u64, u32)>>,
        /// Coupon choice.
        #[serde(default)]
        coupons: CouponSpec,
        /// Points choice.
        #[serde(default)]
        points: PointsSpec,
        /// Name for the order(s).
        #[serde(rename = "as", default)]
        name: Option<String>,
    },
    /// Pay named orders of one buyer with one payment; `as` names it.
    Pay {
        /// Order names.
        orders: Vec<String>,
        /// Name for the payment.
        #[serde(rename = "as", default)]
        name: Option<String>,
    },
    /// The provider's success callback for a named payment.
    PaymentCallback {
        /// Payment name.
        payment: String,
        /// Provider transaction number.
        txn: String,
        /// Amount, yuan; the payment's amount when absent.
        #[serde(default)]
        amount: Option<Money>,
    },
    /// Cancel an order.
    Cancel {
        /// Order name.
        order: String,
        /// Who cancels (buyer or admin).
        #[serde(default)]
        by: By,
    },
    /// Ship an order.
    Ship {
        /// Order name.
        order: String,
        /// Who ships (merchant or admin; default merchant).
        #[serde(default = "merchant")]
        by: By,
        /// Carrier.
        #[serde(default = "carrier")]
        carrier: String,
        /// Tracking number.
        #[serde(default = "tracking")]
        tracking_no: String,
    },
    /// The buyer confirms receipt.
    ConfirmReceipt {
        /// Order name.
        order: String,
    },
    /// Move the clock forward.
    TimePasses {
        /// Minutes.
        #[serde(default)]
        minutes: i64,
        /// Hours.
        #[serde(default)]
        hours: i64,
        /// Days.
        #[serde(default)]
        days: i64,
    },
    /// Run the scheduler: close unpaid orders past their deadline, confirm
    /// shipped orders past auto-confirm.
    RunScheduler {},
    /// Apply for after-sales; `as` names the case.
    ApplyAfterSale {
        /// Order name.
        order: String,
        /// Kind.
        kind: AfterSaleKind,
        /// Lines.
        lines: Vec<CaseLine>,
        /// Reason, 1–200 characters (default `不想要了`).
        #[serde(default = "default_reason")]
        reason: String,
        /// Name for the case.
        #[serde(rename = "as", default)]
        name: Option<String>,
    },
    /// Merchant approves a case.
    Approve {
        /// Case name.
        case: String,
    },
    /// Merchant rejects a case.
    Reject {
        /// Case name.
        case: String,
        /// Note.
        #[serde(default)]
        note: String,
    },
    /// Buyer ships the goods back.
    ShipBack {
        /// Case name.
        case: String,
        /// Return tracking number.
        #[serde(default = "tracking")]
        tracking_no: String,
    },
    /// Merchant receives returned goods.
    Receive {
        /// Case name.
        case: String,
    },
    /// Merchant refunds.
    Refund {
        /// Case name.
        case: String,
    },
    /// Merchant ships the exchange.
    Reship {
        /// Case name.
        case: String,
    },
    /// Buyer withdraws a case.
    CancelAfterSale {
        /// Case name.
        case: String,
    },
    /// An admin adds or removes points.
    AdjustPoints {
        /// User name.
        user: String,
        /// Points (negative removes).
        points: i64,
    },
    /// An admin enables or disables a coupon template.
    SetTemplateStatus {
        /// Template id.
        template: CouponTemplateId,
        /// `enabled` or `disabled`.
        status: TemplateStatus,
    },
    /// An admin voids a coupon.
    VoidCoupon {
        /// Coupon name.
        coupon: String,
    },
    /// Only check expectations.
    Check {},
}

fn merchant() -> By {
    By::Merchant
}
fn carrier() -> String {
    "顺丰".into()
}
fn tracking() -> String {
    "SF0000000001".into()
}

/// Stock of a SKU as expected.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockExpect {
    /// Units available.
    #[serde(default)]
    pub available: Option<u32>,
    /// Units reserved.
    #[serde(default)]
    pub reserved: Option<u32>,
    /// Units sold.
    #[serde(default)]
    pub sold: Option<u32>,
}

/// A quote line as expected (every key optional).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineExpect {
    /// Price per unit after the member discount.
    #[serde(default)]
    pub unit_price: Option<Money>,
    /// unit price × quantity.
    #[serde(default)]
    pub subtotal: Option<Money>,
    /// Coupon discounts allocated to the line.
    #[serde(default)]
    pub coupon_discount: Option<Money>,
    /// Points allocated to the line.
    #[serde(default)]
    pub points_used: Option<i64>,
    /// Their value.
    #[serde(default)]
    pub points_deduction: Option<Money>,
    /// What the line pays.
    #[serde(default)]
    pub payable: Option<Money>,
}

/// A points account as expected.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsExpect {
    /// Balance.
    #[serde(default)]
    pub balance: Option<i64>,
    /// Frozen.
    #[serde(default)]
    pub frozen: Option<i64>,
    /// Lifetime earned.
    #[serde(default)]
    pub total_earned: Option<i64>,
    /// Spent.
    #[serde(default)]
    pub total_spent: Option<i64>,
}

/// What must hold after a step. Every key is optional; each present key is
/// one check. Amounts are yuan strings ("2520.00").
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The step fails with this error kind (`MallError::kind`).
    #[serde(default)]
    pub error: Option<String>,
    /// Quote (preview/checkout): goods at member price.
    #[serde(default)]
    pub goods_subtotal: Option<Money>,
    /// Quote: member discount.
    #[serde(default)]
    pub member_discount: Option<Money>,
    /// Quote: coupon discount.
    #[serde(default)]
    pub coupon_discount: Option<Money>,
    /// Quote: points used.
    #[serde(default)]
    pub points_used: Option<i64>,
    /// Quote: points value.
    #[serde(default)]
    pub points_deduction: Option<Money>,
    /// Quote: most points usable.
    #[serde(default)]
    pub points_max: Option<i64>,
    /// Quote: shipping.
    #[serde(default)]
    pub shipping_fee: Option<Money>,
    /// Quote: goods after coupons, before points (what free shipping and the
    /// points cap are measured on), summed over merchants.
    #[serde(default)]
    pub goods_after_coupons: Option<Money>,
    /// Quote: lines by SKU id.
    #[serde(default)]
    pub lines: BTreeMap<String, LineExpect>,
    /// Quote: why a coupon (by name) was not applied: `below_threshold`,
    /// `out_of_scope`, `expired`, `not_yet_valid`, `disabled`, `not_usable`,
    /// `smaller`.
    #[serde(default)]
    pub rejected_coupons: BTreeMap<String, String>,
    /// Quote: payable; pay: payment amount.
    #[serde(default)]
    pub payable: Option<Money>,
    /// Quote: the applied coupons by name (`[]` for none).
    #[serde(default)]
    pub applied_coupons: Option<Vec<String>>,
    /// Checkout: number of orders created.
    #[serde(default)]
    pub orders_created: Option<usize>,
    /// Confirm receipt: points earned.
    #[serde(default)]
    pub points_earned: Option<i64>,
    /// After-sales: the case's goods amount.
    #[serde(default)]
    pub goods_amount: Option<Money>,
    /// After-sales: the clawback.
    #[serde(default)]
    pub clawback: Option<Money>,
    /// After-sales: the refund amount (goods − clawback).
    #[serde(default)]
    pub refund_amount: Option<Money>,
    /// After-sales refund: shipping refunded.
    #[serde(default)]
    pub shipping_refund: Option<Money>,
    /// After-sales refund: redeemed points returned.
    #[serde(default)]
    pub points_returned: Option<i64>,
    /// After-sales refund: earned points taken back.
    #[serde(default)]
    pub points_reversed: Option<i64>,
    /// Scheduler: orders closed, by name.
    #[serde(default)]
    pub closed: Option<Vec<String>>,
    /// Scheduler: orders auto-confirmed, by name.
    #[serde(default)]
    pub confirmed: Option<Vec<String>>,
    /// Order statuses by name (`awaiting_shipment` …).
    #[serde(default)]
    pub orders: BTreeMap<String, String>,
    /// Order payables by name.
    #[serde(default)]
    pub order_payables: BTreeMap<String, Money>,
    /// Σ refunds of an order by name (shipping included).
    #[serde(default)]
    pub order_refunded: BTreeMap<String, Money>,
    /// Points an order earned on completion, by name.
    #[serde(default)]
    pub order_points_earned: BTreeMap<String, i64>,
    /// After-sales statuses by name.
    #[serde(default)]
    pub cases: BTreeMap<String, String>,
    /// Coupon statuses by name (`unused`, `locked`, `used`, `expired`, `void`).
    #[serde(default)]
    pub coupons: BTreeMap<String, String>,
    /// Payment statuses by name.
    #[serde(default)]
    pub payments: BTreeMap<String, String>,
    /// Points accounts by user name.
    #[serde(default)]
    pub points: BTreeMap<String, PointsExpect>,
    /// Stock by SKU id.
    #[serde(default)]
    pub stock: BTreeMap<String, StockExpect>,
    /// Σ refunds the payment provider made, yuan.
    #[serde(default)]
    pub provider_refunded: Option<Money>,
}

/// The reason of an after-sales request that names none (a reason is required, seed 000 §6).
fn default_reason() -> String {
    "不想要了".to_owned()
}
