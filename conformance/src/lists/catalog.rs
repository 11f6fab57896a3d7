//! Product search pages (`CatalogStore::search_products`): every filter in
//! every sort against `ProductFilter::admits` and `ProductSort::compare`,
//! Chinese keywords of every length against a plain substring scan, and the
//! search following renames, price edits, sales, restocks and status changes
//! written in the same batch.

use std::collections::BTreeMap;

use mallkit_core::catalog::{
    Category, Keyword, Merchant, Product, ProductFilter, ProductSort, ProductStatus, ProductSummary, Sku, Stock,
    StockMove, search_tokens, summarize,
};
use mallkit_core::ids::{CategoryId, MerchantId, ProductId, SkuId};
use mallkit_core::money::Money;
use mallkit_core::page::PageRequest;
use mallkit_core::storage::{CatalogWrite, StockWrite, Store, StoreError, Write};

use super::{m, pages_of_sizes_equal};

/// The catalogue as the case wrote it, kept in step with every write: the
/// reference every search answer is computed from.
#[derive(Debug, Clone, Default)]
struct Model {
    products: BTreeMap<ProductId, Product>,
    skus: BTreeMap<SkuId, Sku>,
}

impl Model {
    fn put_product(&mut self, product: Product) -> Write {
        self.products.insert(product.id, product.clone());
        Write::Catalog(CatalogWrite::PutProduct(product))
    }

    /// A new SKU with its stock, or new details of a stored one (which keeps its stock).
    fn put_sku(&mut self, mut sku: Sku) -> Write {
        let write = Write::Catalog(CatalogWrite::PutSku(sku.clone()));
        if let Some(old) = self.skus.get(&sku.id) {
            sku.stock = old.stock;
        }
        self.skus.insert(sku.id, sku);
        write
    }

    fn move_stock(&mut self, sku: SkuId, movement: StockMove, quantity: u32) -> Write {
        let stock = &mut self.skus.get_mut(&sku).expect("sku in the model").stock;
        stock.apply(sku, movement, quantity).expect("the model's stock allows the move");
        Write::Stock(StockWrite::Move { sku, movement, quantity })
    }

    fn summary(&self, product: &Product) -> ProductSummary {
        let skus: Vec<Sku> = self.skus.values().filter(|s| s.product == product.id).cloned().collect();
        summarize(product, &skus)
    }

    /// The answer by the rule: every product `filter` admits, in its sort.
    fn search(&self, filter: &ProductFilter) -> Vec<ProductSummary> {
        let mut found: Vec<ProductSummary> = self
            .products
            .values()
            .map(|p| (p, self.summary(p)))
            .filter(|(p, s)| filter.admits(p, s))
            .map(|(_, s)| s)
            .collect();
        found.sort_by(|a, b| filter.sort.compare(a, b));
        found
    }
}

fn product(id: u64, merchant: u64, category: u64, name: &str, status: ProductStatus) -> Product {
    Product {
        id: ProductId(id),
        merchant: MerchantId(merchant),
        category: CategoryId(category),
        name: name.into(),
        status,
    }
}

fn sku(id: u64, product: u64, price: &str, available: u32, sold: u32) -> Sku {
    Sku {
        id: SkuId(id),
        product: ProductId(product),
        attributes: [("版本".to_owned(), format!("{id}"))].into_iter().collect(),
        price: m(price),
        original_price: Some(m(price) + Money::from_yuan(100)),
        weight_grams: Some(450),
        stock: Stock { available, reserved: 0, sold },
    }
}

fn category(id: u64, parent: Option<u64>, name: &str) -> Category {
    Category { id: CategoryId(id), parent: parent.map(CategoryId), name: name.into(), sort: 0 }
}

/// `root` and every category below it, sorted (as the storefront resolves a category filter).
fn subtree(categories: &[Category], root: u64) -> Vec<CategoryId> {
    let mut found = vec![CategoryId(root)];
    let mut i = 0;
    while let Some(&parent) = found.get(i) {
        found.extend(categories.iter().filter(|c| c.parent == Some(parent)).map(|c| c.id));
        i += 1;
    }
    found.sort_unstable();
    found
}

fn keyword(text: &str) -> Option<Keyword> {
    Some(Keyword::parse(text).expect("keyword length").expect("keyword not blank"))
}

