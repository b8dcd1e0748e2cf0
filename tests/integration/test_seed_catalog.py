"""scripts.seed_catalog against a real PostgreSQL: the generated catalog obeys the schema's rules,
keeps the triggers and indexes it suspends during the load, and is reproducible from its seed."""

from __future__ import annotations

import psycopg
import pytest

from scripts.seed_catalog import CatalogExists, CatalogInUse, seed_catalog

PRODUCTS = 200
ARABIC = "[\u0600-\u06ff]"


def rows(database_url: str, query: str, *params: object) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, params).fetchall()


def scalar(database_url: str, query: str, *params: object) -> object:
    return rows(database_url, query, *params)[0][0]


def snapshot(database_url: str) -> dict[str, list[tuple]]:
    return {
        "products": rows(
            database_url,
            "SELECT id, slug_en, slug_ar, name_ar, attributes, min_price, created_at FROM products ORDER BY id",
        ),
        "variants": rows(database_url, "SELECT id, sku, barcode, price, sale_price FROM variants ORDER BY id"),
        "offers": rows(database_url, "SELECT id, seller_id, price, on_hand FROM offers ORDER BY id"),
    }


@pytest.fixture
def seeded(database_url: str) -> str:
    seed_catalog(database_url, products=PRODUCTS, sellers=5, offers_per_variant=3, seed=7, progress=False)
    return database_url


def test_counts_match_the_summary_and_every_product_has_variants(database_url):
    summary = seed_catalog(database_url, products=PRODUCTS, sellers=5, offers_per_variant=3, seed=7, progress=False)
    counted = {
        table: scalar(database_url, f"SELECT count(*) FROM {table}")
        for table in ("products", "variants", "offers", "product_images", "sellers", "categories", "brands")
    }
    assert counted == {
        "products": PRODUCTS,
        "variants": summary.variants,
        "offers": summary.offers,
        "product_images": summary.images,
        "sellers": 5,
        "categories": summary.categories,
        "brands": summary.brands,
    }
    per_product = rows(
        database_url,
        "SELECT min(n), max(n) FROM (SELECT count(v.id) AS n FROM products p "
        "LEFT JOIN variants v ON v.product_id = p.id GROUP BY p.id) c",
    )
    assert per_product == [(1, 3)]
    assert scalar(database_url, "SELECT count(*) FROM categories WHERE parent_id IS NOT NULL") > 0
    assert summary.offers == 3 * summary.variants  # every variant offered by 3 of the 5 sellers
    assert (
        scalar(
            database_url,
            "SELECT count(*) FROM (SELECT variant_id FROM offers GROUP BY variant_id HAVING count(*) <> 3) odd",
        )
        == 0
    )


def test_names_and_slugs_are_bilingual_and_unique(seeded):
    for table in ("products", "categories", "brands", "sellers"):
        assert scalar(seeded, f"SELECT count(*) FROM {table} WHERE name_ar !~ %s", ARABIC) == 0, table
    assert rows(seeded, "SELECT count(DISTINCT slug_en), count(DISTINCT slug_ar) FROM products") == [
        (PRODUCTS, PRODUCTS)
    ]
    assert scalar(seeded, "SELECT count(*) FROM products WHERE slug_ar ~ '\\s|/' OR slug_ar !~ %s", ARABIC) == 0
    assert scalar(seeded, "SELECT count(*) FROM products WHERE description_ar !~ %s", ARABIC) == 0
    keys = {
        "dosage_form",
        "strength",
        "active_ingredient",
        "active_ingredient_ar",
        "generic_name",
        "manufacturer",
        "pack_size",
    }
    assert scalar(seeded, "SELECT count(*) FROM products WHERE NOT attributes ?& %s", list(keys)) == 0
    assert rows(seeded, "SELECT bool_or(requires_prescription), bool_and(requires_prescription) FROM products") == [
        (True, False)
    ]


def test_prices_stock_and_barcodes_are_plausible(seeded):
    assert (
        scalar(
            seeded,
            "SELECT count(*) FROM variants WHERE price <> round(price, 2) "
            "OR sale_price >= price OR barcode !~ '^[0-9]{13}$'",
        )
        == 0
    )
    assert scalar(seeded, "SELECT count(*) FROM variants WHERE sale_price IS NOT NULL") > 0
    assert scalar(seeded, "SELECT count(*) FROM variants WHERE barcode IS NULL") > 0
    stock = rows(
        seeded,
        "SELECT min(on_hand), max(on_hand), max(reserved), count(*) FILTER (WHERE on_hand = 0), "
        "count(*) FILTER (WHERE price IS NOT NULL) FROM offers",
    )[0]
    assert stock[0] == 0 and stock[1] <= 200 and stock[2] == 0 and stock[3] > 0 and stock[4] > 0


