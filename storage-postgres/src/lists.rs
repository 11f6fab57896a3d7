//! The paged reads other than product search: coupon templates and their
//! claims, a user's coupons and points ledger, orders, after-sales cases,
//! and the customer figures aggregate. Each page is read on one snapshot
//! (page, capped count, children) with [`page_rows`]; each list's index
//! (migrations 0001–0011) serves its conditions and its `ORDER BY`:
//!
//! | list | order | index |
//! |---|---|---|
//! | templates | id | primary key |
//! | a template's claims | id | `user_coupons_template` (template, id) |
//! | a user's coupons | claimed_at desc, id desc | `user_coupons_user` (user, claimed_at desc, id desc) |
//! | a user's ledger | seq desc (newest write first) | `points_ledger_user` (user, seq), backwards |
//! | orders | created_at desc, id desc | `orders_user`, `orders_merchant`, `orders_merchant_status`, `orders_status_recent`, `orders_recent` |
//! | cases | created_at desc, id desc | `after_sales_order`, `after_sales_user`, `after_sales_merchant_recent`, `after_sales_merchant_status`, `after_sales_recent` |

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use mallkit_core::after_sales::{AfterSale, AfterSaleFilter};
use mallkit_core::coupon::{CouponTemplate, UserCoupon, UserCouponStatus};
use mallkit_core::ids::{CouponTemplateId, UserId};
use mallkit_core::money::Money;
use mallkit_core::order::{CustomerStats, Order, OrderFilter};
use mallkit_core::page::{Page, PageRequest};
use mallkit_core::points::{LedgerEntry, PointsSource};
use mallkit_core::storage::StoreError;
use rust_decimal::Decimal;
use sqlx::postgres::PgRow;

use crate::PgStore;
use crate::codec::{backend, i64_of, id_of, ledger_entry, money, name, template, user_coupon};
use crate::paging::{Arg, List, Where, page_rows};
use crate::reads::{after_sale_children, after_sale_head, order_children, order_head};

type Map<T> = fn(&PgRow) -> Result<T, StoreError>;

impl PgStore {
    /// One page of `list`, its rows mapped, on one snapshot.
    async fn simple_page<T>(&self, list: List<'_>, page: PageRequest, map: Map<T>) -> Result<Page<T>, StoreError> {
        let mut tx = self.snapshot().await?;
        let (rows, counted) = page_rows(&mut tx, &list, page, None).await?;
        tx.commit().await.map_err(backend)?;
        let items = rows.iter().map(map).collect::<Result<Vec<_>, _>>()?;
        Ok(page.page_of(items, counted))
    }

    /// `CouponStore::list_templates`: every template, by id.
    pub(crate) async fn templates_page(&self, page: PageRequest) -> Result<Page<CouponTemplate>, StoreError> {
        let none = Where::new();
        self.simple_page(
            List { columns: "*", from: "coupon_templates", filter: &none, order: "id", by_id: false },
            page,
            template,
        )
        .await
    }

    /// `CouponStore::template_claims`: a template's coupons, by id.
    pub(crate) async fn claims_page(
        &self,
        template: CouponTemplateId,
        page: PageRequest,
    ) -> Result<Page<UserCoupon>, StoreError> {
        let mut w = Where::new();
        w.and("template_id = $?", [Arg::I64(i64_of(template.0))]);
        self.simple_page(
            List { columns: "*", from: "user_coupons", filter: &w, order: "id", by_id: false },
            page,
            user_coupon,
        )
        .await
    }

