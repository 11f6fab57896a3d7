//! Paged list queries: a `WHERE` built from fixed, audited fragments with
//! every value bound, one `ORDER BY` per list, `LIMIT page.fetch() OFFSET
//! page.offset()`, and the capped count
//! `SELECT count(*) FROM (SELECT 1 … LIMIT COUNT_CAP + 1) t`, skipped when
//! the page itself proves the total.
//!
//! The SQL text of a list is only ever made of `&'static str` fragments
//! written in this crate and `$n` placeholders numbered here (and the
//! constant [`COUNT_CAP`]); that is what the `AssertSqlSafe` below asserts.
//! The statements run unprepared (`persistent(false)`), so PostgreSQL plans
//! each with its values: a common search token and a rare one, or a
//! merchant with a million orders and one with three, want different plans,
//! which a cached generic plan would not give.

use chrono::{DateTime, Utc};
use mallkit_core::page::{COUNT_CAP, PageRequest};
use mallkit_core::storage::StoreError;
use rust_decimal::Decimal;
use sqlx::Row;
use sqlx::postgres::{PgArguments, PgRow, Postgres};
use sqlx::query::Query;

use crate::codec::backend;
use crate::writes::Tx;

/// A bound value.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    /// `BIGINT` (ids, as stored).
    I64(i64),
    /// `BIGINT[]`.
    I64s(Vec<i64>),
    /// `TEXT` (enum names, keywords).
    Text(String),
    /// `TEXT[]` (search tokens).
    Texts(Vec<String>),
    /// `NUMERIC` (yuan).
    Dec(Decimal),
    /// `TIMESTAMPTZ`.
    Time(DateTime<Utc>),
}

/// Binds `arg` as the next parameter of `query`.
pub(crate) fn bind(query: Query<'_, Postgres, PgArguments>, arg: Arg) -> Query<'_, Postgres, PgArguments> {
    match arg {
        Arg::I64(v) => query.bind(v),
        Arg::I64s(v) => query.bind(v),
        Arg::Text(v) => query.bind(v),
        Arg::Texts(v) => query.bind(v),
        Arg::Dec(v) => query.bind(v),
        Arg::Time(v) => query.bind(v),
    }
}

/// The conditions of a list: fixed fragments joined by `AND`, each `$?` in
/// them taking the next bound value.
#[derive(Debug, Default)]
pub(crate) struct Where {
    sql: String,
    args: Vec<Arg>,
    /// Placeholders written so far that found no value (a bug in a fragment).
    unbound: usize,
}

impl Where {
    /// No condition yet.
    pub(crate) fn new() -> Where {
        Where::default()
    }

    /// Adds `fragment` (a fixed condition of this crate), its `$?`
    /// placeholders bound to `args` in order.
    pub(crate) fn and(&mut self, fragment: &'static str, args: impl IntoIterator<Item = Arg>) -> &mut Where {
        self.sql.push_str(if self.sql.is_empty() { " WHERE " } else { " AND " });
        let mut args = args.into_iter();
        let mut parts = fragment.split("$?");
        if let Some(first) = parts.next() {
            self.sql.push_str(first);
        }
        for part in parts {
            match args.next() {
                Some(arg) => {
                    self.args.push(arg);
                    self.sql.push_str(&format!("${}", self.args.len()));
                }
                None => self.unbound += 1,
            }
            self.sql.push_str(part);
        }
        self
    }

    /// The clause (empty, or ` WHERE …`) and its values; an error when a
    /// fragment had more placeholders than values.
    pub(crate) fn parts(&self) -> Result<(&str, &[Arg]), StoreError> {
        if self.unbound > 0 {
            return Err(backend(format!("list query: {} placeholders without a value", self.unbound)));
        }
        Ok((&self.sql, &self.args))
    }
}

/// One list: `SELECT {columns} FROM {from}` with `filter`, in `order`.
pub(crate) struct List<'w> {
    /// Columns selected, a fixed fragment (`*`, or a list of names).
    pub columns: &'static str,
    /// The table, a fixed fragment.
    pub from: &'static str,
    /// The conditions.
    pub filter: &'w Where,
    /// The `ORDER BY` terms, a fixed fragment ending in the id tiebreak.
    pub order: &'static str,
    /// Find the page's ids first (`WHERE id IN (SELECT id … ORDER BY …
    /// LIMIT … OFFSET …)`), then read only those rows: a deep page then
    /// skips index entries, not rows, when the index covers the
    /// conditions and the order (an index-only scan).
    pub by_id: bool,
}

/// `sql` (made of this crate's fixed fragments and numbered placeholders
/// only) with `args` bound in order, planned with their values.
pub(crate) fn query_of(sql: String, args: &[Arg]) -> Query<'static, Postgres, PgArguments> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
    for arg in args.iter().cloned() {
        query = bind(query, arg);
    }
    query
}

