//! The synthetic catalogue of the catalogue benchmark (`bench/catalog/run.sh`,
//! issue 8), loaded by the hidden `mallkit serve --bench-catalog N` option
//! through `Store::apply`, in batches.
//!
//! The catalogue is deterministic and the same as the one
//! `bench/catalog/gen.py` writes for PostgreSQL: both draw from splitmix64
//! seeded per product, in the same order, so the two stores hold the same
//! rows and the benchmark's totals can be compared.
//!
//! - categories: roots 1–3, children 4–15 (four per root, child `c` under
//!   root `1 + (c - 4) / 4`);
//! - merchants 1–50;
//! - products 1–N named `{brand}{noun} {model}{edition}` (小米/华为/苹果/荣耀/
//!   OPPO/vivo × 手机/耳机/手表/平板/电脑/充电器/音箱), one in twenty off sale;
//! - three SKUs per product, ids `3(p-1)+1 ..= 3(p-1)+3`, prices from a
//!   product base upwards, varied units sold and available.

use std::collections::BTreeMap;

use mallkit_core::Money;
use mallkit_core::catalog::{Category, Merchant, Product, ProductStatus, Sku, Stock};
use mallkit_core::ids::{CategoryId, MerchantId, ProductId, SkuId};
use mallkit_core::storage::{CatalogWrite, Write};
use mallkit_http::SharedStore;

/// Brands of product names.
const BRANDS: [&str; 6] = ["小米", "华为", "苹果", "荣耀", "OPPO", "vivo"];
/// Nouns of product names.
const NOUNS: [&str; 7] = ["手机", "耳机", "手表", "平板", "电脑", "充电器", "音箱"];
/// Suffixes after the model number.
const EDITIONS: [&str; 4] = ["", " Pro", " Max", " Lite"];
/// The `版本` attribute of SKUs 1–3 of a product.
const VERSIONS: [&str; 3] = ["标准版", "高配版", "顶配版"];
/// Root categories (ids 1–3).
const ROOTS: [&str; 3] = ["手机数码", "电脑办公", "智能生活"];
/// Child categories (ids 4–15, four per root in order).
const CHILDREN: [&str; 12] =
    ["手机", "耳机", "充电器", "手机配件", "笔记本", "平板", "显示器", "键盘鼠标", "手表", "音箱", "智能家居", "健康"];
/// Merchants (ids 1–MERCHANTS).
const MERCHANTS: u64 = 50;
/// Products per `apply` batch (each with its three SKUs).
const BATCH: u64 = 1_000;
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
/// Seed mixed into every product's generator.
const SEED: u64 = 0x6D61_6C6C_6B69_7438;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// splitmix64, seeded per product.
struct Rng(u64);

impl Rng {
    fn of_product(product: u64) -> Rng {
        Rng(mix(product ^ SEED))
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }
    /// Uniform enough in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        let i = usize::try_from(self.below(from.len() as u64)).unwrap_or(0);
        from.get(i).copied().unwrap_or("")
    }
}

