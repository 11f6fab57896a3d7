//! Money (DESIGN §2): yuan amounts to the fen, one rounding policy, and
//! largest-remainder allocation (分摊).
//!
//! [`Money`] holds a whole number of fen (0.01 yuan) in an `i64`. It is made
//! from and shown as a [`rust_decimal::Decimal`] of yuan with two decimals, so
//! every boundary (files, JSON, SQL `NUMERIC(…,2)`) speaks decimal yuan, while
//! the pricing arithmetic inside stays exact integer arithmetic: there is no
//! value of two-decimal yuan that a fen count cannot hold, and integer division
//! with an explicit rounding rule is both exact and an order of magnitude
//! faster than `Decimal` division.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a decimal could not become [`Money`] or a [`Rate`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The text is not a decimal number.
    #[error("`{0}` is not a decimal amount (write yuan like \"12.30\")")]
    NotANumber(String),
    /// More decimal places than the type allows (2 for yuan, 4 for rates).
    #[error("`{value}` has more than {max_places} decimal places")]
    TooPrecise {
        /// The value as given.
        value: String,
        /// The largest number of decimal places accepted.
        max_places: u32,
    },
    /// The value does not fit (more than ±92 233 720 368 547 758.07 yuan).
    #[error("`{0}` is out of range")]
    OutOfRange(String),
    /// A rate or amount that must not be negative was negative.
    #[error("`{0}` must not be negative")]
    Negative(String),
}

/// An amount of CNY, stored as a whole number of fen.
///
/// Shown and parsed as yuan with two decimals (`"255.00"`). Serialises as that
/// string; deserialises from a string or an integer number of yuan, never from
/// a float (DESIGN §2). Arithmetic is exact; only [`Rounding`] rounds.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

impl Money {
    /// Zero yuan.
    pub const ZERO: Money = Money(0);

    /// The amount of `fen` fen (0.01 yuan each).
    pub const fn from_fen(fen: i64) -> Money {
        Money(fen)
    }

    /// The amount in fen.
    pub const fn fen(self) -> i64 {
        self.0
    }

    /// `yuan` whole yuan.
    pub const fn from_yuan(yuan: i64) -> Money {
        Money(yuan * 100)
    }

    /// Exact conversion from decimal yuan.
    ///
    /// # Errors
    /// [`MoneyError::TooPrecise`] for a third decimal place that is not zero,
    /// [`MoneyError::OutOfRange`] when the fen count overflows `i64`.
    pub fn from_decimal(yuan: Decimal) -> Result<Money, MoneyError> {
        let normal = yuan.normalize();
        if normal.scale() > 2 {
            return Err(MoneyError::TooPrecise { value: yuan.to_string(), max_places: 2 });
        }
        let fen = normal
            .checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|d| i64::try_from(d).ok())
            .ok_or_else(|| MoneyError::OutOfRange(yuan.to_string()))?;
        Ok(Money(fen))
    }

    /// The amount as decimal yuan with exactly two decimal places.
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    /// `self × quantity`, exact. Saturates at the `i64` range, which no real
    /// line reaches (92 trillion yuan).
    pub const fn times(self, quantity: u32) -> Money {
        Money(self.0.saturating_mul(quantity as i64))
    }

    /// The smaller of two amounts.
    pub fn min(self, other: Money) -> Money {
        Money(self.0.min(other.0))
    }

    /// The larger of two amounts.
    pub fn max(self, other: Money) -> Money {
        Money(self.0.max(other.0))
    }

    /// True when the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// True for zero yuan.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// True when the amount is above zero.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let text = format!("{sign}{}.{:02}", abs / 100, abs % 100);
        f.pad(&text)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "¥{self}")
    }
}

impl FromStr for Money {
    type Err = MoneyError;
    /// Parses decimal yuan: `"12"`, `"12.3"`, `"12.30"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let d = Decimal::from_str(s.trim()).map_err(|_| MoneyError::NotANumber(s.to_owned()))?;
        Money::from_decimal(d)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}
impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}
impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}
impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}
impl SubAssign for Money {
    fn sub_assign(&mut self, rhs: Money) {
        self.0 -= rhs.0;
    }
}
impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
    }
}
impl<'a> Sum<&'a Money> for Money {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
    }
}

/// Money is written as a JSON number of yuan (DESIGN §10): `12.3` for
/// 12.30. The number goes out through an `f64`, which is exact for any
/// amount under 10^13 yuan: such an amount has at most 15 significant digits,
/// and every decimal of 15 significant digits reads back from the nearest
/// `f64` as itself (the shortest form a JSON writer prints). Larger amounts
/// are written as a string, so nothing is ever rounded.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        const EXACT_BELOW_FEN: i64 = 1_000_000_000_000_000;
        if self.0.abs() < EXACT_BELOW_FEN {
            #[allow(clippy::cast_precision_loss)]
            s.serialize_f64(self.0 as f64 / 100.0)
        } else {
            s.collect_str(self)
        }
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        struct MoneyVisitor;
        impl Visitor<'_> for MoneyVisitor {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount in yuan with at most two decimals, as a number or a string like \"12.30\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Money, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
                v.checked_mul(100).map(Money).ok_or_else(|| E::custom(MoneyError::OutOfRange(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
                i64::try_from(v)
                    .map_err(|_| E::custom(MoneyError::OutOfRange(v.to_string())))
                    .and_then(|v| self.visit_i64(v))
            }
            /// A JSON number arrives as an `f64`: it is read through its
            /// shortest decimal form, so `12.3` is 12.30 and `12.345` is
            /// refused for its third decimal. Adapters that must not trust a
            /// float at all (the HTTP API) parse the raw token instead.
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Money, E> {
                if !v.is_finite() {
                    return Err(E::custom(MoneyError::NotANumber(v.to_string())));
                }
                self.visit_str(&v.to_string())
            }
        }
        d.deserialize_any(MoneyVisitor)
    }
}

/// How a fraction of a fen is rounded: the one rounding setting of core
/// (DESIGN §2). Every division that can leave a fraction goes through
/// [`Rounding::divide`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// 四舍五入: halves go away from zero (the default).
    #[default]
    HalfUp,
    /// Banker's rounding: halves go to the even neighbour.
    HalfEven,
    /// Truncate toward zero.
    Down,
}

impl Rounding {
    /// `numerator / denominator` rounded by this rule. `denominator` must be
    /// positive; a zero denominator gives zero rather than a panic.
    pub fn divide(self, numerator: i128, denominator: i128) -> i128 {
        if denominator <= 0 {
            return 0;
        }
        let q = numerator / denominator;
        let r = numerator % denominator;
        if r == 0 {
            return q;
        }
        let away = if numerator < 0 { -1 } else { 1 };
        let twice = 2 * r.abs();
        match self {
            Rounding::Down => q,
            Rounding::HalfUp => {
                if twice >= denominator {
                    q + away
                } else {
                    q
                }
            }
            Rounding::HalfEven => {
                if twice > denominator || (twice == denominator && q % 2 != 0) {
                    q + away
                } else {
                    q
                }
            }
        }
    }

    /// `amount × numerator / denominator`, rounded to the fen by this rule.
    pub fn scale(self, amount: Money, numerator: i64, denominator: i64) -> Money {
        // Prices times rates fit an i64; 128-bit division is kept for the rest.
        if let Some(product) = amount.fen().checked_mul(numerator) {
            return Money(self.divide_i64(product, denominator));
        }
        let v = self.divide(i128::from(amount.fen()) * i128::from(numerator), i128::from(denominator));
        Money(v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
    }

    /// [`Rounding::divide`] on 64-bit integers (same rule, same results).
    fn divide_i64(self, numerator: i64, denominator: i64) -> i64 {
        if denominator <= 0 {
            return 0;
        }
        let (q, r) = (numerator / denominator, numerator % denominator);
        if r == 0 {
            return q;
        }
        let away = if numerator < 0 { -1 } else { 1 };
        let twice = 2 * u128::from(r.unsigned_abs());
        let d = u128::from(denominator.unsigned_abs());
        let up = match self {
            Rounding::Down => false,
            Rounding::HalfUp => twice >= d,
            Rounding::HalfEven => twice > d || (twice == d && q % 2 != 0),
        };
        if up { q + away } else { q }
    }
}

/// A non-negative ratio with four decimal places, held in basis points
/// (1.0 = 10 000): discount rates (0.85 = 15% off), caps (0.5) and
/// multipliers (1.5).
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(u32);

impl Rate {
    /// Basis points in one whole.
    pub const ONE_BP: u32 = 10_000;
    /// The rate 1.0.
    pub const ONE: Rate = Rate(Self::ONE_BP);