def test_min_price_and_search_documents_are_filled(seeded):
    assert (
        scalar(
            seeded, "SELECT count(*) FROM products WHERE min_price IS NULL OR search_ar IS NULL OR search_en IS NULL"
        )
        == 0
    )
    # Every brand's name is in the typo lexicon (filled by the search trigger during the load).
    assert (
        scalar(
            seeded,
            "SELECT count(*) FROM brands b, souq_search_words(b.name_en) AS brand_word "
            "WHERE EXISTS (SELECT 1 FROM products p WHERE p.brand_id = b.id) "
            "AND NOT EXISTS (SELECT 1 FROM search_words w WHERE w.word = brand_word)",
        )
        == 0
    )
    # The set-based refresh agrees with the per-product function the triggers use.
    expected = rows(seeded, "SELECT id, min_price FROM products ORDER BY id")
    with psycopg.connect(seeded) as conn:
        conn.execute("SELECT products_refresh_min_price(id) FROM products")
        assert conn.execute("SELECT id, min_price FROM products ORDER BY id").fetchall() == expected
    by_brand_ar = (
        "SELECT count(*) FROM products p JOIN brands b ON b.id = p.brand_id "
        "WHERE NOT p.search_ar @@ plainto_tsquery('arabic', souq_normalize_ar(b.name_ar))"
    )
    assert scalar(seeded, by_brand_ar) == 0


def test_suspended_triggers_and_indexes_are_back(database_url):
    indexes = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
    before = rows(database_url, indexes)
    seed_catalog(database_url, products=50, progress=False)
    assert rows(database_url, indexes) == before
    assert rows(
        database_url,
        "SELECT tgname, tgenabled FROM pg_trigger WHERE tgname IN "
        "('variants_min_price', 'offers_min_price', 'products_search') ORDER BY 1",
    ) == [("offers_min_price", "O"), ("products_search", "O"), ("variants_min_price", "O")]
    # and the re-enabled trigger keeps min_price current
    variant, product = rows(database_url, "SELECT v.id, v.product_id FROM variants v ORDER BY v.id LIMIT 1")[0]
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE offers SET price = 0.5 WHERE variant_id = %s", (variant,))
    assert scalar(database_url, "SELECT min_price FROM products WHERE id = %s", product) == pytest.approx(0.5)


def test_existing_catalog_is_refused_skipped_or_replaced_deterministically(seeded):
    before = snapshot(seeded)
    with pytest.raises(CatalogExists):
        seed_catalog(seeded, products=10, progress=False)
    assert seed_catalog(seeded, products=10, on_existing="skip", progress=False) is None
    assert snapshot(seeded) == before
    seed_catalog(seeded, products=PRODUCTS, sellers=5, seed=7, on_existing="replace", progress=False)
    assert snapshot(seeded) == before  # same seed, same rows, ids included
    seed_catalog(seeded, products=PRODUCTS, sellers=5, seed=8, on_existing="replace", progress=False)
    assert snapshot(seeded)["products"] != before["products"]


def test_replace_empties_referencing_tables_but_never_deletes_their_rows(seeded):
    with psycopg.connect(seeded) as conn:  # like orders: rows elsewhere that point into the catalog
        conn.execute("CREATE TABLE wishlist (product_id uuid NOT NULL REFERENCES products (id))")
        conn.execute("INSERT INTO wishlist SELECT id FROM products LIMIT 1")
    before = snapshot(seeded)
    with pytest.raises(CatalogInUse, match="wishlist"):
        seed_catalog(seeded, products=10, on_existing="replace", progress=False)
    assert snapshot(seeded) == before and scalar(seeded, "SELECT count(*) FROM wishlist") == 1
    with psycopg.connect(seeded) as conn:
        conn.execute("DELETE FROM wishlist")
    seed_catalog(seeded, products=10, on_existing="replace", progress=False)
    assert scalar(seeded, "SELECT count(*) FROM products") == 10
