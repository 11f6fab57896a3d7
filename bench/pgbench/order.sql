-- pgbench custom script: the database work of creating one order, statement
-- for statement as mallkit's PostgreSQL store writes it
-- (storage-postgres/src/writes.rs; the batch of `Mall::checkout`): one
-- transaction reserving 1 unit of a random demo SKU, freezing 100 points of
-- one of the `users` buyers (pgbench -D users=N), inserting the order, its line and its first status row.
--
-- Ids are random in [2^50, 2^53): unique in practice, and clear of the ids
-- `mallkit serve` hands out (block << 32, blocks start at 1).
-- Needs: the demo catalog, SKU stock raised, points_accounts rows for users 1..users
-- (bench/pgbench/run.sh sets all three up).

\set k random(0, 7)
\set u random(1, :users)
\set oid random(1125899906842624, 9007199254740991)
\set cid random(1125899906842624, 9007199254740991)
\set lid random(1125899906842624, 9007199254740991)

BEGIN;

-- MoveStock Reserve: the conditional stock update (the guard).
UPDATE skus SET available = available - 1, reserved = reserved + 1
WHERE id = (ARRAY[101, 102, 201, 202, 301, 302, 401, 501])[:k + 1] AND available >= 1
RETURNING id AS sku, product_id, price, (SELECT merchant_id FROM products p WHERE p.id = skus.product_id) AS merchant
\gset

-- Points freeze: lock the account, refuse a source already in the ledger,
-- then the ledger row and the account in one statement.
SELECT user_id, balance, frozen, total_earned, total_spent FROM points_accounts WHERE user_id = :u FOR UPDATE
\gset
SELECT EXISTS (SELECT 1 FROM points_ledger WHERE user_id = :u AND source = 'payment_deduction' AND action = 'freeze'
    AND reference = :oid);
WITH entry AS (
    INSERT INTO points_ledger (id, user_id, source, action, reference, points, balance_delta, frozen_delta,
        balance_after, remark, at)
    VALUES (:lid, :u, 'payment_deduction', 'freeze', :oid, 100, -100, 100, :balance - 100, '下单冻结积分', now())
)
UPDATE points_accounts SET balance = :balance - 100, frozen = :frozen + 100, total_earned = :total_earned,
    total_spent = :total_spent
WHERE user_id = :u;

-- InsertOrder: the head row ...
INSERT INTO orders (number, checkout_id, user_id, merchant_id, status, goods_subtotal, coupon_discount,
    points_used, points_deduction, shipping_fee, payable, coupons, remark, created_at, pay_deadline, paid_at,
    payment_id, carrier, tracking_no, shipped_at, auto_confirm_at, completed_at, ended_at, points_earned,
    points_reversed, refunded_total, shipping_refunded, id, version, shipping_address)
VALUES ('ORD' || to_char(now(), 'YYYYMMDD') || :oid, :cid, :u, :merchant, 'pending_payment', :price, 0.00,
    100, 1.00, 0.00, :price - 1.00, '[]', '', now(), now() + interval '30 minutes', NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,
    0, 0.00, false, :oid, 0,
    '{"receiver": "bench", "phone": "13800000009", "province": "广东省", "city": "深圳市", "district": "南山区", "detail": "科技园路1号", "postal_code": null}');

-- ... then its lines (upserted) and status history (appended) in one statement.
WITH lines AS (
    INSERT INTO order_lines (order_id, line_no, sku_id, product_id, name, quantity, list_unit_price,
        unit_price, subtotal, coupon_discount, points_used, points_deduction, payable, after_sales_quantity,
        refund_claimed_quantity, refunded_quantity, refunded_amount, points_returned)
    SELECT :oid, l.* FROM UNNEST(ARRAY[1]::INT[], ARRAY[:sku]::BIGINT[], ARRAY[:product_id]::BIGINT[],
        ARRAY['小米67W快充数据线']::TEXT[], ARRAY[1]::INT[], ARRAY[:price]::NUMERIC[], ARRAY[:price]::NUMERIC[],
        ARRAY[:price]::NUMERIC[], ARRAY[0.00]::NUMERIC[], ARRAY[100]::BIGINT[], ARRAY[1.00]::NUMERIC[],
        ARRAY[:price - 1.00]::NUMERIC[], ARRAY[0]::INT[], ARRAY[0]::INT[], ARRAY[0]::INT[], ARRAY[0.00]::NUMERIC[],
        ARRAY[0]::BIGINT[]) AS l
    ON CONFLICT (order_id, line_no) DO UPDATE SET sku_id = EXCLUDED.sku_id, quantity = EXCLUDED.quantity
    WHERE (order_lines.*) IS DISTINCT FROM (EXCLUDED.*)
)
INSERT INTO order_status_history (order_id, seq, from_status, to_status, actor_type, actor_id, remark, at)
SELECT :oid, (h.n - 1)::INT, h.from_status, h.to_status, h.actor_type, h.actor_id, h.remark, h.at
FROM UNNEST(ARRAY[NULL]::TEXT[], ARRAY['pending_payment']::TEXT[], ARRAY['buyer']::TEXT[], ARRAY[:u]::BIGINT[],
    ARRAY['下单']::TEXT[], ARRAY[now()]::TIMESTAMPTZ[])
    WITH ORDINALITY AS h (from_status, to_status, actor_type, actor_id, remark, at, n)
ON CONFLICT (order_id, seq) DO NOTHING;

COMMIT;
