-- The shipping address an order keeps: a snapshot of the buyer's address
-- taken at checkout (receiver, phone, province, city, district, detail,
-- postal code), read and written whole.
ALTER TABLE orders ADD COLUMN shipping_address JSONB;