async fn apply<S: Store>(store: &S, writes: Vec<Write>) {
    store.apply(writes).await.expect("batch");
}

/// Walks `filter` in every sort with every page size and compares it with the model.
async fn search_walks<S: Store>(store: &S, model: &Model, filter: &ProductFilter, sizes: &[u32]) {
    for sort in ProductSort::ALL {
        let filter = ProductFilter { sort, ..filter.clone() };
        let expected = model.search(&filter);
        let what = format!("search {filter:?}");
        pages_of_sizes_equal(sizes, &what, &expected, |p| store.search_products(&filter, p)).await;
    }
}

const ON: ProductStatus = ProductStatus::OnSale;
const OFF: ProductStatus = ProductStatus::OffSale;

/// Thirty products of three merchants over a category tree two levels
/// deep, with ties in the lowest price and in sales (so the id decides), a
/// product without SKUs (price 0), several SKUs per product (the lowest
/// price counts) and initial sales.
#[allow(clippy::type_complexity)]
const CATALOGUE: [(u64, u64, &str, ProductStatus, &[(&str, u32, u32)]); 30] = [
    (1, 2, "小米14 Pro 钛金属版", ON, &[("4999.00", 50, 120), ("5499.00", 20, 30)]),
    (1, 2, "Redmi K70 至尊版", ON, &[("2599.00", 80, 300)]),
    (1, 3, "小米 Buds 4 Pro", ON, &[("899.00", 100, 45)]),
    (1, 4, "小米 67W 充电器", ON, &[("99.00", 500, 800)]),
    (1, 4, "小米 手机壳 透明", OFF, &[("29.90", 0, 1500)]),
    (2, 2, "华为 Mate 60 Pro", ON, &[("6999.00", 10, 300)]),
    (2, 2, "华为 nova 12", ON, &[("2999.00", 30, 60), ("2599.00", 40, 60)]),
    (2, 3, "华为 FreeBuds Pro 3", ON, &[("1499.00", 60, 45)]),
    (2, 4, "华为 超级快充 充电器 88W", OFF, &[("99.00", 0, 210)]),
    (2, 2, "华为 Pura 70 预售", ON, &[]),
    (3, 6, "美的 电饭煲 4L", ON, &[("299.00", 200, 510)]),
    (3, 6, "美的 微波炉 PRO 20L", ON, &[("499.00", 90, 88)]),
    (3, 7, "美的 电风扇 落地扇", OFF, &[("199.00", 0, 40)]),
    (3, 6, "美的 电磁炉 C22", ON, &[("199.00", 70, 0), ("259.00", 10, 0)]),
    (1, 2, "Xiaomi MIX Fold 3", ON, &[("8999.00", 5, 12)]),
    (2, 3, "华为 FreeClip 耳夹耳机", ON, &[("1299.00", 25, 0)]),
    (1, 3, "小米 手环 8 Pro", ON, &[("299.00", 300, 150)]),
    (3, 7, "美的 加湿器 Pro", ON, &[("159.00", 40, 33)]),
    (1, 2, "Redmi Note 13 手机", ON, &[("1099.00", 150, 420), ("1299.00", 100, 80)]),
    (2, 2, "华为 畅享 70 手机", OFF, &[("1199.00", 0, 0)]),
    (1, 4, "小米 氮化镓 充电器 120W", ON, &[("199.00", 120, 60)]),
    (3, 6, "美的 空气炸锅 5.5L", ON, &[("349.00", 60, 270)]),
    (2, 4, "华为 手机 保护壳", ON, &[("79.00", 400, 0)]),
    (1, 1, "小米 智能家居 套装", ON, &[("999.00", 10, 3)]),
    (3, 5, "美的 空调 1.5匹 新一级", ON, &[("2599.00", 15, 60)]),
    (2, 2, "华为 Mate X5 折叠屏", ON, &[("12999.00", 3, 9)]),
    (1, 3, "小米 Buds 5", OFF, &[("699.00", 0, 0)]),
    (3, 6, "美的 电水壶 1.7L", ON, &[("99.00", 800, 1500)]),
    (2, 3, "华为 Watch GT 4 手表", ON, &[("1488.00", 30, 20)]),
    (1, 2, "小米 Civi 4 Pro", ON, &[("2599.00", 40, 0)]),
];

