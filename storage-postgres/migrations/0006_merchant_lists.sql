-- The back office lists a merchant's after-sales cases newest first
-- (orders_merchant from 0002 already serves the order list).
CREATE INDEX after_sales_merchant_recent ON after_sales (merchant_id, id DESC);