fn small(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Product `id` (from 1) and its three SKUs.
fn product(id: u64) -> (Product, [Sku; 3]) {
    let mut rng = Rng::of_product(id);
    let brand = rng.pick(&BRANDS);
    let noun = rng.pick(&NOUNS);
    let model = 1 + rng.below(99);
    let edition = rng.pick(&EDITIONS);
    let merchant = 1 + rng.below(MERCHANTS);
    let category = 4 + rng.below(CHILDREN.len() as u64);
    let status = if rng.below(20) == 0 { ProductStatus::OffSale } else { ProductStatus::OnSale };
    let base = 990 + rng.below(999_000);
    let product = Product {
        id: ProductId(id),
        merchant: MerchantId(merchant),
        category: CategoryId(category),
        name: format!("{brand}{noun} {model}{edition}"),
        status,
    };
    let skus = [0u64, 1, 2].map(|k| {
        let step = rng.below(50_000);
        let sold = rng.below(5_000);
        let available = rng.below(1_000);
        Sku {
            id: SkuId(3 * (id - 1) + k + 1),
            product: ProductId(id),
            attributes: BTreeMap::from([(
                "版本".to_owned(),
                VERSIONS.get(usize::try_from(k).unwrap_or(0)).copied().unwrap_or("").to_owned(),
            )]),
            price: Money::from_fen(i64::try_from(base + k * step).unwrap_or(i64::MAX)),
            original_price: None,
            weight_grams: Some(500),
            stock: Stock { available: small(available), reserved: 0, sold: small(sold) },
        }
    });
    (product, skus)
}

/// The categories and merchants.
fn fixed_rows() -> Vec<Write> {
    let mut writes = Vec::new();
    for ((id, sort), name) in (1u64..).zip(1i32..).zip(ROOTS) {
        writes.push(Write::Catalog(CatalogWrite::PutCategory(Category {
            id: CategoryId(id),
            parent: None,
            name: name.into(),
            sort,
        })));
    }
    for (i, name) in (0u64..).zip(CHILDREN) {
        let category = Category {
            id: CategoryId(4 + i),
            parent: Some(CategoryId(1 + i / 4)),
            name: name.into(),
            sort: i32::try_from(i % 4 + 1).unwrap_or(0),
        };
        writes.push(Write::Catalog(CatalogWrite::PutCategory(category)));
    }
    for m in 1..=MERCHANTS {
        let brand = BRANDS.get(usize::try_from((m - 1) % 6).unwrap_or(0)).copied().unwrap_or("");
        writes.push(Write::Catalog(CatalogWrite::PutMerchant(Merchant {
            id: MerchantId(m),
            name: format!("{brand}旗舰店{m}"),
        })));
    }
    writes
}

/// Writes the catalogue of `products` products (3 SKUs each) into `store`,
/// in batches of a thousand products.
///
/// # Errors
/// The store's error, as text.
pub async fn load(store: &SharedStore, products: u64) -> Result<(), String> {
    let fail = |e: mallkit_core::storage::StoreError| format!("bench catalogue: {e}");
    store.apply(fixed_rows()).await.map_err(fail)?;
    let mut first = 1;
    while first <= products {
        let last = (first + BATCH - 1).min(products);
        let mut writes = Vec::with_capacity(usize::try_from(4 * (last - first + 1)).unwrap_or(0));
        for id in first..=last {
            let (product, skus) = product(id);
            writes.push(Write::Catalog(CatalogWrite::PutProduct(product)));
            writes.extend(skus.into_iter().map(|v| Write::Catalog(CatalogWrite::PutSku(v))));
        }
        store.apply(writes).await.map_err(fail)?;
        first = last + 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_stable() {
        // The same figures as bench/catalog/gen.py --selftest: product 1, then
        // sums over products 1..=1000.
        let (p, skus) = product(1);
        let first = format!(
            "{} {} {} {:?} {} {} {}",
            p.name,
            p.merchant.0,
            p.category.0,
            p.status,
            skus[0].price,
            skus[2].price,
            skus.iter().map(|s| s.stock.sold).sum::<u32>()
        );
        let mut sums = [0u64; 6];
        for id in 1..=1000 {
            let (p, skus) = product(id);
            sums[0] += u64::from(p.status == ProductStatus::OnSale);
            sums[1] += p.merchant.0 + p.category.0;
            sums[2] += p.name.chars().map(u64::from).sum::<u64>();
            for s in &skus {
                sums[3] += s.price.fen().unsigned_abs();
                sums[4] += u64::from(s.stock.sold);
                sums[5] += u64::from(s.stock.available);
            }
        }
        let sums = sums.map(|n| n.to_string()).join(" ");
        assert_eq!(format!("{first}\n{sums}\n"), include_str!("../../bench/catalog/selftest.txt"));
    }

    #[test]
    fn names_mix_every_brand_and_noun() {
        let names: Vec<String> = (1..=2_000).map(|id| product(id).0.name).collect();
        for brand in BRANDS {
            assert!(names.iter().any(|n| n.starts_with(brand)), "{brand}");
        }
        for noun in NOUNS {
            assert!(names.iter().any(|n| n.contains(noun)), "{noun}");
        }
        assert!(names.iter().any(|n| n.starts_with("小米手机")));
    }
}