/// Every paged product search, in all four sorts, page by page with pages
/// of 3, 7 and 100: all products, on sale or off sale, a category subtree
/// (and an empty one), a merchant, price bounds on the lowest SKU price
/// (inclusive, a product without SKUs counting 0), keywords, all of them at
/// once, and filters nothing matches.
pub async fn product_search_pages_every_filter_in_every_sort<S: Store + 'static>(store: S) {
    let categories = vec![
        category(1, None, "数码"),
        category(2, Some(1), "手机"),
        category(3, Some(1), "耳机"),
        category(4, Some(2), "手机配件"),
        category(5, None, "家电"),
        category(6, Some(5), "厨房电器"),
        category(7, Some(5), "生活电器"),
        category(8, Some(7), "个护"),
    ];
    let mut writes: Vec<Write> =
        categories.iter().cloned().map(|v| Write::Catalog(CatalogWrite::PutCategory(v))).collect();
    for (id, name) in [(1, "小米官方旗舰店"), (2, "华为官方旗舰店"), (3, "美的电器")] {
        writes.push(Write::Catalog(CatalogWrite::PutMerchant(Merchant { id: MerchantId(id), name: name.into() })));
    }
    let mut model = Model::default();
    for (i, (merchant, cat, name, status, skus)) in CATALOGUE.iter().enumerate() {
        // ids do not follow the order of the writes
        let id = 1001 + (i as u64 * 17) % 37;
        writes.push(model.put_product(product(id, *merchant, *cat, name, *status)));
        for (j, (price, available, sold)) in skus.iter().enumerate() {
            writes.push(model.put_sku(sku(id * 10 + j as u64 + 1, id, price, *available, *sold)));
        }
    }
    apply(&store, writes).await;

    let on_sale = ProductFilter { status: Some(ON), ..ProductFilter::default() };
    let filters = [
        ProductFilter::default(),
        on_sale.clone(),
        ProductFilter { status: Some(OFF), ..ProductFilter::default() },
        ProductFilter { categories: Some(subtree(&categories, 1)), ..on_sale.clone() },
        ProductFilter { categories: Some(subtree(&categories, 2)), ..ProductFilter::default() },
        ProductFilter { categories: Some(subtree(&categories, 5)), ..on_sale.clone() },
        ProductFilter { merchant: Some(MerchantId(2)), ..on_sale.clone() },
        ProductFilter { min_price: Some(m("999.00")), ..on_sale.clone() },
        ProductFilter { max_price: Some(m("2599.00")), ..ProductFilter::default() },
        ProductFilter { min_price: Some(m("100.00")), max_price: Some(m("2999.00")), ..on_sale.clone() },
        ProductFilter { max_price: Some(Money::ZERO), ..ProductFilter::default() },
        ProductFilter { keyword: keyword("pro"), ..ProductFilter::default() },
        ProductFilter { keyword: keyword("充电器"), ..on_sale.clone() },
        ProductFilter { keyword: keyword("手机"), ..ProductFilter::default() },
        ProductFilter {
            categories: Some(subtree(&categories, 1)),
            merchant: Some(MerchantId(1)),
            keyword: keyword("小米"),
            min_price: Some(m("50.00")),
            max_price: Some(m("5000.00")),
            ..on_sale.clone()
        },
    ];
    let nothing = [
        ProductFilter { categories: Some(subtree(&categories, 8)), ..ProductFilter::default() },
        ProductFilter { merchant: Some(MerchantId(3)), keyword: keyword("华为"), ..ProductFilter::default() },
        ProductFilter { min_price: Some(m("100000.00")), ..ProductFilter::default() },
    ];
    for filter in &filters {
        assert!(!model.search(filter).is_empty(), "the data exercises {filter:?}");
        search_walks(&store, &model, filter, &super::SIZES).await;
    }
    for filter in &nothing {
        assert!(model.search(filter).is_empty(), "{filter:?} matches nothing");
        search_walks(&store, &model, filter, &super::SIZES).await;
    }
    // the ties the data was built for: three products at 2599.00 and 99.00, sales of 300 and 1500 twice
    let cheapest = model.search(&ProductFilter { sort: ProductSort::PriceAsc, ..ProductFilter::default() });
    assert_eq!(cheapest.iter().filter(|s| s.min_price == m("99.00")).count(), 3);
    assert_eq!(cheapest.iter().filter(|s| s.min_price == m("2599.00")).count(), 4);
}

