#!/usr/bin/env python3
"""The benchmark catalogue as COPY text rows for PostgreSQL (bench/catalog/run.sh).

The same catalogue as `mallkit serve --bench-catalog N` writes in memory
(cli/src/bench_catalog.rs): splitmix64 seeded per product, drawn in the same
order, so both stores hold the same rows.

    gen.py categories | merchants      the fixed rows
    gen.py products N | skus N         product / SKU rows 1..N
    gen.py --selftest                  one line checked by the Rust unit test

products rows fill migration 0011's columns: min_price, max_price (lowest and
highest SKU price), sales (units sold over the SKUs), search_text (the name
lower-cased) and search_tokens (every character and adjacent character pair
of search_text, sorted by code point, deduplicated), as core's
catalog::search::{summarize, search_text, search_tokens} compute them.
"""
import sys

BRANDS = ["小米", "华为", "苹果", "荣耀", "OPPO", "vivo"]
NOUNS = ["手机", "耳机", "手表", "平板", "电脑", "充电器", "音箱"]
EDITIONS = ["", " Pro", " Max", " Lite"]
VERSIONS = ["标准版", "高配版", "顶配版"]
ROOTS = ["手机数码", "电脑办公", "智能生活"]
CHILDREN = ["手机", "耳机", "充电器", "手机配件", "笔记本", "平板", "显示器", "键盘鼠标", "手表", "音箱", "智能家居", "健康"]
MERCHANTS = 50
MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
SEED = 0x6D616C6C6B697438


def mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


class Rng:
    def __init__(self, product):
        self.state = mix(product ^ SEED)

    def below(self, n):
        self.state = (self.state + GOLDEN) & MASK
        return mix(self.state) % n

    def pick(self, items):
        return items[self.below(len(items))]


def product(pid):
    """(name, merchant, category, status, [(sku_id, version, price_fen, sold, available)])."""
    rng = Rng(pid)
    brand = rng.pick(BRANDS)
    noun = rng.pick(NOUNS)
    model = 1 + rng.below(99)
    edition = rng.pick(EDITIONS)
    merchant = 1 + rng.below(MERCHANTS)
    category = 4 + rng.below(len(CHILDREN))
    status = "off_sale" if rng.below(20) == 0 else "on_sale"
    base = 990 + rng.below(999_000)
    skus = []
    for k in range(3):
        step = rng.below(50_000)
        sold = rng.below(5_000)
        available = rng.below(1_000)
        skus.append((3 * (pid - 1) + k + 1, VERSIONS[k], base + k * step, sold, available))
    return f"{brand}{noun} {model}{edition}", merchant, category, status, skus


def yuan(fen):
    return f"{fen // 100}.{fen % 100:02d}"


def tokens(name):
    chars = list(name.lower())
    return sorted(set(chars) | {a + b for a, b in zip(chars, chars[1:])})


def array(items):
    # A TEXT[] literal with every element quoted; COPY text format then
    # needs backslashes doubled (names hold none, but stay correct).
    quoted = ('"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"' for t in items)
    return ("{" + ",".join(quoted) + "}").replace("\\", "\\\\")


def text(value):
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def main(argv):
    out = sys.stdout
    what = argv[1] if len(argv) > 1 else ""
    if what == "--selftest":
        name, merchant, category, status, skus = product(1)
        status_name = "OnSale" if status == "on_sale" else "OffSale"
        print(f"{name} {merchant} {category} {status_name} {yuan(skus[0][2])} {yuan(skus[2][2])} {sum(s[3] for s in skus)}")
        # Sums over products 1..1000: on sale, merchant+category, name code points, SKU price fen, sold, available.
        sums = [0] * 6
        for pid in range(1, 1001):
            name, merchant, category, status, skus = product(pid)
            sums[0] += status == "on_sale"
            sums[1] += merchant + category
            sums[2] += sum(map(ord, name))
            for _, _, price, sold, available in skus:
                sums[3] += price
                sums[4] += sold
                sums[5] += available
        print(" ".join(map(str, sums)))
    elif what == "categories":
        for i, name in enumerate(ROOTS):
            out.write(f"{i + 1}\t\\N\t{name}\t{i + 1}\n")
        for i, name in enumerate(CHILDREN):
            out.write(f"{4 + i}\t{1 + i // 4}\t{name}\t{i % 4 + 1}\n")
    elif what == "merchants":
        for m in range(1, MERCHANTS + 1):
            out.write(f"{m}\t{BRANDS[(m - 1) % 6]}旗舰店{m}\n")
    elif what in ("products", "skus"):
        n = int(argv[2])
        buf = []
        for pid in range(1, n + 1):
            name, merchant, category, status, skus = product(pid)
            if what == "products":
                prices = [s[2] for s in skus]
                sales = sum(s[3] for s in skus)
                buf.append(
                    f"{pid}\t{merchant}\t{category}\t{text(name)}\t{status}\t{yuan(min(prices))}\t{yuan(max(prices))}"
                    f"\t{sales}\t{text(name.lower())}\t{array(tokens(name))}\n"
                )
            else:
                for sku_id, version, price, sold, available in skus:
                    buf.append(f'{sku_id}\t{pid}\t{{"版本": "{version}"}}\t{yuan(price)}\t\\N\t500\t{available}\t0\t{sold}\n')
            if len(buf) >= 10_000:
                out.write("".join(buf))
                buf.clear()
        out.write("".join(buf))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
