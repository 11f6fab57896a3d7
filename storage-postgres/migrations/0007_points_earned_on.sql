-- The goods amount an order's points were earned on (paid less refunded at
-- completion): later refunds take earned points back against it, so a
-- refund made before completion is not counted twice. Orders completed
-- before this column existed read 0, and core then measures on the payable.
ALTER TABLE orders ADD COLUMN points_earned_on NUMERIC(14, 2) NOT NULL DEFAULT 0 CHECK (points_earned_on >= 0);
