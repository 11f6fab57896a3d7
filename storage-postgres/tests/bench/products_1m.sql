-- A scratch catalogue of 1,000,000 products (3 SKUs each) for measuring
-- product search (EXPLAIN ANALYZE, tests/pg_search_bench.rs). Run on a
-- database migrated by PgStore::migrate (or with migrations/*.sql applied):
--   psql -v ON_ERROR_STOP=1 -d mallkit_lists_bench -f storage-postgres/tests/bench/products_1m.sql
-- Names: 10 brands x 8 kinds x a model number, some with " Pro"/" Max";
-- 10 root categories with 5 leaves each (products in the leaves, 20,000
-- per leaf); 1,000 merchants; 90% on sale. The search columns are filled
-- in SQL here: these names have no letters whose lower case differs
-- between PostgreSQL's lower() and Rust's to_lowercase.

SET client_min_messages = warning;
TRUNCATE skus, products, categories, merchants CASCADE;

INSERT INTO merchants (id, name) SELECT g, '商家' || g FROM generate_series(1, 1000) g;
INSERT INTO categories (id, parent_id, name, sort) SELECT r, NULL, '类目' || r, r FROM generate_series(1, 10) r;
INSERT INTO categories (id, parent_id, name, sort)
SELECT 100 + r * 10 + l, r, '类目' || r || '-' || l, l FROM generate_series(1, 10) r, generate_series(1, 5) l;

-- The indexes are built after the load (faster); dropped here, re-created below as in 0011
-- (keep the two in step).
DROP INDEX IF EXISTS products_on_sale_newest, products_on_sale_price_asc, products_on_sale_price_desc,
    products_on_sale_sales, products_search_tokens, products_category, products_merchant, products_search_unfilled,
    skus_product;

CREATE TEMP TABLE vocab_brand (i INT, w TEXT);
INSERT INTO vocab_brand VALUES (0,'小米'),(1,'华为'),(2,'苹果'),(3,'三星'),(4,'OPPO'),(5,'vivo'),(6,'联想'),(7,'荣耀'),(8,'一加'),(9,'魅族');
CREATE TEMP TABLE vocab_kind (i INT, w TEXT);
INSERT INTO vocab_kind VALUES (0,'手机'),(1,'耳机'),(2,'手表'),(3,'电脑'),(4,'平板'),(5,'充电器'),(6,'音箱'),(7,'手环');

-- h(g, salt): an independent pseudo-random 0..2^31 per feature, so brand,
-- kind, category, merchant and status do not follow each other.
CREATE FUNCTION pg_temp.h(g BIGINT, salt BIGINT) RETURNS BIGINT LANGUAGE SQL IMMUTABLE
    AS 'SELECT (hashint8(g * 1000 + salt) & 2147483647)::BIGINT';

INSERT INTO products (id, merchant_id, category_id, name, status, min_price, max_price, sales, search_text, search_tokens)
SELECT g, 1 + pg_temp.h(g, 1) % 1000, 100 + (1 + pg_temp.h(g, 2) % 10) * 10 + 1 + pg_temp.h(g, 3) % 5,
       n.name,
       CASE WHEN pg_temp.h(g, 4) % 10 = 0 THEN 'off_sale' ELSE 'on_sale' END,
       0, 0, 0, lower(n.name), '{}'
FROM generate_series(1::BIGINT, 1000000) g
CROSS JOIN LATERAL (
    SELECT b.w || k.w || ' ' || (pg_temp.h(g, 5) % 100)::TEXT
           || CASE pg_temp.h(g, 6) % 5 WHEN 0 THEN ' Pro' WHEN 1 THEN ' Max' ELSE '' END AS name
    FROM vocab_brand b, vocab_kind k WHERE b.i = pg_temp.h(g, 7) % 10 AND k.i = pg_temp.h(g, 8) % 8
) n;

INSERT INTO skus (id, product_id, attributes, price, original_price, weight_grams, available, reserved, sold)
SELECT p * 3 + k, p, '{}', (pg_temp.h(p, 10 + k) % 900000) / 100.0 + 1, NULL, NULL, pg_temp.h(p, 20 + k) % 500, 0,
       pg_temp.h(p, 30 + k) % 1000
FROM generate_series(1::BIGINT, 1000000) p, generate_series(0::BIGINT, 2) k;

UPDATE products p SET min_price = s.lo, max_price = s.hi, sales = s.sold
FROM (SELECT product_id, min(price) lo, max(price) hi, sum(sold) sold FROM skus GROUP BY product_id) s
WHERE s.product_id = p.id;

-- Every character and adjacent pair, sorted by code point, without repeats (core's search_tokens).
UPDATE products SET search_tokens = ARRAY(
    SELECT DISTINCT t COLLATE "C" FROM (
        SELECT substr(search_text, i, 1) AS t FROM generate_series(1, length(search_text)) i
        UNION ALL
        SELECT substr(search_text, i, 2) FROM generate_series(1, length(search_text) - 1) i
    ) x ORDER BY 1);

-- The UPDATEs above left dead versions: compact as a one-pass load would have written them.
VACUUM FULL products;
VACUUM FULL skus;
CREATE INDEX skus_product ON skus (product_id, id);
CREATE INDEX products_search_unfilled ON products (id) WHERE search_text = '';
CREATE INDEX products_on_sale_newest ON products (id DESC)
    INCLUDE (category_id, merchant_id, min_price) WHERE status = 'on_sale';
CREATE INDEX products_on_sale_price_asc ON products (min_price, id DESC)
    INCLUDE (category_id, merchant_id) WHERE status = 'on_sale';
CREATE INDEX products_on_sale_price_desc ON products (min_price DESC, id DESC)
    INCLUDE (category_id, merchant_id) WHERE status = 'on_sale';
CREATE INDEX products_on_sale_sales ON products (sales DESC, id DESC)
    INCLUDE (category_id, merchant_id, min_price) WHERE status = 'on_sale';
CREATE INDEX products_search_tokens ON products USING GIN (search_tokens);
CREATE INDEX products_category ON products (category_id, id DESC) INCLUDE (status, min_price);
CREATE INDEX products_merchant ON products (merchant_id, id DESC) INCLUDE (status, min_price);
VACUUM ANALYZE products;
VACUUM ANALYZE skus;
