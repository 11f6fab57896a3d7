-- 0002: what a mall back office queries becomes tables (after-sale lines and
-- logs, the payment <-> order link, refund numbers, who moved an order), the
-- status history gets its CHECKs, table-level CHECKs get names the store can
-- report, and the reads get indexes that also cover their ORDER BY.
-- Existing rows are carried over (0001 databases keep their data).
--
-- Conventions (as in 0001): ids are BIGINT from core's IdGen, never sequences;
-- money is NUMERIC(14,2) yuan; rates are NUMERIC(8,4) (1.0000 = 10 000 basis
-- points in core's `Rate`); times TIMESTAMPTZ; enums TEXT with a CHECK on the
-- snake_case names core's serde writes. An actor (who did something) is two
-- columns: type and id (NULL for the system).

-- ---- order status history: actor as columns, statuses checked ----

ALTER TABLE order_status_history
    ADD COLUMN actor_type TEXT,
    ADD COLUMN actor_id BIGINT;
UPDATE order_status_history SET actor_type = actor ->> 'type', actor_id = (actor ->> 'id')::BIGINT;
ALTER TABLE order_status_history
    ALTER COLUMN actor_type SET NOT NULL,
    DROP COLUMN actor,
    ADD CONSTRAINT order_status_history_seq_check CHECK (seq >= 0),
    ADD CONSTRAINT order_status_history_from_check CHECK (from_status IN
        ('pending_payment', 'awaiting_shipment', 'shipped', 'completed', 'cancelled', 'closed')),
    ADD CONSTRAINT order_status_history_to_check CHECK (to_status IN
        ('pending_payment', 'awaiting_shipment', 'shipped', 'completed', 'cancelled', 'closed')),
    ADD CONSTRAINT order_status_history_actor_check CHECK (actor_type IN ('buyer', 'merchant', 'admin', 'system')
        AND (actor_id IS NULL) = (actor_type = 'system'));

-- ---- after-sales: lines and logs as tables ----

CREATE TABLE after_sale_lines (
    after_sale_id BIGINT NOT NULL REFERENCES after_sales (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    pos           INT NOT NULL CHECK (pos >= 0), -- position in the case as the buyer listed it
    order_id      BIGINT NOT NULL,
    line_no       INT NOT NULL,
    quantity      INT NOT NULL CHECK (quantity > 0),
    amount        NUMERIC(14, 2) NOT NULL CHECK (amount >= 0), -- refundable for these units (0 for exchange)
    refunded      NUMERIC(14, 2) NOT NULL CHECK (refunded >= 0), -- may exceed amount when a clawback is given back
    PRIMARY KEY (after_sale_id, pos),
    CONSTRAINT after_sale_lines_line_once UNIQUE (after_sale_id, line_no),
    FOREIGN KEY (order_id, line_no) REFERENCES order_lines (order_id, line_no) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX after_sale_lines_order_line ON after_sale_lines (order_id, line_no);

INSERT INTO after_sale_lines (after_sale_id, pos, order_id, line_no, quantity, amount, refunded)
SELECT a.id, (e.ord - 1)::INT, a.order_id, (e.v ->> 'line_no')::INT, (e.v ->> 'quantity')::INT,
       (e.v ->> 'amount')::NUMERIC, COALESCE((e.v ->> 'refunded')::NUMERIC, 0)
FROM after_sales a, jsonb_array_elements(a.lines) WITH ORDINALITY AS e (v, ord);

-- Append-only progress log (seed 000 §6.2).
CREATE TABLE after_sale_logs (
    after_sale_id BIGINT NOT NULL REFERENCES after_sales (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    seq           INT NOT NULL CHECK (seq >= 0),
    action        TEXT NOT NULL CHECK (action IN
        ('apply', 'approve', 'reject', 'ship_back', 'receive', 'refund', 'reship', 'cancel')),
    operator_type TEXT NOT NULL,
    operator_id   BIGINT,
    status        TEXT NOT NULL CHECK (status IN
        ('requested', 'approved', 'rejected', 'awaiting_return', 'received', 'refunded', 'reshipped', 'cancelled')),
    at            TIMESTAMPTZ NOT NULL,
    note          TEXT NOT NULL,
    PRIMARY KEY (after_sale_id, seq),
    CONSTRAINT after_sale_logs_operator_check CHECK (operator_type IN ('buyer', 'merchant', 'admin', 'system')
        AND (operator_id IS NULL) = (operator_type = 'system'))
);

INSERT INTO after_sale_logs (after_sale_id, seq, action, operator_type, operator_id, status, at, note)
SELECT a.id, (e.ord - 1)::INT, e.v ->> 'action', e.v -> 'operator' ->> 'type', (e.v -> 'operator' ->> 'id')::BIGINT,
       e.v ->> 'status', (e.v ->> 'at')::TIMESTAMPTZ, e.v ->> 'note'
FROM after_sales a, jsonb_array_elements(a.logs) WITH ORDINALITY AS e (v, ord);

-- One clawback amount per coupon of the order, in the order's coupon order:
-- a typed array, never queried on its own.
ALTER TABLE after_sales ADD COLUMN clawback_amounts NUMERIC(14, 2)[];
UPDATE after_sales
SET clawback_amounts = ARRAY(SELECT x::NUMERIC FROM jsonb_array_elements_text(clawback_by_coupon) WITH ORDINALITY AS c (x, n) ORDER BY n);
ALTER TABLE after_sales
    ALTER COLUMN clawback_amounts SET NOT NULL,
    DROP COLUMN clawback_by_coupon,
    DROP COLUMN lines,
    DROP COLUMN logs;
ALTER TABLE after_sales RENAME COLUMN clawback_amounts TO clawback_by_coupon;

DROP INDEX after_sales_order;
CREATE INDEX after_sales_order ON after_sales (order_id, id);
CREATE INDEX after_sales_user ON after_sales (user_id, id DESC);
CREATE INDEX after_sales_merchant_status ON after_sales (merchant_id, status);

-- ---- payments: the orders they pay and their refund numbers as tables ----

CREATE TABLE payment_orders (
    payment_id BIGINT NOT NULL REFERENCES payments (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    pos        INT NOT NULL CHECK (pos >= 0), -- position in the payment as the buyer listed them
    order_id   BIGINT NOT NULL REFERENCES orders (id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (payment_id, order_id),
    CONSTRAINT payment_orders_pos_once UNIQUE (payment_id, pos)
);
-- An order may appear in several payments over time (a failed one, then another).
CREATE INDEX payment_orders_order ON payment_orders (order_id);

INSERT INTO payment_orders (payment_id, pos, order_id)
SELECT p.id, (u.ord - 1)::INT, u.order_id FROM payments p, unnest(p.order_ids) WITH ORDINALITY AS u (order_id, ord);

-- Refund numbers sent to the provider, each once per payment (append-only).
CREATE TABLE payment_refunds (
    payment_id BIGINT NOT NULL REFERENCES payments (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    seq        INT NOT NULL CHECK (seq >= 0),
    refund_no  TEXT NOT NULL,
    PRIMARY KEY (payment_id, seq),
    CONSTRAINT payment_refunds_once UNIQUE (payment_id, refund_no)
);

INSERT INTO payment_refunds (payment_id, seq, refund_no)
SELECT p.id, (u.ord - 1)::INT, u.refund_no FROM payments p, unnest(p.refunds) WITH ORDINALITY AS u (refund_no, ord);

ALTER TABLE payments
    DROP COLUMN order_ids,
    DROP COLUMN refunds,
    -- One confirmation per provider transaction, per channel (providers number independently).
    DROP CONSTRAINT payments_provider_txn_key,
    ADD CONSTRAINT payments_provider_txn_once UNIQUE (channel, provider_txn);
CREATE INDEX payments_user ON payments (user_id, id DESC);

-- ---- orders: the payment link, names for the table-level CHECKs, indexes ----

ALTER TABLE orders
    ADD CONSTRAINT orders_payment_fkey FOREIGN KEY (payment_id) REFERENCES payments (id) DEFERRABLE INITIALLY DEFERRED,
    -- A shipment is carrier, tracking number and time together, or nothing.
    ADD CONSTRAINT orders_shipment_whole CHECK ((carrier IS NULL) = (tracking_no IS NULL)
        AND (carrier IS NULL) = (shipped_at IS NULL));
ALTER TABLE orders RENAME CONSTRAINT orders_check TO orders_refunded_within_payable;
ALTER TABLE coupon_templates RENAME CONSTRAINT coupon_templates_check TO coupon_templates_issued_within_limit;

DROP INDEX orders_checkout;
CREATE INDEX orders_checkout ON orders (checkout_id, id);
CREATE INDEX orders_merchant ON orders (merchant_id, id DESC);
CREATE INDEX order_lines_sku ON order_lines (sku_id);

-- ---- the rest: indexes that also serve the ORDER BY of their read ----

DROP INDEX skus_product;
CREATE INDEX skus_product ON skus (product_id, id);
DROP INDEX user_coupons_user;
CREATE INDEX user_coupons_user ON user_coupons (user_id, id);
CREATE INDEX user_coupons_template ON user_coupons (template_id);
CREATE INDEX coupon_claims_template ON coupon_claims (template_id);

ALTER TABLE points_ledger
    ADD CONSTRAINT points_ledger_account_fkey FOREIGN KEY (user_id) REFERENCES points_accounts (user_id);
