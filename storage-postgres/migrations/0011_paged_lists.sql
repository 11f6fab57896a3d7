-- 0011: every list is paged in the store (DESIGN §11), each served by an
-- index that also covers its ORDER BY (ties always by id, descending).
--
-- Product search reads columns the write path keeps in step with the SKUs
-- in the same transaction (storage-postgres/src/writes.rs):
--   min_price / max_price  lowest / highest SKU price, yuan; 0 without SKUs
--   sales                  sum of the product's SKUs' `sold`
--   search_text            core's catalog::search::search_text(name)
--   search_tokens          core's catalog::search::search_tokens(name)
--
-- Backfill: prices and sales are exact in SQL and filled here. The search
-- columns are NOT computed in SQL: lower() follows the database's ctype,
-- which is not Rust's str::to_lowercase for all of Unicode, and the tokens
-- must be exactly core's. Rows left with search_text = '' are filled by
-- PgStore::migrate right after the migrations run (a Rust step, in batches,
-- found through products_search_unfilled, which is empty once filled).

ALTER TABLE products
    ADD COLUMN min_price NUMERIC(14, 2) NOT NULL DEFAULT 0,
    ADD COLUMN max_price NUMERIC(14, 2) NOT NULL DEFAULT 0,
    ADD COLUMN sales BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN search_text TEXT NOT NULL DEFAULT '',
    ADD COLUMN search_tokens TEXT[] NOT NULL DEFAULT '{}';

UPDATE products p
SET min_price = s.lo, max_price = s.hi, sales = s.sold
FROM (SELECT product_id, min(price) AS lo, max(price) AS hi, sum(sold) AS sold FROM skus GROUP BY product_id) s
WHERE s.product_id = p.id;

CREATE INDEX products_search_unfilled ON products (id) WHERE search_text = '';

-- ---- products: the storefront's on-sale lists, one index per sort ----
-- The INCLUDEd columns let the usual filters (category, merchant, lowest
-- price) be checked in the index: a page's ids and the capped count come
-- from index-only scans, and only the page's rows are read.

CREATE INDEX products_on_sale_newest ON products (id DESC)
    INCLUDE (category_id, merchant_id, min_price) WHERE status = 'on_sale';
CREATE INDEX products_on_sale_price_asc ON products (min_price, id DESC)
    INCLUDE (category_id, merchant_id) WHERE status = 'on_sale';
CREATE INDEX products_on_sale_price_desc ON products (min_price DESC, id DESC)
    INCLUDE (category_id, merchant_id) WHERE status = 'on_sale';
CREATE INDEX products_on_sale_sales ON products (sales DESC, id DESC)
    INCLUDE (category_id, merchant_id, min_price) WHERE status = 'on_sale';
-- Keywords: every character and adjacent pair of the lower-cased name.
CREATE INDEX products_search_tokens ON products USING GIN (search_tokens);
-- A category (or subtree) and a merchant's shop or back office, newest
-- first, in any status.
DROP INDEX products_category;
CREATE INDEX products_category ON products (category_id, id DESC) INCLUDE (status, min_price);
DROP INDEX products_merchant;
CREATE INDEX products_merchant ON products (merchant_id, id DESC) INCLUDE (status, min_price);

-- ---- orders: newest first by creation time, then id ----

DROP INDEX orders_user;
CREATE INDEX orders_user ON orders (user_id, created_at DESC, id DESC);
DROP INDEX orders_merchant;
CREATE INDEX orders_merchant ON orders (merchant_id, created_at DESC, id DESC);
CREATE INDEX orders_merchant_status ON orders (merchant_id, status, created_at DESC, id DESC);
CREATE INDEX orders_recent ON orders (created_at DESC, id DESC);
CREATE INDEX orders_status_recent ON orders (status, created_at DESC, id DESC);

-- ---- after-sales cases: newest first by creation time, then id ----

DROP INDEX after_sales_user;
CREATE INDEX after_sales_user ON after_sales (user_id, created_at DESC, id DESC);
DROP INDEX after_sales_merchant_recent;
CREATE INDEX after_sales_merchant_recent ON after_sales (merchant_id, created_at DESC, id DESC);
DROP INDEX after_sales_merchant_status;
CREATE INDEX after_sales_merchant_status ON after_sales (merchant_id, status, created_at DESC, id DESC);
CREATE INDEX after_sales_recent ON after_sales (created_at DESC, id DESC);
-- after_sales_order (order_id, id) from 0002 serves one order's few cases.

-- ---- coupons held, newest claim first; users by role, newest first ----

DROP INDEX user_coupons_user;
CREATE INDEX user_coupons_user ON user_coupons (user_id, claimed_at DESC, id DESC);
-- user_coupons_template (template_id, id) from 0003 serves a template's claims;
-- points_ledger_user (user_id, seq) from 0001 serves a ledger newest first.
CREATE INDEX users_role ON users (role, id DESC);
