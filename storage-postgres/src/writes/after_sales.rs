//! After-sales case writes under their version.

use mallkit_core::after_sales::AfterSale;
use mallkit_core::storage::AfterSaleWrite;

use super::{Stop, Tx, write_head};
use crate::codec::{actor_parts, dec, i32_of, i64_of, name, pos_of};

/// Applies one case write.
pub(super) async fn apply(tx: &mut Tx, write: &AfterSaleWrite) -> Result<(), Stop> {
    match write {
        AfterSaleWrite::Insert(a) => write_after_sale(tx, a, true).await?,
        AfterSaleWrite::Update(a) => write_after_sale(tx, a, false).await?,
    }
    Ok(())
}

/// Inserts an after-sales case (version 0) or replaces one whose stored
/// version is `a.version`; its lines are upserted and log rows beyond those
/// stored appended, in one statement.
async fn write_after_sale(tx: &mut Tx, a: &AfterSale, insert: bool) -> Result<(), Stop> {
    let sql = if insert {
        "INSERT INTO after_sales (number, order_id, user_id, merchant_id, kind, status, reason, goods_amount,
             clawback, clawback_by_coupon, refund_amount, shipping_refund, points_returned, points_reversed,
             return_tracking_no, created_at, id, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 0)"
    } else {
        "UPDATE after_sales SET number = $1, order_id = $2, user_id = $3, merchant_id = $4, kind = $5, status = $6,
             reason = $7, goods_amount = $8, clawback = $9, clawback_by_coupon = $10, refund_amount = $11,
             shipping_refund = $12, points_returned = $13, points_reversed = $14, return_tracking_no = $15,
             created_at = $16, version = version + 1
         WHERE id = $17 AND version = $18"
    };
    let mut head = sqlx::query(sql)
        .bind(&a.number)
        .bind(i64_of(a.order.0))
        .bind(i64_of(a.user.0))
        .bind(i64_of(a.merchant.0))
        .bind(name(&a.kind)?)
        .bind(name(&a.status)?)
        .bind(&a.reason)
        .bind(dec(a.goods_amount))
        .bind(dec(a.clawback))
        .bind(a.clawback_by_coupon.iter().map(|m| dec(*m)).collect::<Vec<_>>())
        .bind(dec(a.refund_amount))
        .bind(dec(a.shipping_refund))
        .bind(a.points_returned)
        .bind(a.points_reversed)
        .bind(&a.return_tracking_no)
        .bind(a.created_at)
        .bind(i64_of(a.id.0));
    if !insert {
        head = head.bind(i64_of(a.version));
    }
    write_head(tx, head, "after_sale", a.id.0, insert, ["after_sales_pkey", "after_sales_number_key"]).await?;

    let mut actions = Vec::with_capacity(a.logs.len());
    let mut statuses = Vec::with_capacity(a.logs.len());
    let mut operator_types = Vec::with_capacity(a.logs.len());
    let mut operator_ids = Vec::with_capacity(a.logs.len());
    for log in &a.logs {
        actions.push(name(&log.action)?);
        statuses.push(name(&log.status)?);
        let (kind, id) = actor_parts(log.operator);
        operator_types.push(kind);
        operator_ids.push(id);
    }
    let positions = (0..a.lines.len()).map(pos_of).collect::<Result<Vec<_>, _>>()?;
    sqlx::query(
        "WITH lines AS (
             INSERT INTO after_sale_lines (after_sale_id, pos, order_id, line_no, quantity, amount, refunded)
             SELECT $1, l.pos, $2, l.line_no, l.quantity, l.amount, l.refunded
             FROM UNNEST($3::INT[], $4::INT[], $5::INT[], $6::NUMERIC[], $7::NUMERIC[])
                 AS l (pos, line_no, quantity, amount, refunded)
             ON CONFLICT (after_sale_id, pos) DO UPDATE SET order_id = EXCLUDED.order_id,
                 line_no = EXCLUDED.line_no, quantity = EXCLUDED.quantity, amount = EXCLUDED.amount,
                 refunded = EXCLUDED.refunded
             WHERE (after_sale_lines.*) IS DISTINCT FROM (EXCLUDED.*)
         )
         INSERT INTO after_sale_logs (after_sale_id, seq, action, operator_type, operator_id, status, at, note)
         SELECT $1, (g.n - 1)::INT, g.action, g.operator_type, g.operator_id, g.status, g.at, g.note
         FROM UNNEST($8::TEXT[], $9::TEXT[], $10::BIGINT[], $11::TEXT[], $12::TIMESTAMPTZ[], $13::TEXT[])
             WITH ORDINALITY AS g (action, operator_type, operator_id, status, at, note, n)
         ON CONFLICT (after_sale_id, seq) DO NOTHING",
    )
    .bind(i64_of(a.id.0))
    .bind(i64_of(a.order.0))
    .bind(positions)
    .bind(a.lines.iter().map(|l| i32_of(l.line_no)).collect::<Result<Vec<_>, _>>()?)
    .bind(a.lines.iter().map(|l| i32_of(l.quantity)).collect::<Result<Vec<_>, _>>()?)
    .bind(a.lines.iter().map(|l| dec(l.amount)).collect::<Vec<_>>())
    .bind(a.lines.iter().map(|l| dec(l.refunded)).collect::<Vec<_>>())
    .bind(actions)
    .bind(operator_types)
    .bind(operator_ids)
    .bind(statuses)
    .bind(a.logs.iter().map(|l| l.at).collect::<Vec<_>>())
    .bind(a.logs.iter().map(|l| l.note.as_str()).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
