-- mallkit schema. Ids are BIGINT chosen by core's IdGen (no sequences);
-- money is NUMERIC(14,2) yuan; rates are NUMERIC(8,4); enums are TEXT with
-- CHECK on the snake_case names core's serde uses. Foreign keys are
-- DEFERRABLE so one batch may write a row and what it points to in any order.

CREATE TABLE categories (
    id        BIGINT PRIMARY KEY,
    parent_id BIGINT REFERENCES categories (id) DEFERRABLE INITIALLY DEFERRED,
    name      TEXT NOT NULL,
    sort      INT NOT NULL DEFAULT 0
);

CREATE TABLE merchants (
    id   BIGINT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE products (
    id          BIGINT PRIMARY KEY,
    merchant_id BIGINT NOT NULL REFERENCES merchants (id) DEFERRABLE INITIALLY DEFERRED,
    category_id BIGINT NOT NULL REFERENCES categories (id) DEFERRABLE INITIALLY DEFERRED,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('on_sale', 'off_sale'))
);
CREATE INDEX products_merchant ON products (merchant_id);
CREATE INDEX products_category ON products (category_id);

CREATE TABLE skus (
    id             BIGINT PRIMARY KEY,
    product_id     BIGINT NOT NULL REFERENCES products (id) DEFERRABLE INITIALLY DEFERRED,
    attributes     JSONB NOT NULL DEFAULT '{}', -- free-form variant labels (颜色, 尺码), shown, never queried
    price          NUMERIC(14, 2) NOT NULL CHECK (price >= 0),
    original_price NUMERIC(14, 2) CHECK (original_price >= 0),
    weight_grams   INT CHECK (weight_grams >= 0),
    available      INT NOT NULL CHECK (available >= 0),
    reserved       INT NOT NULL CHECK (reserved >= 0),
    sold           INT NOT NULL CHECK (sold >= 0)
);
CREATE INDEX skus_product ON skus (product_id);

CREATE TABLE tiers (
    level             INT PRIMARY KEY CHECK (level >= 0),
    name              TEXT NOT NULL,
    min_points        BIGINT NOT NULL CHECK (min_points >= 0),
    points_multiplier NUMERIC(8, 4) NOT NULL CHECK (points_multiplier >= 0),
    free_shipping     BOOLEAN NOT NULL,
    member_discount   NUMERIC(8, 4) CHECK (member_discount > 0 AND member_discount <= 1),
    benefits          TEXT[] NOT NULL DEFAULT '{}'
);

CREATE TABLE coupon_templates (
    id             BIGINT PRIMARY KEY,
    title          TEXT NOT NULL,
    kind           JSONB NOT NULL, -- the discount rule as core writes it; read whole with the template
    scope          JSONB NOT NULL, -- the scope as core writes it; matched in core, not in SQL
    validity       JSONB NOT NULL, -- window or days-after-claim, as core writes it
    total_limit    INT CHECK (total_limit >= 0),
    per_user_limit INT NOT NULL CHECK (per_user_limit >= 1),
    issued         INT NOT NULL DEFAULT 0 CHECK (issued >= 0),
    used           INT NOT NULL DEFAULT 0 CHECK (used >= 0),
    status         TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
    layer          TEXT CHECK (layer IN ('merchant', 'platform')),
    CHECK (total_limit IS NULL OR issued <= total_limit)
);

-- One row per (user, template): the per-user claim counter.
CREATE TABLE coupon_claims (
    user_id     BIGINT NOT NULL,
    template_id BIGINT NOT NULL REFERENCES coupon_templates (id),
    claimed     INT NOT NULL CHECK (claimed >= 0),
    PRIMARY KEY (user_id, template_id)
);

CREATE TABLE user_coupons (
    id          BIGINT PRIMARY KEY,
    template_id BIGINT NOT NULL REFERENCES coupon_templates (id),
    user_id     BIGINT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('unused', 'locked', 'used', 'expired', 'void')),
    valid_from  TIMESTAMPTZ NOT NULL,
    valid_to    TIMESTAMPTZ NOT NULL,
    claimed_at  TIMESTAMPTZ NOT NULL,
    checkout_id BIGINT,
    used_at     TIMESTAMPTZ
);
CREATE INDEX user_coupons_user ON user_coupons (user_id);

