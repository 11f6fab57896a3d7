//! Conversions between core's types and column values, and the row mappers
//! of the single-table entities.
//!
//! Ids are `u64` in core and `BIGINT` here: the bits are kept (`as` casts both
//! ways), so every id round-trips, even above `i64::MAX`. Unit counts are
//! `u32` in core and `INT` here (checked both ways). Enums are written as the
//! snake_case name core's serde gives them and read back through serde.

use mallkit_core::catalog::{Category, Merchant, Product, Sku, Stock};
use mallkit_core::coupon::{CouponTemplate, UserCoupon};
use mallkit_core::ids::{
    CategoryId, CheckoutId, CouponTemplateId, LedgerEntryId, MerchantId, ProductId, SkuId, UserCouponId, UserId,
};
use mallkit_core::money::{Money, Rate};
use mallkit_core::order::Actor;
use mallkit_core::points::{LedgerEntry, PointsAccount, Tier};
use mallkit_core::storage::StoreError;
use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::postgres::{PgRow, Postgres};

pub(crate) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub(crate) fn dec(m: Money) -> Decimal {
    m.to_decimal()
}

pub(crate) fn money(d: Decimal) -> Result<Money, StoreError> {
    Money::from_decimal(d).map_err(backend)
}

pub(crate) fn rate(d: Decimal) -> Result<Rate, StoreError> {
    Rate::from_decimal(d).map_err(backend)
}

pub(crate) fn json<T: Serialize>(v: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(v).map_err(backend)
}

pub(crate) fn from_json<T: DeserializeOwned>(v: serde_json::Value) -> Result<T, StoreError> {
    serde_json::from_value(v).map_err(backend)
}

/// The snake_case name core's serde gives an enum value.
pub(crate) fn name<T: Serialize>(v: &T) -> Result<String, StoreError> {
    match json(v)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(backend(format!("not an enum name: {other}"))),
    }
}

/// The enum value of a snake_case name.
pub(crate) fn parse<T: DeserializeOwned>(s: String) -> Result<T, StoreError> {
    from_json(serde_json::Value::String(s))
}

pub(crate) fn u32_of(v: i32) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(backend)
}

pub(crate) fn i32_of(v: u32) -> Result<i32, StoreError> {
    i32::try_from(v).map_err(backend)
}

/// A position in a list (history row, log row, line of a case) as `INT`.
pub(crate) fn pos_of(i: usize) -> Result<i32, StoreError> {
    i32::try_from(i).map_err(backend)
}

/// An id as `BIGINT` (same bits).
pub(crate) fn i64_of(v: u64) -> i64 {
    v as i64
}

/// A `BIGINT` as an id (same bits).
pub(crate) fn id_of(v: i64) -> u64 {
    v as u64
}

/// An actor as (type, id) columns; the system has no id.
pub(crate) fn actor_parts(a: Actor) -> (&'static str, Option<i64>) {
    match a {
        Actor::Buyer(u) => ("buyer", Some(i64_of(u.0))),
        Actor::Merchant(m) => ("merchant", Some(i64_of(m.0))),
        Actor::Admin(u) => ("admin", Some(i64_of(u.0))),
        Actor::System => ("system", None),
    }
}

/// The actor of (type, id) columns.
pub(crate) fn actor_of(kind: &str, id: Option<i64>) -> Result<Actor, StoreError> {
    match (kind, id) {
        ("buyer", Some(id)) => Ok(Actor::Buyer(UserId(id_of(id)))),
        ("merchant", Some(id)) => Ok(Actor::Merchant(MerchantId(id_of(id)))),
        ("admin", Some(id)) => Ok(Actor::Admin(UserId(id_of(id)))),
        ("system", None) => Ok(Actor::System),
        (kind, id) => Err(backend(format!("not an actor: {kind} {id:?}"))),
    }
}

/// Column `col` of `row`.
pub(crate) fn get<'r, T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>>(
    row: &'r PgRow,
    col: &str,
) -> Result<T, StoreError> {
    row.try_get(col).map_err(backend)
}

pub(crate) fn category(r: &PgRow) -> Result<Category, StoreError> {
    Ok(Category {
        id: CategoryId(id_of(get(r, "id")?)),
        parent: get::<Option<i64>>(r, "parent_id")?.map(|p| CategoryId(id_of(p))),
        name: get(r, "name")?,
        sort: get(r, "sort")?,
    })
}

pub(crate) fn merchant(r: &PgRow) -> Result<Merchant, StoreError> {
    Ok(Merchant { id: MerchantId(id_of(get(r, "id")?)), name: get(r, "name")? })
}

pub(crate) fn product(r: &PgRow) -> Result<Product, StoreError> {
    Ok(Product {
        id: ProductId(id_of(get(r, "id")?)),
        merchant: MerchantId(id_of(get(r, "merchant_id")?)),
        category: CategoryId(id_of(get(r, "category_id")?)),
        name: get(r, "name")?,
        status: parse(get(r, "status")?)?,
    })
}

