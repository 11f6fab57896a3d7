//! # mallkit-core
//!
//! The commerce rules of mallkit, pure and deterministic: money and
//! allocation ([`money`]), the catalog ([`catalog`], edited by merchants in
//! [`catalog::editing`]), carts ([`cart`]), the
//! pricing pipeline with exact best-coupon matching ([`pricing`]), coupons
//! ([`coupon`]), points and member tiers ([`points`]), orders ([`order`]),
//! payments ([`payment`]), after-sales ([`after_sales`]) and identity
//! ([`identity`]: users, sessions, addresses), with the buyer's browsing
//! in [`storefront`], driven by the
//! commands of [`engine::Mall`] and [`identity::Accounts`] over the storage
//! traits of [`storage`].
//!
//! Core does no I/O of its own: time comes from a [`clock::Clock`], ids from
//! a [`clock::IdGen`], persistence from a [`storage::Store`] and payments from
//! a [`payment::PaymentProvider`]. See DESIGN.md for the rules and the seeds
//! they come from.

pub mod after_sales;
pub mod cart;
pub mod catalog;
pub mod checkout;
pub mod clock;
pub mod coupon;
pub mod engine;
pub mod error;
pub mod event;
pub mod identity;
pub mod ids;
pub mod inventory;
pub mod money;
pub mod order;
pub mod page;
pub mod payment;
pub mod points;
pub mod policy;
pub mod pricing;
pub mod storage;
pub mod storefront;

pub use engine::Mall;
pub use error::{ErrorClass, MallError};
pub use money::{Money, Rate, Rounding};
pub use policy::Policy;