    /// `CouponStore::held_coupons`: a user's coupons, newest claim first,
    /// with their status as of `now` (a stored `unused` coupon whose
    /// `valid_to` is before `now` reads, and filters as, `expired`).
    pub(crate) async fn held_page(
        &self,
        user: UserId,
        status: Option<UserCouponStatus>,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Page<UserCoupon>, StoreError> {
        let mut w = Where::new();
        w.and("user_id = $?", [Arg::I64(i64_of(user.0))]);
        match status {
            None => {}
            Some(UserCouponStatus::Expired) => {
                w.and("(status = 'expired' OR (status = 'unused' AND valid_to < $?))", [Arg::Time(now)]);
            }
            Some(UserCouponStatus::Unused) => {
                w.and("status = 'unused' AND valid_to >= $?", [Arg::Time(now)]);
            }
            Some(other) => {
                w.and("status = $?", [Arg::Text(name(&other)?)]);
            }
        }
        let list =
            List { columns: "*", from: "user_coupons", filter: &w, order: "claimed_at DESC, id DESC", by_id: false };
        let mut held = self.simple_page(list, page, user_coupon).await?;
        for c in &mut held.items {
            c.status = c.status_at(now);
        }
        Ok(held)
    }

    /// `PointsStore::ledger_page`: a user's ledger newest first (reverse
    /// write order), only rows of `source` when given.
    pub(crate) async fn ledger_rows_page(
        &self,
        user: UserId,
        source: Option<PointsSource>,
        page: PageRequest,
    ) -> Result<Page<LedgerEntry>, StoreError> {
        let mut w = Where::new();
        w.and("user_id = $?", [Arg::I64(i64_of(user.0))]);
        if let Some(s) = source {
            w.and("source = $?", [Arg::Text(name(&s)?)]);
        }
        self.simple_page(
            List { columns: "*", from: "points_ledger", filter: &w, order: "seq DESC", by_id: false },
            page,
            ledger_entry,
        )
        .await
    }

    /// `OrderStore::list_orders`: the orders `filter` admits (none set:
    /// every order), newest first by creation time, then id, each with its
    /// lines and history from the same snapshot.
    pub(crate) async fn orders_page(&self, filter: &OrderFilter, page: PageRequest) -> Result<Page<Order>, StoreError> {
        let mut w = Where::new();
        if let Some(u) = filter.user {
            w.and("user_id = $?", [Arg::I64(i64_of(u.0))]);
        }
        if let Some(m) = filter.merchant {
            w.and("merchant_id = $?", [Arg::I64(i64_of(m.0))]);
        }
        if let Some(s) = filter.status {
            w.and("status = $?", [Arg::Text(name(&s)?)]);
        }
        let list = List { columns: "*", from: "orders", filter: &w, order: "created_at DESC, id DESC", by_id: true };
        let mut tx = self.snapshot().await?;
        let (rows, counted) = page_rows(&mut tx, &list, page, None).await?;
        let mut orders = rows.iter().map(order_head).collect::<Result<Vec<_>, _>>()?;
        // The extra row page_of drops needs no children.
        let children_of = orders.len().min(page.page_size() as usize);
        order_children(&mut tx, &mut orders[..children_of]).await?;
        tx.commit().await.map_err(backend)?;
        Ok(page.page_of(orders, counted))
    }

    /// `OrderStore::customer_stats`: one `GROUP BY` over the orders of
    /// `users`; `spent` sums `payable - refunded_total` over paid orders
    /// ([`Order::net_paid`]). One figure per user asked, in order.
    pub(crate) async fn stats_of(&self, users: &[UserId]) -> Result<Vec<CustomerStats>, StoreError> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = users.iter().map(|u| i64_of(u.0)).collect();
        let rows: Vec<(i64, i64, Decimal, Option<DateTime<Utc>>)> = sqlx::query_as(
            "SELECT user_id, count(*),
                 COALESCE(sum(payable - refunded_total) FILTER (WHERE paid_at IS NOT NULL), 0),
                 max(created_at)
             FROM orders WHERE user_id = ANY($1) GROUP BY user_id",
        )
        .bind(&ids)
        .fetch_all(self.pool())
        .await
        .map_err(backend)?;
        let mut found: HashMap<i64, CustomerStats> = HashMap::with_capacity(rows.len());
        for (user, orders, spent, last) in rows {
            let stats = CustomerStats {
                user: UserId(id_of(user)),
                orders: u32::try_from(orders).unwrap_or(u32::MAX),
                spent: money(spent)?,
                last_order_at: last,
            };
            found.insert(user, stats);
        }
        Ok(users
            .iter()
            .map(|&u| {
                found.get(&i64_of(u.0)).copied().unwrap_or(CustomerStats {
                    user: u,
                    orders: 0,
                    spent: Money::ZERO,
                    last_order_at: None,
                })
            })
            .collect())
    }

    /// `AfterSalesStore::list_after_sales`: the cases `filter` admits (none
    /// set: every case), newest first by creation time, then id, each with
    /// its lines and logs from the same snapshot.
    pub(crate) async fn after_sales_page(
        &self,
        filter: &AfterSaleFilter,
        page: PageRequest,
    ) -> Result<Page<AfterSale>, StoreError> {
        let mut w = Where::new();
        if let Some(o) = filter.order {
            w.and("order_id = $?", [Arg::I64(i64_of(o.0))]);
        }
        if let Some(u) = filter.user {
            w.and("user_id = $?", [Arg::I64(i64_of(u.0))]);
        }
        if let Some(m) = filter.merchant {
            w.and("merchant_id = $?", [Arg::I64(i64_of(m.0))]);
        }
        if let Some(s) = filter.status {
            w.and("status = $?", [Arg::Text(name(&s)?)]);
        }
        let list =
            List { columns: "*", from: "after_sales", filter: &w, order: "created_at DESC, id DESC", by_id: true };
        let mut tx = self.snapshot().await?;
        let (rows, counted) = page_rows(&mut tx, &list, page, None).await?;
        let mut cases = rows.iter().map(after_sale_head).collect::<Result<Vec<_>, _>>()?;
        let children_of = cases.len().min(page.page_size() as usize);
        after_sale_children(&mut tx, &mut cases[..children_of]).await?;
        tx.commit().await.map_err(backend)?;
        Ok(page.page_of(cases, counted))
    }
}