    /// A rate of `bp` basis points (10 000 = 1.0).
    pub const fn from_bp(bp: u32) -> Rate {
        Rate(bp)
    }

    /// The rate in basis points.
    pub const fn bp(self) -> u32 {
        self.0
    }

    /// Exact conversion from a decimal such as `0.85`.
    ///
    /// # Errors
    /// [`MoneyError::Negative`], [`MoneyError::TooPrecise`] beyond four
    /// places, [`MoneyError::OutOfRange`] above 400 000.
    pub fn from_decimal(d: Decimal) -> Result<Rate, MoneyError> {
        if d.is_sign_negative() && !d.is_zero() {
            return Err(MoneyError::Negative(d.to_string()));
        }
        let n = d.normalize();
        if n.scale() > 4 {
            return Err(MoneyError::TooPrecise { value: d.to_string(), max_places: 4 });
        }
        (n * Decimal::from(Self::ONE_BP))
            .try_into()
            .ok()
            .and_then(|v: i64| u32::try_from(v).ok())
            .map(Rate)
            .ok_or_else(|| MoneyError::OutOfRange(d.to_string()))
    }

    /// The rate as a decimal (`0.8500` for 8 500 bp).
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(i64::from(self.0), 4).normalize()
    }

    /// `amount × self`, rounded to the fen by `rounding`.
    pub fn of(self, amount: Money, rounding: Rounding) -> Money {
        rounding.scale(amount, i64::from(self.0), i64::from(Self::ONE_BP))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_decimal(), f)
    }
}

impl fmt::Debug for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rate({self})")
    }
}

impl FromStr for Rate {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let d = Decimal::from_str(s.trim()).map_err(|_| MoneyError::NotANumber(s.to_owned()))?;
        Rate::from_decimal(d)
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Rate, D::Error> {
        struct RateVisitor;
        impl Visitor<'_> for RateVisitor {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a rate as a string like \"0.85\" or a whole number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Rate, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Rate, E> {
                Rate::from_decimal(Decimal::from(v)).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Rate, E> {
                Rate::from_decimal(Decimal::from(v)).map_err(E::custom)
            }
            /// Read through the number's shortest decimal form, like [`Money`].
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Rate, E> {
                if !v.is_finite() {
                    return Err(E::custom(MoneyError::NotANumber(v.to_string())));
                }
                self.visit_str(&v.to_string())
            }
        }
        d.deserialize_any(RateVisitor)
    }
}

/// Splits `total` over parts in proportion to `weights` by the
/// largest-remainder method (DESIGN §2): each part is the floor of its exact
/// share, and the fen left over go one each to the parts with the largest
/// remainders, equal remainders to the earlier part. The parts add up to
/// `total` exactly and none is negative (for a non-negative `total`; a
/// negative `total` is split as its absolute value and negated).
///
/// Negative weights count as zero. When every weight is zero the total is
/// split evenly. An empty `weights` gives an empty result.
pub fn allocate(total: Money, weights: &[Money]) -> Vec<Money> {
    let mut out = vec![Money::ZERO; weights.len()];
    allocate_into(total, weights, &mut out);
    out
}