const BRANDS: [&str; 4] = ["小米", "华为", "苹果", "荣耀"];
const KINDS: [&str; 5] = ["手机", "耳机", "手表", "平板", "充电器"];
const MODELS: [&str; 6] = ["14", "Mate 60", "X5", "Air 2", "GT4", "K70"];
const EDITIONS: [&str; 7] = ["", " Pro", " PRO MAX", " pro max", " Lite", " Mini", " 青春版"];

/// Keyword search over 304 products named from a small vocabulary (brand ×
/// kind, with or without a space between, × model × edition in mixed case,
/// and four names made of the same few characters) equals a plain substring
/// scan of the lower-cased names: keywords of one character, two, three and
/// more, ASCII in any case, one whose every pair of characters occurs in a
/// name but never as a substring, and one that matches nothing.
pub async fn chinese_keywords_of_every_length_equal_a_substring_scan<S: Store + 'static>(store: S) {
    let mut writes = vec![
        Write::Catalog(CatalogWrite::PutCategory(category(1, None, "数码"))),
        Write::Catalog(CatalogWrite::PutMerchant(Merchant { id: MerchantId(1), name: "数码城".into() })),
    ];
    let mut model = Model::default();
    let mut names: Vec<String> = (0..300)
        .map(|i| {
            let sep = if (i / 20) % 3 == 0 { " " } else { "" };
            let (brand, kind) = (BRANDS[i % 4], KINDS[(i / 4) % 5]);
            format!("{brand}{sep}{kind} {}{}", MODELS[(i / 7) % 6], EDITIONS[i % 7])
        })
        .collect();
    names.extend(["米手 手米", "手米手 米", "机手机", "Pro手机Max"].map(String::from));
    for (i, name) in names.iter().enumerate() {
        let id = i as u64 + 1;
        writes.push(model.put_product(product(id, 1, 1, name, ON)));
        let price = format!("{}.00", 99 + (i * 37) % 500);
        writes.push(model.put_sku(sku(id, id, &price, 100, (i as u32 * 13) % 50)));
    }
    apply(&store, writes).await;

    let keywords = [
        "手",
        "机",
        "表",
        "x",
        "耳机",
        "手表",
        "米手",
        "小米手机",
        "华为手表",
        "pro",
        "PRO MAX",
        "Pro Max",
        "机 k70",
        "14 pro",
        "米手米",
        "手机手",
        "不存在的商品",
    ];
    for text in keywords {
        let scan: Vec<ProductId> = names
            .iter()
            .zip(1..)
            .filter(|(n, _)| n.to_lowercase().contains(&text.to_lowercase()))
            .map(|(_, id)| ProductId(id))
            .collect();
        let filter = ProductFilter { keyword: keyword(text), ..ProductFilter::default() };
        let by_rule: Vec<ProductId> = {
            let mut ids: Vec<ProductId> = model.search(&filter).iter().map(|s| s.id).collect();
            ids.sort_unstable();
            ids
        };
        assert_eq!(by_rule, scan, "{text}: the rule is a substring scan");
        let sorts: &[ProductSort] =
            if ["手", "小米手机", "pro"].contains(&text) { &ProductSort::ALL } else { &[ProductSort::Newest] };
        for &sort in sorts {
            let filter = ProductFilter { sort, ..filter.clone() };
            let expected = model.search(&filter);
            let what = format!("keyword {text:?} in {sort:?}");
            pages_of_sizes_equal(&[7, 100], &what, &expected, |p| store.search_products(&filter, p)).await;
        }
    }
    // the vocabulary gives each kind of keyword something to find, or not
    let count = |text: &str| names.iter().filter(|n| n.to_lowercase().contains(text)).count();
    assert!(count("手") > 100 && count("pro max") > 50 && count("机 k70") > 5);
    let both = names.iter().filter(|n| n.contains("小米") && n.contains("手机")).count();
    assert!(0 < count("小米手机") && count("小米手机") < both, "spaced names hold both words but not the phrase");
    let k = keyword("米手米").expect("keyword");
    assert!(k.tokens().iter().all(|t| search_tokens("米手 手米").contains(t)) && count("米手米") == 0);
    assert_eq!(count("不存在的商品"), 0);
}

