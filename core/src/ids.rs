//! Identifiers: one newtype per entity over a `u64` handed out by
//! [`crate::clock::IdGen`], so an order id can never be passed where a SKU id
//! is expected.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }
    )*};
}

id_type! {
    /// A node of the category tree.
    CategoryId,
    /// A merchant (seller) that owns products and ships orders.
    MerchantId,
    /// A product (SPU): what the catalogue lists.
    ProductId,
    /// A stock-keeping unit: one sellable variant of a product.
    SkuId,
    /// A user: buyer, merchant staff or admin.
    UserId,
    /// A coupon template (the offer).
    CouponTemplateId,
    /// A coupon a user holds, claimed from a template.
    UserCouponId,
    /// An order: one merchant's part of a checkout.
    OrderId,
    /// A checkout: the orders created together from one cart.
    CheckoutId,
    /// A payment record covering one or more orders.
    PaymentId,
    /// An after-sales case (售后).
    AfterSaleId,
    /// A points ledger row.
    LedgerEntryId,
    /// A login session (one access token and its refresh token).
    SessionId,
    /// A shipping address in a user's address book.
    AddressId,
}
