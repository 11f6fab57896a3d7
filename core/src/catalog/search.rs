//! Product search as a store answers it (seed 001 §4.1, seed 004 §4.1): the
//! filter, the sort orders, the summary of a product in a list, and the
//! keyword rule both stores index the same way.
//!
//! A keyword matches a product whose lower-cased name contains the
//! lower-cased keyword as a substring, so 手, 手机 and 小米手机 all find
//! 小米手机 14. Stores serve it from an index of the name's [`search_tokens`]
//! (every character and every pair of adjacent characters): a one-character
//! keyword is one token, a longer one needs all of its pairs
//! ([`Keyword::tokens`]), and a keyword of three or more characters is then
//! checked against the name itself ([`Keyword::matches`]), since having all
//! the pairs does not make a substring.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::catalog::{Product, ProductStatus, Sku};
use crate::ids::{CategoryId, MerchantId, ProductId};
use crate::money::Money;

/// Longest keyword, characters.
pub const MAX_KEYWORD_CHARS: usize = 50;

/// Product list order; ties go to the higher id (the newer product).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProductSort {
    /// Newest first (highest id: ids grow with time).
    #[default]
    Newest,
    /// Lowest price first (the product's lowest SKU price).
    PriceAsc,
    /// Highest price first (the product's lowest SKU price).
    PriceDesc,
    /// Most units sold first (over all SKUs).
    Sales,
}

impl ProductSort {
    /// Every sort, for tests that walk each one.
    pub const ALL: [ProductSort; 4] =
        [ProductSort::Newest, ProductSort::PriceAsc, ProductSort::PriceDesc, ProductSort::Sales];

    /// The list order of two summaries under this sort (ties by id, descending).
    pub fn compare(self, a: &ProductSummary, b: &ProductSummary) -> Ordering {
        let by = match self {
            ProductSort::Newest => Ordering::Equal,
            ProductSort::PriceAsc => a.min_price.cmp(&b.min_price),
            ProductSort::PriceDesc => b.min_price.cmp(&a.min_price),
            ProductSort::Sales => b.sales.cmp(&a.sales),
        };
        by.then(b.id.cmp(&a.id))
    }
}

/// A product in a list: its price range over its SKUs, units sold and in stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductSummary {
    /// Product (SPU) id.
    pub id: ProductId,
    /// Name.
    pub name: String,
    /// Seller.
    pub merchant: MerchantId,
    /// Category.
    pub category: CategoryId,
    /// Lowest SKU price, yuan (0 for a product without SKUs).
    pub min_price: Money,
    /// Highest SKU price, yuan (0 for a product without SKUs).
    pub max_price: Money,
    /// Units sold over all SKUs.
    pub sales: u64,
    /// Units available over all SKUs.
    pub available: u64,
}

/// Summarises a product from its SKUs (a product without SKUs has a zero price range).
pub fn summarize(product: &Product, skus: &[Sku]) -> ProductSummary {
    let prices = skus.iter().map(|s| s.price);
    ProductSummary {
        id: product.id,
        name: product.name.clone(),
        merchant: product.merchant,
        category: product.category,
        min_price: prices.clone().min().unwrap_or(Money::ZERO),
        max_price: prices.max().unwrap_or(Money::ZERO),
        sales: skus.iter().map(|s| u64::from(s.stock.sold)).sum(),
        available: skus.iter().map(|s| u64::from(s.stock.available)).sum(),
    }
}

/// The text a keyword is matched against: the name, lower-cased.
pub fn search_text(name: &str) -> String {
    name.to_lowercase()
}

/// The index tokens of a name: every character and every pair of adjacent
/// characters of [`search_text`], sorted, without repeats.
pub fn search_tokens(name: &str) -> Vec<String> {
    let chars: Vec<char> = search_text(name).chars().collect();
    let mut tokens: Vec<String> = chars.iter().map(|c| c.to_string()).collect();
    tokens.extend(chars.windows(2).map(|w| w.iter().collect::<String>()));
    tokens.sort_unstable();
    tokens.dedup();
    tokens
}

/// A search keyword: trimmed, lower-cased, 1–[`MAX_KEYWORD_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Keyword(String);

/// Why a keyword was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("keyword: must be at most {MAX_KEYWORD_CHARS} characters")]
pub struct KeywordTooLong;