CREATE TABLE points_accounts (
    user_id      BIGINT PRIMARY KEY,
    balance      BIGINT NOT NULL, -- may go negative only by a refund reversal (DESIGN §5, docs/decisions.md)
    frozen       BIGINT NOT NULL CHECK (frozen >= 0),
    total_earned BIGINT NOT NULL,
    total_spent  BIGINT NOT NULL
);

CREATE TABLE points_ledger (
    seq           BIGSERIAL PRIMARY KEY, -- write order: the ledger reads oldest first
    id            BIGINT NOT NULL UNIQUE,
    user_id       BIGINT NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('order_reward', 'refund_reversal', 'payment_deduction', 'refund_return', 'admin_adjustment')),
    action        TEXT NOT NULL CHECK (action IN ('earn', 'freeze', 'unfreeze', 'spend', 'return', 'reverse', 'adjust')),
    reference     BIGINT NOT NULL,
    points        BIGINT NOT NULL,
    balance_delta BIGINT NOT NULL,
    frozen_delta  BIGINT NOT NULL,
    balance_after BIGINT NOT NULL,
    remark        TEXT NOT NULL,
    at            TIMESTAMPTZ NOT NULL,
    CONSTRAINT points_ledger_source_once UNIQUE (user_id, source, action, reference)
);
CREATE INDEX points_ledger_user ON points_ledger (user_id, seq);

CREATE TABLE carts (
    user_id BIGINT PRIMARY KEY,
    items   JSONB NOT NULL -- a handful of (sku, quantity, selected); replaced whole on every change
);

CREATE TABLE orders (
    id                BIGINT PRIMARY KEY,
    number            TEXT NOT NULL UNIQUE,
    checkout_id       BIGINT NOT NULL,
    user_id           BIGINT NOT NULL,
    merchant_id       BIGINT NOT NULL REFERENCES merchants (id),
    status            TEXT NOT NULL CHECK (status IN ('pending_payment', 'awaiting_shipment', 'shipped', 'completed', 'cancelled', 'closed')),
    goods_subtotal    NUMERIC(14, 2) NOT NULL CHECK (goods_subtotal >= 0),
    coupon_discount   NUMERIC(14, 2) NOT NULL CHECK (coupon_discount >= 0),
    points_used       BIGINT NOT NULL CHECK (points_used >= 0),
    points_deduction  NUMERIC(14, 2) NOT NULL CHECK (points_deduction >= 0),
    shipping_fee      NUMERIC(14, 2) NOT NULL CHECK (shipping_fee >= 0),
    payable           NUMERIC(14, 2) NOT NULL CHECK (payable >= 0),
    coupons           JSONB NOT NULL, -- snapshot of the coupons used (rule, scope lines, clawback), read whole
    remark            TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    pay_deadline      TIMESTAMPTZ NOT NULL,
    paid_at           TIMESTAMPTZ,
    payment_id        BIGINT,
    carrier           TEXT,
    tracking_no       TEXT,
    shipped_at        TIMESTAMPTZ,
    auto_confirm_at   TIMESTAMPTZ,
    completed_at      TIMESTAMPTZ,
    ended_at          TIMESTAMPTZ,
    points_earned     BIGINT NOT NULL CHECK (points_earned >= 0),
    points_reversed   BIGINT NOT NULL CHECK (points_reversed >= 0),
    refunded_total    NUMERIC(14, 2) NOT NULL CHECK (refunded_total >= 0),
    shipping_refunded BOOLEAN NOT NULL,
    version           BIGINT NOT NULL,
    CHECK (refunded_total <= payable)
);
CREATE INDEX orders_user ON orders (user_id, id DESC);
CREATE INDEX orders_checkout ON orders (checkout_id);
CREATE INDEX orders_unpaid_due ON orders (pay_deadline) WHERE status = 'pending_payment';
CREATE INDEX orders_confirm_due ON orders (auto_confirm_at) WHERE status = 'shipped';

