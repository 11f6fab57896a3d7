//! Order writes: the head row under its version, lines upserted and
//! history appended.

use mallkit_core::order::Order;
use mallkit_core::storage::OrderWrite;

use super::{Stop, Tx, write_head};
use crate::codec::{actor_parts, dec, i32_of, i64_of, json, name};

/// Applies one order write.
pub(super) async fn apply(tx: &mut Tx, write: &OrderWrite) -> Result<(), Stop> {
    match write {
        OrderWrite::Insert(o) => write_order(tx, o, true).await?,
        OrderWrite::Update(o) => write_order(tx, o, false).await?,
    }
    Ok(())
}

/// Inserts an order (version 0) or replaces one whose stored version is
/// `o.version` (bumping it); then its lines are upserted (updated in place)
/// and history rows beyond those stored are appended, in one statement.
async fn write_order(tx: &mut Tx, o: &Order, insert: bool) -> Result<(), Stop> {
    let sql = if insert {
        "INSERT INTO orders (number, checkout_id, user_id, merchant_id, status, goods_subtotal, coupon_discount,
             points_used, points_deduction, shipping_fee, payable, coupons, remark, created_at, pay_deadline, paid_at,
             payment_id, carrier, tracking_no, shipped_at, auto_confirm_at, completed_at, ended_at, points_earned,
             points_reversed, refunded_total, shipping_refunded, id, version, shipping_address, points_earned_on)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
             $23, $24, $25, $26, $27, $28, 0, $29, $30)"
    } else {
        "UPDATE orders SET number = $1, checkout_id = $2, user_id = $3, merchant_id = $4, status = $5,
             goods_subtotal = $6, coupon_discount = $7, points_used = $8, points_deduction = $9, shipping_fee = $10,
             payable = $11, coupons = $12, remark = $13, created_at = $14, pay_deadline = $15, paid_at = $16,
             payment_id = $17, carrier = $18, tracking_no = $19, shipped_at = $20, auto_confirm_at = $21,
             completed_at = $22, ended_at = $23, points_earned = $24, points_reversed = $25, refunded_total = $26,
             shipping_refunded = $27, version = version + 1, shipping_address = $30, points_earned_on = $31
         WHERE id = $28 AND version = $29"
    };
    let shipment = o.shipment.as_ref();
    let mut head = sqlx::query(sql)
        .bind(&o.number)
        .bind(i64_of(o.checkout.0))
        .bind(i64_of(o.user.0))
        .bind(i64_of(o.merchant.0))
        .bind(name(&o.status)?)
        .bind(dec(o.goods_subtotal))
        .bind(dec(o.coupon_discount))
        .bind(o.points_used)
        .bind(dec(o.points_deduction))
        .bind(dec(o.shipping_fee))
        .bind(dec(o.payable))
        .bind(json(&o.coupons)?)
        .bind(&o.remark)
        .bind(o.created_at)
        .bind(o.pay_deadline)
        .bind(o.paid_at)
        .bind(o.payment.map(|p| i64_of(p.0)))
        .bind(shipment.map(|s| s.carrier.as_str()))
        .bind(shipment.map(|s| s.tracking_no.as_str()))
        .bind(shipment.map(|s| s.at))
        .bind(o.auto_confirm_at)
        .bind(o.completed_at)
        .bind(o.ended_at)
        .bind(o.points_earned)
        .bind(o.points_reversed)
        .bind(dec(o.refunded_total))
        .bind(o.shipping_refunded)
        .bind(i64_of(o.id.0));
    if !insert {
        head = head.bind(i64_of(o.version));
    }
    let head = head.bind(o.shipping_address.as_ref().map(json).transpose()?).bind(dec(o.points_earned_on));
    write_head(tx, head, "order", o.id.0, insert, ["orders_pkey", "orders_number_key"]).await?;

    let lines = &o.lines;
    let mut history_from = Vec::with_capacity(o.history.len());
    let mut history_to = Vec::with_capacity(o.history.len());
    let mut actor_types = Vec::with_capacity(o.history.len());
    let mut actor_ids = Vec::with_capacity(o.history.len());
    for h in &o.history {
        history_from.push(h.from.map(|f| name(&f)).transpose()?);
        history_to.push(name(&h.to)?);
        let (kind, id) = actor_parts(h.actor);
        actor_types.push(kind);
        actor_ids.push(id);
    }
    sqlx::query(
        "WITH lines AS (
             INSERT INTO order_lines (order_id, line_no, sku_id, product_id, name, quantity, list_unit_price,
                 unit_price, subtotal, coupon_discount, points_used, points_deduction, payable, after_sales_quantity,
                 refund_claimed_quantity, refunded_quantity, refunded_amount, points_returned)
             SELECT $1, l.* FROM UNNEST($2::INT[], $3::BIGINT[], $4::BIGINT[], $5::TEXT[], $6::INT[],
                 $7::NUMERIC[], $8::NUMERIC[], $9::NUMERIC[], $10::NUMERIC[], $11::BIGINT[], $12::NUMERIC[],
                 $13::NUMERIC[], $14::INT[], $15::INT[], $16::INT[], $17::NUMERIC[], $18::BIGINT[]) AS l
             ON CONFLICT (order_id, line_no) DO UPDATE SET sku_id = EXCLUDED.sku_id,
                 product_id = EXCLUDED.product_id, name = EXCLUDED.name, quantity = EXCLUDED.quantity,
                 list_unit_price = EXCLUDED.list_unit_price, unit_price = EXCLUDED.unit_price,
                 subtotal = EXCLUDED.subtotal, coupon_discount = EXCLUDED.coupon_discount,
                 points_used = EXCLUDED.points_used, points_deduction = EXCLUDED.points_deduction,
                 payable = EXCLUDED.payable, after_sales_quantity = EXCLUDED.after_sales_quantity,
                 refund_claimed_quantity = EXCLUDED.refund_claimed_quantity,
                 refunded_quantity = EXCLUDED.refunded_quantity, refunded_amount = EXCLUDED.refunded_amount,
                 points_returned = EXCLUDED.points_returned
             WHERE (order_lines.*) IS DISTINCT FROM (EXCLUDED.*)
         )
         INSERT INTO order_status_history (order_id, seq, from_status, to_status, actor_type, actor_id, remark, at)
         SELECT $1, (h.n - 1)::INT, h.from_status, h.to_status, h.actor_type, h.actor_id, h.remark, h.at
         FROM UNNEST($19::TEXT[], $20::TEXT[], $21::TEXT[], $22::BIGINT[], $23::TEXT[], $24::TIMESTAMPTZ[])
             WITH ORDINALITY AS h (from_status, to_status, actor_type, actor_id, remark, at, n)
         ON CONFLICT (order_id, seq) DO NOTHING",
    )
    .bind(i64_of(o.id.0))
    .bind(lines.iter().map(|l| i32_of(l.line_no)).collect::<Result<Vec<_>, _>>()?)
    .bind(lines.iter().map(|l| i64_of(l.sku.0)).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| i64_of(l.product.0)).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.name.as_str()).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| i32_of(l.quantity)).collect::<Result<Vec<_>, _>>()?)
    .bind(lines.iter().map(|l| dec(l.list_unit_price)).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| dec(l.unit_price)).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| dec(l.subtotal)).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| dec(l.coupon_discount)).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.points_used).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| dec(l.points_deduction)).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| dec(l.payable)).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| i32_of(l.after_sales_quantity)).collect::<Result<Vec<_>, _>>()?)
    .bind(lines.iter().map(|l| i32_of(l.refund_claimed_quantity)).collect::<Result<Vec<_>, _>>()?)
    .bind(lines.iter().map(|l| i32_of(l.refunded_quantity)).collect::<Result<Vec<_>, _>>()?)
    .bind(lines.iter().map(|l| dec(l.refunded_amount)).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.points_returned).collect::<Vec<_>>())
    .bind(history_from)
    .bind(history_to)
    .bind(actor_types)
    .bind(actor_ids)
    .bind(o.history.iter().map(|h| h.remark.as_str()).collect::<Vec<_>>())
    .bind(o.history.iter().map(|h| h.at).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
