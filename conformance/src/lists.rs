//! Paged lists (DESIGN §11): every list a store pages itself, walked page by
//! page and compared with the row-by-row rules of core (`ProductFilter::admits`
//! with `ProductSort::compare`, `OrderFilter::admits`, `AfterSaleFilter::admits`,
//! `UserFilter::admits`, `CustomerStats::of`): [`mall`] on a mall built by
//! `Mall`'s commands, against the unpaged reads; [`catalog`], [`orders`] and
//! [`accounts`] on rows the case writes itself through `Store::apply`,
//! against those rows: product search (every sort and filter, Chinese
//! keywords of every length, indexes following writes in the batch),
//! orders, after-sales cases and customer figures, coupon templates, claims,
//! held coupons, the points ledger and users.
//!
//! Every walk checks the page frame as well as the rows: each page says its
//! number and size, `total` is the number of matches on every page (never
//! capped here), `has_more` is true exactly on full pages followed by more
//! rows, and the page after the last is empty.

use std::fmt::Debug;
use std::future::Future;

use chrono::{DateTime, TimeZone, Utc};
use mallkit_core::money::Money;
use mallkit_core::page::{Page, PageRequest};
use mallkit_core::storage::StoreError;

pub mod accounts;
pub mod catalog;
pub mod mall;
pub mod orders;

pub use accounts::{
    held_coupons_page_by_claim_time_with_status_as_of_now, ledger_pages_newest_first_by_source,
    template_and_claim_pages_follow_ids, user_pages_filter_by_role_status_and_keyword,
};
pub use catalog::{
    chinese_keywords_of_every_length_equal_a_substring_scan, product_search_follows_writes_in_the_same_batch,
    product_search_pages_every_filter_in_every_sort,
};
pub use mall::every_list_walks_every_row_once;
pub use orders::{
    after_sale_pages_by_order_merchant_user_and_status, after_sale_pages_by_user_status_alone_and_by_time_over_ids,
    customer_stats_aggregate_each_buyers_orders, order_pages_by_status_alone_unfiltered_and_by_time_over_ids,
    order_pages_by_user_and_merchant_newest_first,
};

/// Page sizes every list is walked with: two small ones that split it into
/// many pages (one of them dividing some totals exactly) and the largest.
pub(crate) const SIZES: [u32; 3] = [3, 7, 100];

pub(crate) fn m(s: &str) -> Money {
    s.parse().expect("money literal")
}

/// 2026-11-25 10:00 UTC plus `minutes`.
pub(crate) fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).single().expect("valid time") + chrono::Duration::minutes(minutes)
}

/// Walks pages 1, 2, … of `size` rows through `fetch` until `has_more` is
/// false, checking every page's frame against `expected` matches, then the
/// page after the last; returns the rows of every page in order.
pub(crate) async fn walk<T, F, Fut>(what: &str, size: u32, expected: usize, fetch: &mut F) -> Vec<T>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, StoreError>>,
{
    let request = |n: u32| PageRequest::new(Some(n), Some(size)).expect("page request");
    let pages = expected.div_ceil(size as usize).max(1);
    let mut rows = Vec::with_capacity(expected);
    let mut n = 1u32;
    loop {
        let page = fetch(request(n)).await.unwrap_or_else(|e| panic!("{what}: page {n} of {size}: {e}"));
        assert_eq!((page.page, page.page_size), (n, size), "{what}: frame of page {n} of {size}");
        assert_eq!((page.total, page.total_capped), (expected as u64, false), "{what}: total on page {n} of {size}");
        assert!(page.items.len() <= size as usize, "{what}: page {n} of {size} holds {}", page.items.len());
        if page.has_more {
            assert_eq!(page.items.len(), size as usize, "{what}: page {n} of {size} has more but is not full");
        } else if expected > 0 {
            assert!(!page.items.is_empty(), "{what}: last page {n} of {size} is empty");
        }
        rows.extend(page.items);
        if !page.has_more {
            break;
        }
        assert!((n as usize) < pages, "{what}: page {n} of {size} has more after {} rows", rows.len());
        n += 1;
    }
    assert_eq!(n as usize, pages, "{what}: pages of {size}");
    let past = fetch(request(n + 1)).await.unwrap_or_else(|e| panic!("{what}: page {} of {size}: {e}", n + 1));
    assert!(past.items.is_empty() && !past.has_more, "{what}: page {} of {size} is past the end", n + 1);
    assert_eq!(past.total, expected as u64, "{what}: total past the end");
    rows
}

/// Walks the list with every size of [`SIZES`]: each walk gives back
/// `expected`, row for row, in its order.
pub(crate) async fn pages_equal<T, F, Fut>(what: &str, expected: &[T], fetch: F)
where
    T: PartialEq + Debug,
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, StoreError>>,
{
    pages_of_sizes_equal(&SIZES, what, expected, fetch).await;
}

/// [`pages_equal`] with the page sizes `sizes`.
pub(crate) async fn pages_of_sizes_equal<T, F, Fut>(sizes: &[u32], what: &str, expected: &[T], mut fetch: F)
where
    T: PartialEq + Debug,
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, StoreError>>,
{
    for &size in sizes {
        let rows = walk(what, size, expected.len(), &mut fetch).await;
        if rows != expected {
            let i = rows.iter().zip(expected).position(|(a, b)| a != b).unwrap_or(rows.len().min(expected.len()));
            panic!(
                "{what}: pages of {size} gave {} rows, want {}; first difference at row {i}:\n got: {:#?}\nwant: {:#?}",
                rows.len(),
                expected.len(),
                rows.get(i),
                expected.get(i)
            );
        }
    }
}