impl Keyword {
    /// The keyword of `text`; `None` when it is blank.
    ///
    /// # Errors
    /// [`KeywordTooLong`] above [`MAX_KEYWORD_CHARS`] characters.
    pub fn parse(text: &str) -> Result<Option<Keyword>, KeywordTooLong> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() > MAX_KEYWORD_CHARS {
            return Err(KeywordTooLong);
        }
        Ok(Some(Keyword(search_text(text))))
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Characters in it.
    pub fn chars(&self) -> usize {
        self.0.chars().count()
    }

    /// The index tokens a matching name must all have: the character itself
    /// for one character, else every adjacent pair (sorted, without repeats).
    pub fn tokens(&self) -> Vec<String> {
        let chars: Vec<char> = self.0.chars().collect();
        let mut tokens: Vec<String> = if chars.len() == 1 {
            vec![self.0.clone()]
        } else {
            chars.windows(2).map(|w| w.iter().collect::<String>()).collect()
        };
        tokens.sort_unstable();
        tokens.dedup();
        tokens
    }

    /// True when the tokens alone decide the match (one or two characters).
    pub fn tokens_decide(&self) -> bool {
        self.chars() <= 2
    }

    /// The rule itself: the lower-cased `name` contains the keyword.
    pub fn matches(&self, name: &str) -> bool {
        search_text(name).contains(&self.0)
    }
}

/// A product search as a store answers it: the storefront's query with the
/// category resolved to its whole subtree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductFilter {
    /// Only products in one of these categories (a category and its
    /// descendants, sorted); `None` for any.
    pub categories: Option<Vec<CategoryId>>,
    /// Only this seller's products.
    pub merchant: Option<MerchantId>,
    /// Only products whose name contains this.
    pub keyword: Option<Keyword>,
    /// Only products whose lowest SKU price is at least this, yuan.
    pub min_price: Option<Money>,
    /// Only products whose lowest SKU price is at most this, yuan.
    pub max_price: Option<Money>,
    /// Only products in this status (the storefront asks for `on_sale`).
    pub status: Option<ProductStatus>,
    /// Order.
    pub sort: ProductSort,
}

impl ProductFilter {
    /// The rule, row by row: whether `product` (summarised as `summary`)
    /// belongs in the list. Stores serve it from indexes; tests compare
    /// their pages with this scan.
    pub fn admits(&self, product: &Product, summary: &ProductSummary) -> bool {
        self.status.is_none_or(|s| product.status == s)
            && self.merchant.is_none_or(|m| product.merchant == m)
            && self.categories.as_ref().is_none_or(|c| c.binary_search(&product.category).is_ok())
            && self.keyword.as_ref().is_none_or(|k| k.matches(&product.name))
            && self.min_price.is_none_or(|m| summary.min_price >= m)
            && self.max_price.is_none_or(|m| summary.min_price <= m)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn chinese_keywords_of_every_length_match_substrings() {
        let name = "小米手机 14 Pro";
        for k in ["手", "手机", "小米手机", "PRO", "机 1"] {
            let k = Keyword::parse(k).unwrap().unwrap();
            assert!(k.matches(name), "{k:?}");
            let tokens = search_tokens(name);
            assert!(k.tokens().iter().all(|t| tokens.contains(t)), "{k:?}");
        }
        let k = Keyword::parse("手米").unwrap().unwrap();
        assert!(!k.matches(name));
        assert!(!search_tokens(name).contains(&"手米".to_owned()));
        // all pairs present, yet no substring: the name check decides
        let k = Keyword::parse("米手米").unwrap().unwrap();
        assert!(!k.tokens_decide());
        let tokens = search_tokens("米手 手米");
        assert!(k.tokens().iter().all(|t| tokens.contains(t)));
        assert!(!k.matches("米手 手米"));
    }

    #[test]
    fn keywords_are_trimmed_and_bounded() {
        assert_eq!(Keyword::parse("   ").unwrap(), None);
        assert_eq!(Keyword::parse(" Mi ").unwrap().unwrap().as_str(), "mi");
        assert!(Keyword::parse(&"手".repeat(51)).is_err());
        assert_eq!(Keyword::parse("手机手机").unwrap().unwrap().tokens(), vec!["手机", "机手"]);
    }
}