CREATE TABLE order_lines (
    order_id                BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    line_no                 INT NOT NULL,
    sku_id                  BIGINT NOT NULL REFERENCES skus (id),
    product_id              BIGINT NOT NULL,
    name                    TEXT NOT NULL,
    quantity                INT NOT NULL CHECK (quantity > 0),
    list_unit_price         NUMERIC(14, 2) NOT NULL CHECK (list_unit_price >= 0),
    unit_price              NUMERIC(14, 2) NOT NULL CHECK (unit_price >= 0),
    subtotal                NUMERIC(14, 2) NOT NULL CHECK (subtotal >= 0),
    coupon_discount         NUMERIC(14, 2) NOT NULL CHECK (coupon_discount >= 0),
    points_used             BIGINT NOT NULL CHECK (points_used >= 0),
    points_deduction        NUMERIC(14, 2) NOT NULL CHECK (points_deduction >= 0),
    payable                 NUMERIC(14, 2) NOT NULL CHECK (payable >= 0),
    after_sales_quantity    INT NOT NULL CHECK (after_sales_quantity BETWEEN 0 AND quantity),
    refund_claimed_quantity INT NOT NULL CHECK (refund_claimed_quantity BETWEEN 0 AND quantity),
    refunded_quantity       INT NOT NULL CHECK (refunded_quantity BETWEEN 0 AND quantity),
    refunded_amount         NUMERIC(14, 2) NOT NULL CHECK (refunded_amount BETWEEN 0 AND payable),
    points_returned         BIGINT NOT NULL CHECK (points_returned BETWEEN 0 AND points_used),
    PRIMARY KEY (order_id, line_no)
);

-- Append-only status history (seed 004 §6.4).
CREATE TABLE order_status_history (
    order_id  BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    seq       INT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor     JSONB NOT NULL, -- {type, id}: who did it
    remark    TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (order_id, seq)
);

CREATE TABLE payments (
    id              BIGINT PRIMARY KEY,
    number          TEXT NOT NULL UNIQUE,
    user_id         BIGINT NOT NULL,
    order_ids       BIGINT[] NOT NULL,
    amount          NUMERIC(14, 2) NOT NULL CHECK (amount >= 0),
    channel         TEXT NOT NULL CHECK (channel IN ('simulated', 'wechat', 'alipay')),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'refunding', 'refunded')),
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    provider_txn    TEXT UNIQUE, -- one confirmation per provider transaction
    paid_at         TIMESTAMPTZ,
    refunded_amount NUMERIC(14, 2) NOT NULL CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
    refunds         TEXT[] NOT NULL, -- refund numbers sent to the provider, each once
    version         BIGINT NOT NULL
);

CREATE TABLE after_sales (
    id                 BIGINT PRIMARY KEY,
    number             TEXT NOT NULL UNIQUE,
    order_id           BIGINT NOT NULL REFERENCES orders (id),
    user_id            BIGINT NOT NULL,
    merchant_id        BIGINT NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('refund_only', 'return_and_refund', 'exchange')),
    status             TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'rejected', 'awaiting_return', 'received', 'refunded', 'reshipped', 'cancelled')),
    lines              JSONB NOT NULL, -- the case's (line, quantity, amount) rows, fixed at apply
    reason             TEXT NOT NULL,
    goods_amount       NUMERIC(14, 2) NOT NULL CHECK (goods_amount >= 0),
    clawback           NUMERIC(14, 2) NOT NULL,
    clawback_by_coupon JSONB NOT NULL, -- one amount per coupon of the order, in its order
    refund_amount      NUMERIC(14, 2) NOT NULL CHECK (refund_amount >= 0),
    shipping_refund    NUMERIC(14, 2) NOT NULL CHECK (shipping_refund >= 0),
    points_returned    BIGINT NOT NULL,
    points_reversed    BIGINT NOT NULL,
    return_tracking_no TEXT,
    created_at         TIMESTAMPTZ NOT NULL,
    logs               JSONB NOT NULL, -- progress log (seed 000 §6.2), appended by each step
    version            BIGINT NOT NULL
);
CREATE INDEX after_sales_order ON after_sales (order_id);
