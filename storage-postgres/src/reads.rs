//! The read traits. Single-table reads go straight to the pool; an order,
//! payment or after-sales case is a head row plus child rows, read in one
//! `REPEATABLE READ READ ONLY` transaction so that they come from one
//! snapshot (as the memory store's reads come from under one lock), with
//! the children of every head fetched by one `= ANY($1)` query per table.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mallkit_core::after_sales::{AfterSale, AfterSaleFilter, AfterSaleLine, AfterSaleLog};
use mallkit_core::cart::Cart;
use mallkit_core::catalog::{Category, Merchant, Product, ProductFilter, ProductSummary, Sku};
use mallkit_core::coupon::{CouponTemplate, UserCoupon, UserCouponStatus};
use mallkit_core::ids::{
    AfterSaleId, CheckoutId, CouponTemplateId, MerchantId, OrderId, PaymentId, ProductId, SkuId, UserCouponId, UserId,
};
use mallkit_core::order::{CustomerStats, Order, OrderFilter, OrderLine, OrderStatus, Shipment, StatusChange};
use mallkit_core::page::{Page, PageRequest};
use mallkit_core::payment::Payment;
use mallkit_core::points::{LedgerEntry, PointsAccount, PointsSource, Tier};
use mallkit_core::storage::{
    AfterSalesStore, CartStore, CatalogStore, CouponStore, OrderStore, PaymentStore, PointsStore, StoreError,
};
use rust_decimal::Decimal;
use sqlx::postgres::PgRow;

use crate::PgStore;
use crate::codec::{
    account, actor_of, backend, cart_items, category, from_json, get, i64_of, id_of, ledger_entry, merchant, money,
    parse, product, sku, template, tier, u32_of, user_coupon,
};
use crate::writes::Tx;

type Map<T> = fn(&PgRow) -> Result<T, StoreError>;

impl PgStore {
    /// The row `sql` (one `$1` key) finds, mapped.
    async fn one<T>(&self, sql: &'static str, key: i64, map: Map<T>) -> Result<Option<T>, StoreError> {
        let row = sqlx::query(sql).bind(key).fetch_optional(self.pool()).await.map_err(backend)?;
        row.as_ref().map(map).transpose()
    }

    /// Every row `sql` finds (with `key` bound to `$1` when given), mapped.
    async fn all<T>(&self, sql: &'static str, key: Option<i64>, map: Map<T>) -> Result<Vec<T>, StoreError> {
        let mut query = sqlx::query(sql);
        if let Some(k) = key {
            query = query.bind(k);
        }
        let rows = query.fetch_all(self.pool()).await.map_err(backend)?;
        rows.iter().map(map).collect()
    }

    /// A read-only transaction on one snapshot.
    pub(crate) async fn snapshot(&self) -> Result<Tx, StoreError> {
        self.pool().begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await.map_err(backend)
    }
}

