//! Payments (DESIGN §7, seed 004 §7, seed 003 multi-order payment): the
//! payment record, the provider trait and the built-in `simulated` provider.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{OrderId, PaymentId, UserId};
use crate::money::Money;

pub mod commands;
pub mod error;
pub mod queries;
pub mod store;
pub mod writes;

pub use error::PaymentError;

/// Payment status (seed 004 §7.2 `pay_status` 0–4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Waiting for the provider.
    Pending,
    /// Paid.
    Succeeded,
    /// Failed or expired unpaid.
    Failed,
    /// A refund is under way.
    Refunding,
    /// Fully refunded.
    Refunded,
}

/// How the buyer pays (seed 004 §7.1 `channel`; recorded only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentChannel {
    /// 模拟支付.
    Simulated,
    /// 微信.
    Wechat,
    /// 支付宝.
    Alipay,
}

/// A payment covering one or more orders of a buyer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Payment {
    /// Id.
    pub id: PaymentId,
    /// Payment number given to the provider ("PAY20261125000123").
    pub number: String,
    /// Payer.
    pub user: UserId,
    /// Orders paid.
    pub orders: Vec<OrderId>,
    /// Σ order payables, yuan.
    pub amount: Money,
    /// Channel.
    pub channel: PaymentChannel,
    /// Status.
    pub status: PaymentStatus,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Fails if not paid by then.
    pub expires_at: DateTime<Utc>,
    /// The provider's transaction number once paid.
    pub provider_txn: Option<String>,
    /// Paid.
    pub paid_at: Option<DateTime<Utc>>,
    /// Σ refunds, yuan.
    pub refunded_amount: Money,
    /// Refund numbers sent to the provider, each once.
    pub refunds: Vec<String>,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// What a provider said when a payment started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentStart {
    /// Paid at once, with the provider's transaction number.
    Succeeded {
        /// Transaction number.
        provider_txn: String,
    },
    /// The buyer must act; a callback will confirm.
    Pending,
}

/// A provider failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("payment provider {provider}: {message}")]
pub struct ProviderError {
    /// Provider name.
    pub provider: &'static str,
    /// What it said.
    pub message: String,
}

/// A payment provider (WeChat Pay, Alipay, simulated).
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// Short name ("simulated").
    fn name(&self) -> &'static str;
    /// Starts a payment.
    ///
    /// # Errors
    /// [`ProviderError`] when the provider refuses.
    async fn start(&self, payment: &Payment) -> Result<PaymentStart, ProviderError>;
    /// Refunds `amount` yuan of a paid payment. Idempotent per `refund_no`: the
    /// same number twice refunds once and returns the same transaction.
    ///
    /// # Errors
    /// [`ProviderError`] when the provider refuses.
    async fn refund(&self, payment: &Payment, refund_no: &str, amount: Money) -> Result<String, ProviderError>;
}

/// The built-in `simulated` provider (seed 004 模拟支付): pays at once, or waits
/// for a callback when built with [`SimulatedProvider::awaiting_callback`].
#[derive(Debug, Default)]
pub struct SimulatedProvider {
    await_callback: bool,
    refunds: Mutex<HashMap<String, (Money, String)>>,
}

impl SimulatedProvider {
    /// A provider that succeeds at once.
    pub fn instant() -> SimulatedProvider {
        SimulatedProvider::default()
    }

    /// A provider that leaves payments pending until a callback confirms them.
    pub fn awaiting_callback() -> SimulatedProvider {
        SimulatedProvider { await_callback: true, ..Default::default() }
    }

    /// Σ refunds it has made, yuan (for tests: each refund number counted once).
    pub fn refunded_total(&self) -> Money {
        self.refunds.lock().unwrap_or_else(|e| e.into_inner()).values().map(|(m, _)| *m).sum()
    }
}

#[async_trait]
impl PaymentProvider for SimulatedProvider {
    fn name(&self) -> &'static str {
        "simulated"
    }

    async fn start(&self, payment: &Payment) -> Result<PaymentStart, ProviderError> {
        if self.await_callback {
            Ok(PaymentStart::Pending)
        } else {
            Ok(PaymentStart::Succeeded { provider_txn: format!("SIM{}", payment.number) })
        }
    }

    async fn refund(&self, payment: &Payment, refund_no: &str, amount: Money) -> Result<String, ProviderError> {
        let mut refunds = self.refunds.lock().unwrap_or_else(|e| e.into_inner());
        let txn = refunds
            .entry(refund_no.to_owned())
            .or_insert_with(|| (amount, format!("SIMR{}-{refund_no}", payment.number)));
        Ok(txn.1.clone())
    }
}