pub(crate) fn sku(r: &PgRow) -> Result<Sku, StoreError> {
    Ok(Sku {
        id: SkuId(id_of(get(r, "id")?)),
        product: ProductId(id_of(get(r, "product_id")?)),
        attributes: from_json(get(r, "attributes")?)?,
        price: money(get(r, "price")?)?,
        original_price: get::<Option<Decimal>>(r, "original_price")?.map(money).transpose()?,
        weight_grams: get::<Option<i32>>(r, "weight_grams")?.map(u32_of).transpose()?,
        stock: Stock {
            available: u32_of(get(r, "available")?)?,
            reserved: u32_of(get(r, "reserved")?)?,
            sold: u32_of(get(r, "sold")?)?,
        },
    })
}

pub(crate) fn tier(r: &PgRow) -> Result<Tier, StoreError> {
    Ok(Tier {
        level: u32_of(get(r, "level")?)?,
        name: get(r, "name")?,
        min_points: get(r, "min_points")?,
        points_multiplier: rate(get(r, "points_multiplier")?)?,
        free_shipping: get(r, "free_shipping")?,
        member_discount: get::<Option<Decimal>>(r, "member_discount")?.map(rate).transpose()?,
        benefits: get(r, "benefits")?,
    })
}

pub(crate) fn template(r: &PgRow) -> Result<CouponTemplate, StoreError> {
    Ok(CouponTemplate {
        id: CouponTemplateId(id_of(get(r, "id")?)),
        title: get(r, "title")?,
        kind: from_json(get(r, "kind")?)?,
        scope: from_json(get(r, "scope")?)?,
        validity: from_json(get(r, "validity")?)?,
        total_limit: get::<Option<i32>>(r, "total_limit")?.map(u32_of).transpose()?,
        per_user_limit: u32_of(get(r, "per_user_limit")?)?,
        issued: u32_of(get(r, "issued")?)?,
        used: u32_of(get(r, "used")?)?,
        status: parse(get(r, "status")?)?,
        layer: get::<Option<String>>(r, "layer")?.map(parse).transpose()?,
    })
}

pub(crate) fn user_coupon(r: &PgRow) -> Result<UserCoupon, StoreError> {
    Ok(UserCoupon {
        id: UserCouponId(id_of(get(r, "id")?)),
        template: CouponTemplateId(id_of(get(r, "template_id")?)),
        user: UserId(id_of(get(r, "user_id")?)),
        status: parse(get(r, "status")?)?,
        valid_from: get(r, "valid_from")?,
        valid_to: get(r, "valid_to")?,
        claimed_at: get(r, "claimed_at")?,
        checkout: get::<Option<i64>>(r, "checkout_id")?.map(|c| CheckoutId(id_of(c))),
        used_at: get(r, "used_at")?,
    })
}

pub(crate) fn account(r: &PgRow) -> Result<PointsAccount, StoreError> {
    Ok(PointsAccount {
        user: UserId(id_of(get(r, "user_id")?)),
        balance: get(r, "balance")?,
        frozen: get(r, "frozen")?,
        total_earned: get(r, "total_earned")?,
        total_spent: get(r, "total_spent")?,
    })
}

pub(crate) fn ledger_entry(r: &PgRow) -> Result<LedgerEntry, StoreError> {
    Ok(LedgerEntry {
        id: LedgerEntryId(id_of(get(r, "id")?)),
        user: UserId(id_of(get(r, "user_id")?)),
        source: parse(get(r, "source")?)?,
        action: parse(get(r, "action")?)?,
        reference: id_of(get(r, "reference")?),
        points: get(r, "points")?,
        balance_delta: get(r, "balance_delta")?,
        frozen_delta: get(r, "frozen_delta")?,
        balance_after: get(r, "balance_after")?,
        remark: get(r, "remark")?,
        at: get(r, "at")?,
    })
}

pub(crate) fn cart_items(r: &PgRow) -> Result<Vec<mallkit_core::cart::CartItem>, StoreError> {
    from_json(get(r, "items")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_their_bits_and_actors_round_trip() {
        for id in [0, 1, i64::MAX as u64, u64::MAX] {
            assert_eq!(id_of(i64_of(id)), id);
        }
        for a in
            [Actor::Buyer(UserId(7)), Actor::Merchant(MerchantId(u64::MAX)), Actor::Admin(UserId(1)), Actor::System]
        {
            let (kind, id) = actor_parts(a);
            assert_eq!(actor_of(kind, id).expect("actor"), a);
        }
        assert!(actor_of("system", Some(1)).is_err());
    }

    #[test]
    fn enum_names_are_serde_names() {
        use mallkit_core::order::OrderStatus;
        assert_eq!(name(&OrderStatus::PendingPayment).expect("name"), "pending_payment");
        assert_eq!(parse::<OrderStatus>("awaiting_shipment".into()).expect("parse"), OrderStatus::AwaitingShipment);
        assert!(parse::<OrderStatus>("paid".into()).is_err());
    }
}