/// Rows of `sql` (heads, `$1` bound to `key`) in `tx`, mapped.
async fn heads<T, K>(tx: &mut Tx, sql: &'static str, key: K, map: Map<T>) -> Result<Vec<T>, StoreError>
where
    K: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + 'static,
{
    let rows = sqlx::query(sql).bind(key).fetch_all(&mut **tx).await.map_err(backend)?;
    rows.iter().map(map).collect()
}

/// Child rows of every parent in `ids` (`sql` takes `$1 BIGINT[]` and
/// returns `parent` first, in the child order), grouped by parent.
async fn children<T>(
    tx: &mut Tx,
    sql: &'static str,
    ids: &[i64],
    map: Map<T>,
) -> Result<HashMap<i64, Vec<T>>, StoreError> {
    let rows = sqlx::query(sql).bind(ids).fetch_all(&mut **tx).await.map_err(backend)?;
    let mut grouped: HashMap<i64, Vec<T>> = HashMap::with_capacity(ids.len());
    for row in &rows {
        grouped.entry(get(row, "parent")?).or_default().push(map(row)?);
    }
    Ok(grouped)
}

// ---- orders ----

pub(crate) fn order_head(r: &PgRow) -> Result<Order, StoreError> {
    let shipment = match (get::<Option<String>>(r, "carrier")?, get::<Option<String>>(r, "tracking_no")?) {
        (Some(carrier), Some(tracking_no)) => Some(Shipment { carrier, tracking_no, at: get(r, "shipped_at")? }),
        _ => None,
    };
    Ok(Order {
        id: OrderId(id_of(get(r, "id")?)),
        number: get(r, "number")?,
        checkout: CheckoutId(id_of(get(r, "checkout_id")?)),
        user: UserId(id_of(get(r, "user_id")?)),
        merchant: MerchantId(id_of(get(r, "merchant_id")?)),
        status: parse(get(r, "status")?)?,
        lines: Vec::new(),
        goods_subtotal: money(get(r, "goods_subtotal")?)?,
        coupon_discount: money(get(r, "coupon_discount")?)?,
        points_used: get(r, "points_used")?,
        points_deduction: money(get(r, "points_deduction")?)?,
        shipping_fee: money(get(r, "shipping_fee")?)?,
        payable: money(get(r, "payable")?)?,
        coupons: from_json(get(r, "coupons")?)?,
        remark: get(r, "remark")?,
        created_at: get(r, "created_at")?,
        pay_deadline: get(r, "pay_deadline")?,
        paid_at: get(r, "paid_at")?,
        payment: get::<Option<i64>>(r, "payment_id")?.map(|p| PaymentId(id_of(p))),
        shipment,
        auto_confirm_at: get(r, "auto_confirm_at")?,
        completed_at: get(r, "completed_at")?,
        ended_at: get(r, "ended_at")?,
        points_earned: get(r, "points_earned")?,
        points_reversed: get(r, "points_reversed")?,
        points_earned_on: money(get(r, "points_earned_on")?)?,
        refunded_total: money(get(r, "refunded_total")?)?,
        shipping_refunded: get(r, "shipping_refunded")?,
        shipping_address: get::<Option<serde_json::Value>>(r, "shipping_address")?.map(from_json).transpose()?,
        history: Vec::new(),
        version: id_of(get(r, "version")?),
    })
}

fn order_line(r: &PgRow) -> Result<OrderLine, StoreError> {
    Ok(OrderLine {
        line_no: u32_of(get(r, "line_no")?)?,
        sku: SkuId(id_of(get(r, "sku_id")?)),
        product: ProductId(id_of(get(r, "product_id")?)),
        name: get(r, "name")?,
        quantity: u32_of(get(r, "quantity")?)?,
        list_unit_price: money(get(r, "list_unit_price")?)?,
        unit_price: money(get(r, "unit_price")?)?,
        subtotal: money(get(r, "subtotal")?)?,
        coupon_discount: money(get(r, "coupon_discount")?)?,
        points_used: get(r, "points_used")?,
        points_deduction: money(get(r, "points_deduction")?)?,
        payable: money(get(r, "payable")?)?,
        after_sales_quantity: u32_of(get(r, "after_sales_quantity")?)?,
        refund_claimed_quantity: u32_of(get(r, "refund_claimed_quantity")?)?,
        refunded_quantity: u32_of(get(r, "refunded_quantity")?)?,
        refunded_amount: money(get(r, "refunded_amount")?)?,
        points_returned: get(r, "points_returned")?,
    })
}

fn status_change(r: &PgRow) -> Result<StatusChange, StoreError> {
    Ok(StatusChange {
        from: get::<Option<String>>(r, "from_status")?.map(parse).transpose()?,
        to: parse(get(r, "to_status")?)?,
        actor: actor_of(&get::<String>(r, "actor_type")?, get(r, "actor_id")?)?,
        remark: get(r, "remark")?,
        at: get(r, "at")?,
    })
}

impl PgStore {
    /// The orders `sql` selects (`$1` = `key`), in its order, with their
    /// lines and history, from one snapshot.
    async fn orders_where(&self, sql: &'static str, key: i64) -> Result<Vec<Order>, StoreError> {
        let mut tx = self.snapshot().await?;
        let mut orders = heads(&mut tx, sql, key, order_head).await?;
        order_children(&mut tx, &mut orders).await?;
        tx.commit().await.map_err(backend)?;
        Ok(orders)
    }
}

/// Reads the lines and history of every order of `orders` (heads) in `tx`.
pub(crate) async fn order_children(tx: &mut Tx, orders: &mut [Order]) -> Result<(), StoreError> {
    if orders.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = orders.iter().map(|o| i64_of(o.id.0)).collect();
    let mut lines = children(
        tx,
        "SELECT order_id AS parent, * FROM order_lines WHERE order_id = ANY($1) ORDER BY order_id, line_no",
        &ids,
        order_line,
    )
    .await?;
    let mut history = children(
        tx,
        "SELECT order_id AS parent, * FROM order_status_history WHERE order_id = ANY($1) ORDER BY order_id, seq",
        &ids,
        status_change,
    )
    .await?;
    for o in orders {
        let id = i64_of(o.id.0);
        o.lines = lines.remove(&id).unwrap_or_default();
        o.history = history.remove(&id).unwrap_or_default();
    }
    Ok(())
}

#[async_trait]
impl OrderStore for PgStore {
    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        Ok(self.orders_where("SELECT * FROM orders WHERE id = $1", i64_of(id.0)).await?.pop())
    }
    async fn orders_of_user(&self, user: UserId) -> Result<Vec<Order>, StoreError> {
        self.orders_where("SELECT * FROM orders WHERE user_id = $1 ORDER BY created_at DESC, id DESC", i64_of(user.0))
            .await
    }
    async fn orders_of_merchant(&self, merchant: MerchantId) -> Result<Vec<Order>, StoreError> {
        self.orders_where(
            "SELECT * FROM orders WHERE merchant_id = $1 ORDER BY created_at DESC, id DESC",
            i64_of(merchant.0),
        )
        .await
    }
    async fn orders_of_checkout(&self, checkout: CheckoutId) -> Result<Vec<Order>, StoreError> {
        self.orders_where("SELECT * FROM orders WHERE checkout_id = $1 ORDER BY id", i64_of(checkout.0)).await
    }
    async fn orders_due(&self, status: OrderStatus, now: DateTime<Utc>) -> Result<Vec<OrderId>, StoreError> {
        // The literal statuses match the partial indexes orders_unpaid_due / orders_confirm_due.
        let sql = match status {
            OrderStatus::PendingPayment => {
                "SELECT id FROM orders WHERE status = 'pending_payment' AND pay_deadline <= $1 ORDER BY id"
            }
            OrderStatus::Shipped => {
                "SELECT id FROM orders WHERE status = 'shipped' AND auto_confirm_at <= $1 ORDER BY id"
            }
            _ => return Ok(Vec::new()),
        };
        let ids: Vec<i64> = sqlx::query_scalar(sql).bind(now).fetch_all(self.pool()).await.map_err(backend)?;
        Ok(ids.into_iter().map(|id| OrderId(id_of(id))).collect())
    }
    async fn list_orders(&self, filter: &OrderFilter, page: PageRequest) -> Result<Page<Order>, StoreError> {
        self.orders_page(filter, page).await
    }
    async fn customer_stats(&self, users: &[UserId]) -> Result<Vec<CustomerStats>, StoreError> {
        self.stats_of(users).await
    }
}