/// The page's `LIMIT` and `OFFSET` as bound values.
pub(crate) fn limit_offset(page: PageRequest) -> Result<(Arg, Arg), StoreError> {
    Ok((
        Arg::I64(i64::try_from(page.fetch()).map_err(backend)?),
        Arg::I64(i64::try_from(page.offset()).map_err(backend)?),
    ))
}

/// The rows of `page` of `list` in `tx` and the matching rows counted (up
/// to [`COUNT_CAP`] + 1; 0 when the page proves the total on its own), for
/// [`PageRequest::page_of`]. `known` is a count the caller already has
/// (then none is run).
pub(crate) async fn page_rows(
    tx: &mut Tx,
    list: &List<'_>,
    page: PageRequest,
    known: Option<u64>,
) -> Result<(Vec<PgRow>, u64), StoreError> {
    let (clause, args) = list.filter.parts()?;
    let n = args.len();
    let (columns, from, order) = (list.columns, list.from, list.order);
    let (limit, offset) = (n + 1, n + 2);
    let sql = if list.by_id {
        format!(
            "SELECT {columns} FROM {from} WHERE id IN (
                 SELECT id FROM {from}{clause} ORDER BY {order} LIMIT ${limit} OFFSET ${offset})
             ORDER BY {order}"
        )
    } else {
        format!("SELECT {columns} FROM {from}{clause} ORDER BY {order} LIMIT ${limit} OFFSET ${offset}")
    };
    let (l, o) = limit_offset(page)?;
    let rows = query_of(sql, args).bind_arg(l).bind_arg(o).fetch_all(&mut **tx).await.map_err(backend)?;
    if let Some(counted) = known {
        return Ok((rows, counted));
    }
    if proves_total(page, rows.len()) {
        return Ok((rows, 0));
    }
    Ok((rows, count(tx, list.from, list.filter).await?))
}

/// Whether `fetched` rows of `page` prove the total on their own: the page
/// ends the list (and is not past its end), or the rows it reached pass the
/// cap. A page past the end proves nothing (the list may be a row long or
/// longer than the cap).
pub(crate) fn proves_total(page: PageRequest, fetched: usize) -> bool {
    let fetched = fetched as u64;
    match fetched {
        0 => page.offset() == 0,
        n => n < page.fetch() || page.offset() + n > COUNT_CAP,
    }
}

/// The rows `filter` admits in `from`, counted up to [`COUNT_CAP`] + 1. The
/// inner `SELECT` has no columns, so an index-only scan (or a bitmap scan
/// of all-visible pages) counts without reading rows.
pub(crate) async fn count(tx: &mut Tx, from: &'static str, filter: &Where) -> Result<u64, StoreError> {
    let (clause, args) = filter.parts()?;
    let sql = format!("SELECT count(*) FROM (SELECT FROM {from}{clause} LIMIT {}) t", COUNT_CAP + 1);
    let counted: i64 = query_of(sql, args).fetch_one(&mut **tx).await.map_err(backend)?.try_get(0).map_err(backend)?;
    u64::try_from(counted).map_err(backend)
}

/// [`bind`] as a method.
pub(crate) trait BindArg<'q> {
    /// Binds `arg` as the next parameter.
    fn bind_arg(self, arg: Arg) -> Query<'q, Postgres, PgArguments>;
}

impl<'q> BindArg<'q> for Query<'q, Postgres, PgArguments> {
    fn bind_arg(self, arg: Arg) -> Query<'q, Postgres, PgArguments> {
        bind(self, arg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut w = Where::new();
        w.and("status = 'on_sale'", []);
        w.and("merchant_id = $?", [Arg::I64(7)]);
        w.and("(a = $? OR b < $?)", [Arg::Text("x".into()), Arg::I64(1)]);
        let (sql, args) = w.parts().expect("bound");
        assert_eq!(sql, " WHERE status = 'on_sale' AND merchant_id = $1 AND (a = $2 OR b < $3)");
        assert_eq!(args.len(), 3);
        let mut bad = Where::new();
        bad.and("a = $?", []);
        assert!(bad.parts().is_err());
        assert_eq!(Where::new().parts().expect("empty").0, "");
    }

    #[test]
    fn a_page_proves_its_total_only_when_it_shows_it() {
        let page = |n, size| PageRequest::new(Some(n), Some(size)).expect("page");
        assert!(proves_total(page(1, 20), 0));
        assert!(proves_total(page(1, 20), 20));
        assert!(!proves_total(page(1, 20), 21));
        assert!(!proves_total(page(3, 20), 0));
        assert!(proves_total(page(500, 20), 21));
        assert!(!proves_total(page(499, 20), 21));
        assert!(!proves_total(page(600, 20), 0));
    }
}
