//! Payment writes under their version.

use mallkit_core::payment::Payment;
use mallkit_core::storage::PaymentWrite;

use super::{Stop, Tx, unique_violation, write_head};
use crate::codec::{backend, dec, i64_of, name};

/// Applies one payment write.
pub(super) async fn apply(tx: &mut Tx, write: &PaymentWrite) -> Result<(), Stop> {
    match write {
        PaymentWrite::Insert(p) => write_payment(tx, p, true).await?,
        PaymentWrite::Update(p) => write_payment(tx, p, false).await?,
    }
    Ok(())
}

/// Inserts a payment (version 0) or replaces one whose stored version is
/// `p.version`; its orders and refund numbers are appended beyond what is
/// stored, in one statement.
async fn write_payment(tx: &mut Tx, p: &Payment, insert: bool) -> Result<(), Stop> {
    let sql = if insert {
        "INSERT INTO payments (number, user_id, amount, channel, status, created_at, expires_at, provider_txn,
             paid_at, refunded_amount, id, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0)"
    } else {
        "UPDATE payments SET number = $1, user_id = $2, amount = $3, channel = $4, status = $5, created_at = $6,
             expires_at = $7, provider_txn = $8, paid_at = $9, refunded_amount = $10, version = version + 1
         WHERE id = $11 AND version = $12"
    };
    let mut head = sqlx::query(sql)
        .bind(&p.number)
        .bind(i64_of(p.user.0))
        .bind(dec(p.amount))
        .bind(name(&p.channel)?)
        .bind(name(&p.status)?)
        .bind(p.created_at)
        .bind(p.expires_at)
        .bind(&p.provider_txn)
        .bind(p.paid_at)
        .bind(dec(p.refunded_amount))
        .bind(i64_of(p.id.0));
    if !insert {
        head = head.bind(i64_of(p.version));
    }
    match write_head(tx, head, "payment", p.id.0, insert, ["payments_pkey", "payments_number_key"]).await {
        Err(Stop::Db(e)) if unique_violation(&e).as_deref() == Some("payments_provider_txn_once") => {
            return Err(Stop::Other(backend(format!(
                "payment {}: provider transaction {:?} already confirms another payment",
                p.id, p.provider_txn
            ))));
        }
        other => other?,
    }
    let children = sqlx::query(
        "WITH orders AS (
             INSERT INTO payment_orders (payment_id, pos, order_id)
             SELECT $1, (o.n - 1)::INT, o.order_id FROM UNNEST($2::BIGINT[]) WITH ORDINALITY AS o (order_id, n)
             ON CONFLICT (payment_id, pos) DO NOTHING
         )
         INSERT INTO payment_refunds (payment_id, seq, refund_no)
         SELECT $1, (r.n - 1)::INT, r.refund_no FROM UNNEST($3::TEXT[]) WITH ORDINALITY AS r (refund_no, n)
         ON CONFLICT (payment_id, seq) DO NOTHING",
    )
    .bind(i64_of(p.id.0))
    .bind(p.orders.iter().map(|o| i64_of(o.0)).collect::<Vec<_>>())
    .bind(&p.refunds)
    .execute(&mut **tx)
    .await;
    match children {
        Err(e) if unique_violation(&e).as_deref() == Some("payment_orders_pkey") => {
            Err(Stop::Other(backend(format!("payment {} lists an order twice: {:?}", p.id, p.orders))))
        }
        Err(e) if unique_violation(&e).as_deref() == Some("payment_refunds_once") => {
            Err(Stop::Other(backend(format!("payment {} lists a refund number twice: {:?}", p.id, p.refunds))))
        }
        other => other.map(|_| ()).map_err(Stop::Db),
    }
}