/// Walks a few searches (every sort, on sale and any status, keywords,
/// price bounds) in one page of 100 and compares them with the model.
async fn answers_follow<S: Store>(store: &S, model: &Model, step: &str) {
    let filters = [
        ProductFilter::default(),
        ProductFilter { status: Some(ON), ..ProductFilter::default() },
        ProductFilter { status: Some(OFF), ..ProductFilter::default() },
        ProductFilter { keyword: keyword("旗舰"), ..ProductFilter::default() },
        ProductFilter { keyword: keyword("手机"), ..ProductFilter::default() },
        ProductFilter { keyword: keyword("mate 60"), ..ProductFilter::default() },
        ProductFilter { categories: Some(vec![CategoryId(2)]), ..ProductFilter::default() },
        ProductFilter { merchant: Some(MerchantId(2)), ..ProductFilter::default() },
        ProductFilter { max_price: Some(m("3999.00")), ..ProductFilter::default() },
    ];
    for filter in &filters {
        for sort in ProductSort::ALL {
            let filter = ProductFilter { sort, ..filter.clone() };
            let page = store.search_products(&filter, PageRequest::FIRST).await.expect("search");
            assert_eq!(page.items, model.search(&filter), "{step}: {filter:?}");
            assert_eq!(page.total, page.items.len() as u64, "{step}: {filter:?}");
        }
    }
}

/// The ids of a search of `filter` in `sort`, as the store answers it.
async fn ids<S: Store>(store: &S, filter: ProductFilter, sort: ProductSort) -> Vec<u64> {
    let page = store.search_products(&ProductFilter { sort, ..filter }, PageRequest::FIRST).await.expect("search");
    page.items.iter().map(|s| s.id.0).collect()
}