/// [`allocate`] into a caller's buffer (`out.len()` must equal
/// `weights.len()`; extra slots are left alone), for hot loops that reuse
/// one buffer.
pub fn allocate_into(total: Money, weights: &[Money], out: &mut [Money]) {
    let n = weights.len().min(out.len());
    allocate_by(total, n, |i| weights[i], out);
}

/// [`allocate_into`] with the weight of part `i` given by `weight(i)`, for
/// `i` in `0..n` (`n` at most `out.len()`), so a caller need not build a
/// weights vector.
pub fn allocate_by(total: Money, n: usize, weight: impl Fn(usize) -> Money, out: &mut [Money]) {
    let n = n.min(out.len());
    if n == 0 {
        return;
    }
    let total_fen = u128::from(total.fen().unsigned_abs());
    let weight_of = |i: usize| u128::from(weight(i).fen().max(0).unsigned_abs());
    let mut weight_sum: u128 = (0..n).map(weight_of).sum();
    let even = weight_sum == 0;
    if even {
        weight_sum = n as u128;
    }
    // Each part is ⌊total × w / W⌋; the fen left over go to the largest
    // remainders. 64-bit division whenever the product fits: the common case.
    let small = total_fen.checked_mul(weight_sum).is_some_and(|p| p <= u128::from(u64::MAX));
    let split = |w: u128| -> (u128, u128) {
        if small {
            let (e, d) = ((total_fen * w) as u64, weight_sum as u64);
            (u128::from(e / d), u128::from(e % d))
        } else {
            let e = total_fen * w;
            (e / weight_sum, e % weight_sum)
        }
    };
    let weight_at = |i: usize| if even { 1 } else { weight_of(i) };
    let mut given: u128 = 0;
    for (i, slot) in out.iter_mut().enumerate().take(n) {
        let part = split(weight_at(i)).0;
        given += part;
        *slot = Money::from_fen(part as i64);
    }
    let left = (total_fen - given) as usize;
    if left > 0 {
        // A remainder is packed with its inverted index into one integer key,
        // so "largest key" means largest remainder, then earlier line. Fewer
        // fen are left than there are positive remainders, so the `left`
        // largest keys all carry one.
        let mut stack = [0u128; 64];
        let mut heap = Vec::new();
        let keys: &mut [u128] = if n <= stack.len() {
            &mut stack[..n]
        } else {
            heap.resize(n, 0);
            &mut heap
        };
        for (i, key) in keys.iter_mut().enumerate() {
            *key = (split(weight_at(i)).1 << 64) | u128::from(u64::MAX - i as u64);
        }
        let cut = n - left.min(n);
        if cut > 0 {
            keys.select_nth_unstable(cut);
        }
        for key in &keys[cut..] {
            let i = (u64::MAX - *key as u64) as usize;
            out[i] += Money::from_fen(1);
        }
    }
    if total.is_negative() {
        for slot in out.iter_mut().take(n) {
            *slot = -*slot;
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(feature = "openapi")]
mod schema {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
    use utoipa::{PartialSchema, ToSchema};

    use super::{Money, Rate};

    impl PartialSchema for Money {
        fn schema() -> RefOr<Schema> {
            let number = ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::Number))
                .multiple_of(Some(0.01))
                .description(Some(
                    "An amount in yuan (CNY) with at most two decimals, written as a JSON number \
                     (12.3 is 12.30; amounts of 10^13 yuan or more as a string). Requests may send \
                     a number or a string such as \"12.30\"; a third decimal is refused.",
                ))
                .examples([serde_json::json!(12.3)]);
            Schema::Object(number.build()).into()
        }
    }
    impl ToSchema for Money {}

    impl PartialSchema for Rate {
        fn schema() -> RefOr<Schema> {
            let string = ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::String))
                .pattern(Some(r"^\d+(\.\d{1,4})?$"))
                .description(Some("A rate such as \"0.85\" (85 %), at most four decimals, written as a string."))
                .examples([serde_json::json!("0.85")]);
            Schema::Object(string.build()).into()
        }
    }
    impl ToSchema for Rate {}
}
