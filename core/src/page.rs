//! Pages of lists (DESIGN §10, §11): every list is paged, filtered and
//! sorted in the store, never by reading a whole table. A [`PageRequest`]
//! is checked at the edge; the store answers a [`Page`].

use serde::{Deserialize, Serialize};

/// Most rows a store counts for `total`: beyond it a page says
/// `total = COUNT_CAP` and `total_capped = true` (counting a million
/// matches to draw a page number would cost more than the page itself;
/// docs/decisions.md).
pub const COUNT_CAP: u64 = 10_000;

/// Largest page size.
pub const MAX_PAGE_SIZE: u32 = 100;

/// Default page size.
pub const DEFAULT_PAGE_SIZE: u32 = 20;

/// Page `page` (from 1) of `page_size` rows (1–[`MAX_PAGE_SIZE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageRequest {
    page: u32,
    page_size: u32,
}

/// Why a page request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// `page` is 0.
    #[error("page: must be at least 1")]
    Page,
    /// `page_size` outside 1–100.
    #[error("page_size: must be 1-{MAX_PAGE_SIZE}")]
    PageSize,
}

impl PageError {
    /// The field it names: `page` or `page_size`.
    pub fn field(&self) -> &'static str {
        match self {
            PageError::Page => "page",
            PageError::PageSize => "page_size",
        }
    }
}

impl PageRequest {
    /// The first page of [`DEFAULT_PAGE_SIZE`] rows.
    pub const FIRST: PageRequest = PageRequest { page: 1, page_size: DEFAULT_PAGE_SIZE };

    /// Page `page` of `page_size` rows; `None` takes 1 and [`DEFAULT_PAGE_SIZE`].
    ///
    /// # Errors
    /// [`PageError::Page`] for page 0, [`PageError::PageSize`] outside 1–100.
    pub fn new(page: Option<u32>, page_size: Option<u32>) -> Result<PageRequest, PageError> {
        let page = page.unwrap_or(1);
        let page_size = page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if page == 0 {
            return Err(PageError::Page);
        }
        if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
            return Err(PageError::PageSize);
        }
        Ok(PageRequest { page, page_size })
    }

    /// The page number, from 1.
    pub fn page(&self) -> u32 {
        self.page
    }

    /// Rows per page.
    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    /// Rows before this page.
    pub fn offset(&self) -> u64 {
        (u64::from(self.page) - 1) * u64::from(self.page_size)
    }

    /// Rows to fetch: one more than the page, so `has_more` needs no count.
    pub fn fetch(&self) -> u64 {
        u64::from(self.page_size) + 1
    }

    /// The page out of `rows` fetched from [`PageRequest::offset`] with a
    /// limit of [`PageRequest::fetch`], and `counted` matching rows in all
    /// (counted up to [`COUNT_CAP`] + 1).
    pub fn page_of<T>(&self, mut rows: Vec<T>, counted: u64) -> Page<T> {
        let has_more = rows.len() as u64 > u64::from(self.page_size);
        rows.truncate(self.page_size as usize);
        let seen = if rows.is_empty() { 0 } else { self.offset() + rows.len() as u64 + u64::from(has_more) };
        let total = counted.max(seen);
        Page {
            items: rows,
            total: total.min(COUNT_CAP),
            total_capped: total > COUNT_CAP,
            page: self.page,
            page_size: self.page_size,
            has_more,
        }
    }

    /// The page of an already ordered iterator of every matching row
    /// (for short lists in memory): skips, takes and counts (up to the cap).
    pub fn page_from_iter<T>(&self, rows: impl Iterator<Item = T>) -> Page<T> {
        let offset = usize::try_from(self.offset()).unwrap_or(usize::MAX);
        let mut counted = 0u64;
        let mut items = Vec::with_capacity(self.page_size as usize + 1);
        for (i, row) in rows.enumerate() {
            counted += 1;
            if i >= offset && items.len() <= self.page_size as usize {
                items.push(row);
            } else if counted > COUNT_CAP && items.len() > self.page_size as usize {
                break;
            }
        }
        self.page_of(items, counted)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest::FIRST
    }
}

/// One page of a list: `{items, total, total_capped, page, page_size, has_more}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Rows in the whole list, counted up to [`COUNT_CAP`] (10,000).
    pub total: u64,
    /// True when more than [`COUNT_CAP`] rows match: `total` is then a lower bound.
    pub total_capped: bool,
    /// This page, from 1.
    pub page: u32,
    /// Page size.
    pub page_size: u32,
    /// True when a later page has rows.
    pub has_more: bool,
}

impl<T> Page<T> {
    /// The same page with every row mapped.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            total_capped: self.total_capped,
            page: self.page,
            page_size: self.page_size,
            has_more: self.has_more,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pages_of_an_iterator() {
        let req = PageRequest::new(Some(2), Some(3)).unwrap();
        let page = req.page_from_iter(1..=7);
        assert_eq!(page.items, vec![4, 5, 6]);
        assert_eq!((page.total, page.has_more, page.total_capped), (7, true, false));
        let last = PageRequest::new(Some(3), Some(3)).unwrap().page_from_iter(1..=7);
        assert_eq!((last.items, last.has_more), (vec![7], false));
        let past = PageRequest::new(Some(9), Some(3)).unwrap().page_from_iter(1..=7);
        assert_eq!((past.items.len(), past.total, past.has_more), (0, 7, false));
        let capped_far = PageRequest::new(Some(600), Some(20)).unwrap().page_from_iter(0..20_000u64);
        assert_eq!((capped_far.items[0], capped_far.total, capped_far.total_capped), (11_980, COUNT_CAP, true));
    }

    #[test]
    fn counts_stop_at_the_cap() {
        let page = PageRequest::FIRST.page_from_iter(0..50_000u64);
        assert_eq!((page.total, page.total_capped, page.has_more), (COUNT_CAP, true, true));
        assert_eq!(page.items, (0..20).collect::<Vec<_>>());
        let exact = PageRequest::FIRST.page_from_iter(0..COUNT_CAP);
        assert_eq!((exact.total, exact.total_capped), (COUNT_CAP, false));
    }

    #[test]
    fn bounds_name_the_field() {
        assert_eq!(PageRequest::new(Some(0), None).unwrap_err().field(), "page");
        assert_eq!(PageRequest::new(None, Some(101)).unwrap_err().field(), "page_size");
        assert_eq!(PageRequest::new(None, None).unwrap(), PageRequest::FIRST);
    }
}