/// The search follows every write that moves what it indexes, in the same
/// batch: a rename (keyword hits), SKU prices (price sorts and bounds, also
/// when the cheapest SKU gets dearer), a new SKU sold in the batch that
/// creates it, reservations (no sale), commits and restocks (sales sort),
/// status and category changes; a batch a guard refuses moves nothing.
pub async fn product_search_follows_writes_in_the_same_batch<S: Store + 'static>(store: S) {
    let mut model = Model::default();
    let mut writes = vec![
        Write::Catalog(CatalogWrite::PutCategory(category(1, None, "数码"))),
        Write::Catalog(CatalogWrite::PutCategory(category(2, Some(1), "手机"))),
        Write::Catalog(CatalogWrite::PutMerchant(Merchant { id: MerchantId(1), name: "小米官方旗舰店".into() })),
        Write::Catalog(CatalogWrite::PutMerchant(Merchant { id: MerchantId(2), name: "华为官方旗舰店".into() })),
    ];
    writes.push(model.put_product(product(1, 1, 2, "小米14 手机", ON)));
    writes.push(model.put_sku(sku(11, 1, "3999.00", 10, 5)));
    writes.push(model.put_product(product(2, 2, 2, "华为 Mate 60", ON)));
    writes.push(model.put_sku(sku(21, 2, "5999.00", 10, 8)));
    writes.push(model.put_product(product(3, 2, 1, "荣耀 Magic6", ON)));
    writes.push(model.put_sku(sku(31, 3, "4299.00", 10, 2)));
    writes.push(model.put_product(product(4, 1, 1, "苹果 iPhone 15", ON)));
    writes.push(model.put_sku(sku(41, 4, "5999.00", 10, 0)));
    apply(&store, writes).await;
    answers_follow(&store, &model, "written").await;
    let any = ProductFilter::default;
    assert_eq!(ids(&store, any(), ProductSort::PriceAsc).await, vec![1, 3, 4, 2]);

    // a rename, a cheaper SKU and a reservation (not a sale) in one batch
    let writes = vec![
        model.put_product(product(2, 2, 2, "华为 Mate 60 旗舰手机", ON)),
        model.put_sku(sku(31, 3, "3599.00", 0, 0)),
        model.move_stock(SkuId(41), StockMove::Reserve, 4),
    ];
    apply(&store, writes).await;
    answers_follow(&store, &model, "renamed, repriced, reserved").await;
    assert_eq!(ids(&store, any(), ProductSort::PriceAsc).await, vec![3, 1, 4, 2]);
    assert_eq!(ids(&store, ProductFilter { keyword: keyword("旗舰"), ..any() }, ProductSort::Newest).await, vec![2]);
    assert_eq!(ids(&store, any(), ProductSort::Sales).await, vec![2, 1, 3, 4]);

    // the reservation is paid: four sold
    apply(&store, vec![model.move_stock(SkuId(41), StockMove::Commit, 4)]).await;
    answers_follow(&store, &model, "committed").await;
    assert_eq!(ids(&store, any(), ProductSort::Sales).await, vec![2, 1, 4, 3]);

    // a new, cheaper SKU sold in the batch that creates it
    let writes = vec![
        model.put_sku(sku(12, 1, "2999.00", 20, 0)),
        model.move_stock(SkuId(12), StockMove::Reserve, 6),
        model.move_stock(SkuId(12), StockMove::Commit, 6),
    ];
    apply(&store, writes).await;
    answers_follow(&store, &model, "new SKU sold").await;
    assert_eq!(ids(&store, any(), ProductSort::Sales).await, vec![1, 2, 4, 3]);
    assert_eq!(ids(&store, any(), ProductSort::PriceAsc).await, vec![1, 3, 4, 2]);

    // three come back: 8 sold like product 2, whose higher id goes first
    apply(&store, vec![model.move_stock(SkuId(12), StockMove::Restock, 3)]).await;
    answers_follow(&store, &model, "restocked").await;
    assert_eq!(ids(&store, any(), ProductSort::Sales).await, vec![2, 1, 4, 3]);

    // the cheapest SKU gets dearer: the lowest price is the other SKU's again
    apply(&store, vec![model.put_sku(sku(12, 1, "4999.00", 0, 0))]).await;
    answers_follow(&store, &model, "cheapest SKU dearer").await;
    assert_eq!(ids(&store, any(), ProductSort::PriceAsc).await, vec![3, 1, 4, 2]);

    // off sale, and stock received and written off (available moves, sales do not)
    let writes = vec![
        model.put_product(product(3, 2, 1, "荣耀 Magic6", OFF)),
        model.move_stock(SkuId(21), StockMove::Receive, 50),
        model.move_stock(SkuId(11), StockMove::WriteOff, 2),
    ];
    apply(&store, writes).await;
    answers_follow(&store, &model, "off sale").await;
    let on_sale = || ProductFilter { status: Some(ON), ..ProductFilter::default() };
    assert_eq!(ids(&store, on_sale(), ProductSort::PriceAsc).await, vec![1, 4, 2]);

    // a batch a guard refuses leaves every answer as it was
    let refused = vec![
        Write::Catalog(CatalogWrite::PutProduct(product(4, 1, 1, "苹果 iPhone 15 旗舰", ON))),
        Write::Catalog(CatalogWrite::PutSku(sku(41, 4, "1.00", 0, 0))),
        Write::Stock(StockWrite::Move { sku: SkuId(11), movement: StockMove::Reserve, quantity: 1 }),
        Write::Stock(StockWrite::Move { sku: SkuId(11), movement: StockMove::Commit, quantity: 1 }),
        Write::Stock(StockWrite::Move { sku: SkuId(41), movement: StockMove::Reserve, quantity: 999 }),
    ];
    assert!(matches!(store.apply(refused).await, Err(StoreError::Guard(_))));
    answers_follow(&store, &model, "refused batch").await;

    // back on sale in another category and merchant, and a new product sold at once
    let writes = vec![
        model.put_product(product(3, 1, 2, "荣耀 Magic6 旗舰手机", ON)),
        model.put_product(product(5, 2, 2, "华为 Mate 60 RS 旗舰", ON)),
        model.put_sku(sku(51, 5, "3999.00", 5, 0)),
        model.move_stock(SkuId(51), StockMove::Reserve, 5),
        model.move_stock(SkuId(51), StockMove::Commit, 5),
    ];
    apply(&store, writes).await;
    answers_follow(&store, &model, "moved and new").await;
    assert_eq!(
        ids(&store, ProductFilter { keyword: keyword("旗舰"), ..any() }, ProductSort::Newest).await,
        vec![5, 3, 2]
    );
    assert_eq!(
        ids(&store, ProductFilter { categories: Some(vec![CategoryId(1)]), ..any() }, ProductSort::Newest).await,
        vec![4]
    );
    assert_eq!(
        ids(&store, ProductFilter { keyword: keyword("mate 60"), ..any() }, ProductSort::PriceAsc).await,
        vec![5, 2]
    );
}