// ---- payments ----

fn payment_head(r: &PgRow) -> Result<Payment, StoreError> {
    Ok(Payment {
        id: PaymentId(id_of(get(r, "id")?)),
        number: get(r, "number")?,
        user: UserId(id_of(get(r, "user_id")?)),
        orders: Vec::new(),
        amount: money(get(r, "amount")?)?,
        channel: parse(get(r, "channel")?)?,
        status: parse(get(r, "status")?)?,
        created_at: get(r, "created_at")?,
        expires_at: get(r, "expires_at")?,
        provider_txn: get(r, "provider_txn")?,
        paid_at: get(r, "paid_at")?,
        refunded_amount: money(get(r, "refunded_amount")?)?,
        refunds: Vec::new(),
        version: id_of(get(r, "version")?),
    })
}

fn payment_order(r: &PgRow) -> Result<OrderId, StoreError> {
    Ok(OrderId(id_of(get(r, "order_id")?)))
}

fn refund_no(r: &PgRow) -> Result<String, StoreError> {
    get(r, "refund_no")
}

impl PgStore {
    /// The payment `sql` selects (`$1` = `key`), with its orders and refund
    /// numbers, from one snapshot.
    async fn payment_where<K>(&self, sql: &'static str, key: K) -> Result<Option<Payment>, StoreError>
    where
        K: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + 'static,
    {
        let mut tx = self.snapshot().await?;
        let Some(mut p) = heads(&mut tx, sql, key, payment_head).await?.pop() else { return Ok(None) };
        let id = [i64_of(p.id.0)];
        let mut orders = children(
            &mut tx,
            "SELECT payment_id AS parent, order_id FROM payment_orders WHERE payment_id = ANY($1) ORDER BY pos",
            &id,
            payment_order,
        )
        .await?;
        let mut refunds = children(
            &mut tx,
            "SELECT payment_id AS parent, refund_no FROM payment_refunds WHERE payment_id = ANY($1) ORDER BY seq",
            &id,
            refund_no,
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        p.orders = orders.remove(&id[0]).unwrap_or_default();
        p.refunds = refunds.remove(&id[0]).unwrap_or_default();
        Ok(Some(p))
    }
}

#[async_trait]
impl PaymentStore for PgStore {
    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>, StoreError> {
        self.payment_where("SELECT * FROM payments WHERE id = $1", i64_of(id.0)).await
    }
    async fn payment_by_number(&self, number: &str) -> Result<Option<Payment>, StoreError> {
        self.payment_where("SELECT * FROM payments WHERE number = $1", number.to_owned()).await
    }
}

// ---- after-sales ----

pub(crate) fn after_sale_head(r: &PgRow) -> Result<AfterSale, StoreError> {
    Ok(AfterSale {
        id: AfterSaleId(id_of(get(r, "id")?)),
        number: get(r, "number")?,
        order: OrderId(id_of(get(r, "order_id")?)),
        user: UserId(id_of(get(r, "user_id")?)),
        merchant: MerchantId(id_of(get(r, "merchant_id")?)),
        kind: parse(get(r, "kind")?)?,
        status: parse(get(r, "status")?)?,
        lines: Vec::new(),
        reason: get(r, "reason")?,
        goods_amount: money(get(r, "goods_amount")?)?,
        clawback: money(get(r, "clawback")?)?,
        clawback_by_coupon: get::<Vec<Decimal>>(r, "clawback_by_coupon")?
            .into_iter()
            .map(money)
            .collect::<Result<_, _>>()?,
        refund_amount: money(get(r, "refund_amount")?)?,
        shipping_refund: money(get(r, "shipping_refund")?)?,
        points_returned: get(r, "points_returned")?,
        points_reversed: get(r, "points_reversed")?,
        return_tracking_no: get(r, "return_tracking_no")?,
        created_at: get(r, "created_at")?,
        logs: Vec::new(),
        version: id_of(get(r, "version")?),
    })
}

fn after_sale_line(r: &PgRow) -> Result<AfterSaleLine, StoreError> {
    Ok(AfterSaleLine {
        line_no: u32_of(get(r, "line_no")?)?,
        quantity: u32_of(get(r, "quantity")?)?,
        amount: money(get(r, "amount")?)?,
        refunded: money(get(r, "refunded")?)?,
    })
}

fn after_sale_log(r: &PgRow) -> Result<AfterSaleLog, StoreError> {
    Ok(AfterSaleLog {
        action: parse(get(r, "action")?)?,
        operator: actor_of(&get::<String>(r, "operator_type")?, get(r, "operator_id")?)?,
        status: parse(get(r, "status")?)?,
        at: get(r, "at")?,
        note: get(r, "note")?,
    })
}

impl PgStore {
    /// The cases `sql` selects (`$1` = `key`), in its order, with their
    /// lines and logs, from one snapshot.
    async fn after_sales_where(&self, sql: &'static str, key: i64) -> Result<Vec<AfterSale>, StoreError> {
        let mut tx = self.snapshot().await?;
        let mut cases = heads(&mut tx, sql, key, after_sale_head).await?;
        after_sale_children(&mut tx, &mut cases).await?;
        tx.commit().await.map_err(backend)?;
        Ok(cases)
    }
}

/// Reads the lines and logs of every case of `cases` (heads) in `tx`.
pub(crate) async fn after_sale_children(tx: &mut Tx, cases: &mut [AfterSale]) -> Result<(), StoreError> {
    if cases.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = cases.iter().map(|a| i64_of(a.id.0)).collect();
    let mut lines = children(
        tx,
        "SELECT after_sale_id AS parent, * FROM after_sale_lines WHERE after_sale_id = ANY($1)
         ORDER BY after_sale_id, pos",
        &ids,
        after_sale_line,
    )
    .await?;
    let mut logs = children(
        tx,
        "SELECT after_sale_id AS parent, * FROM after_sale_logs WHERE after_sale_id = ANY($1)
         ORDER BY after_sale_id, seq",
        &ids,
        after_sale_log,
    )
    .await?;
    for a in cases {
        let id = i64_of(a.id.0);
        a.lines = lines.remove(&id).unwrap_or_default();
        a.logs = logs.remove(&id).unwrap_or_default();
    }
    Ok(())
}

#[async_trait]
impl AfterSalesStore for PgStore {
    async fn after_sale(&self, id: AfterSaleId) -> Result<Option<AfterSale>, StoreError> {
        Ok(self.after_sales_where("SELECT * FROM after_sales WHERE id = $1", i64_of(id.0)).await?.pop())
    }
    async fn after_sales_of_order(&self, order: OrderId) -> Result<Vec<AfterSale>, StoreError> {
        self.after_sales_where("SELECT * FROM after_sales WHERE order_id = $1 ORDER BY id", i64_of(order.0)).await
    }
    async fn after_sales_of_merchant(&self, merchant: MerchantId) -> Result<Vec<AfterSale>, StoreError> {
        let sql = "SELECT * FROM after_sales WHERE merchant_id = $1 ORDER BY created_at DESC, id DESC";
        self.after_sales_where(sql, i64_of(merchant.0)).await
    }
    async fn list_after_sales(
        &self,
        filter: &AfterSaleFilter,
        page: PageRequest,
    ) -> Result<Page<AfterSale>, StoreError> {
        self.after_sales_page(filter, page).await
    }
}

// ---- single-table reads ----

#[async_trait]
impl CatalogStore for PgStore {
    async fn categories(&self) -> Result<Vec<Category>, StoreError> {
        self.all("SELECT * FROM categories ORDER BY id", None, category).await
    }
    async fn merchant(&self, id: MerchantId) -> Result<Option<Merchant>, StoreError> {
        self.one("SELECT id, name FROM merchants WHERE id = $1", i64_of(id.0), merchant).await
    }
    async fn products(&self) -> Result<Vec<Product>, StoreError> {
        self.all("SELECT * FROM products ORDER BY id", None, product).await
    }
    async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        self.one("SELECT * FROM products WHERE id = $1", i64_of(id.0), product).await
    }
    async fn sku(&self, id: SkuId) -> Result<Option<Sku>, StoreError> {
        self.one("SELECT * FROM skus WHERE id = $1", i64_of(id.0), sku).await
    }
    async fn skus_of(&self, product: ProductId) -> Result<Vec<Sku>, StoreError> {
        self.all("SELECT * FROM skus WHERE product_id = $1 ORDER BY id", Some(i64_of(product.0)), sku).await
    }
    async fn skus(&self) -> Result<Vec<Sku>, StoreError> {
        self.all("SELECT * FROM skus ORDER BY id", None, sku).await
    }
    async fn search_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Page<ProductSummary>, StoreError> {
        self.search_page(filter, page).await
    }
}

#[async_trait]
impl CouponStore for PgStore {
    async fn template(&self, id: CouponTemplateId) -> Result<Option<CouponTemplate>, StoreError> {
        self.one("SELECT * FROM coupon_templates WHERE id = $1", i64_of(id.0), template).await
    }
    async fn templates(&self) -> Result<Vec<CouponTemplate>, StoreError> {
        self.all("SELECT * FROM coupon_templates ORDER BY id", None, template).await
    }
    async fn user_coupon(&self, id: UserCouponId) -> Result<Option<UserCoupon>, StoreError> {
        self.one("SELECT * FROM user_coupons WHERE id = $1", i64_of(id.0), user_coupon).await
    }
    async fn user_coupons(&self, user: UserId) -> Result<Vec<UserCoupon>, StoreError> {
        self.all("SELECT * FROM user_coupons WHERE user_id = $1 ORDER BY id", Some(i64_of(user.0)), user_coupon).await
    }
    async fn coupons_of_template(&self, template: CouponTemplateId) -> Result<Vec<UserCoupon>, StoreError> {
        let sql = "SELECT * FROM user_coupons WHERE template_id = $1 ORDER BY id";
        self.all(sql, Some(i64_of(template.0)), user_coupon).await
    }
    async fn list_templates(&self, page: PageRequest) -> Result<Page<CouponTemplate>, StoreError> {
        self.templates_page(page).await
    }
    async fn template_claims(
        &self,
        template: CouponTemplateId,
        page: PageRequest,
    ) -> Result<Page<UserCoupon>, StoreError> {
        self.claims_page(template, page).await
    }
    async fn held_coupons(
        &self,
        user: UserId,
        status: Option<UserCouponStatus>,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Page<UserCoupon>, StoreError> {
        self.held_page(user, status, now, page).await
    }
}

#[async_trait]
impl PointsStore for PgStore {
    async fn points_account(&self, user: UserId) -> Result<PointsAccount, StoreError> {
        let found = self.one("SELECT * FROM points_accounts WHERE user_id = $1", i64_of(user.0), account).await?;
        Ok(found.unwrap_or(PointsAccount { user, ..Default::default() }))
    }
    async fn ledger(&self, user: UserId) -> Result<Vec<LedgerEntry>, StoreError> {
        // seq is the write order; one user's rows are written under the
        // account's row lock, so it is also their commit order.
        self.all("SELECT * FROM points_ledger WHERE user_id = $1 ORDER BY seq", Some(i64_of(user.0)), ledger_entry)
            .await
    }
    async fn tiers(&self) -> Result<Vec<Tier>, StoreError> {
        self.all("SELECT * FROM tiers ORDER BY level", None, tier).await
    }
    async fn ledger_page(
        &self,
        user: UserId,
        source: Option<PointsSource>,
        page: PageRequest,
    ) -> Result<Page<LedgerEntry>, StoreError> {
        self.ledger_rows_page(user, source, page).await
    }
}

#[async_trait]
impl CartStore for PgStore {
    async fn cart(&self, user: UserId) -> Result<Cart, StoreError> {
        let items = self.one("SELECT items FROM carts WHERE user_id = $1", i64_of(user.0), cart_items).await?;
        Ok(Cart { user, items: items.unwrap_or_default() })
    }
}
