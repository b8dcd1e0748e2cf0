"""The catalog's pure decisions (shared/catalog/rules.py), without a database."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from uuid import UUID, uuid4

import pytest

from shared.catalog import rules
from shared.catalog.errors import CatalogError
from shared.catalog.models import CategoryNode, CategoryRow, ProductQuery, ProductSummaryRow
from shared.catalog.models_admin import ProductPatch
from shared.platform.auth import Principal
from shared.platform.errors import (
    Conflict,
    NotFound,
    PlatformError,
    PreconditionRequired,
    ValidationFailed,
)
from shared.platform.pagination import encode_cursor

NOW = datetime(2026, 11, 21, 8, 30, tzinfo=UTC)


def category(slug: str, parent: CategoryRow | None = None, *, ar: str | None = None) -> CategoryRow:
    return CategoryRow(
        id=uuid4(),
        parent_id=parent.id if parent else None,
        name_en=slug.title(),
        name_ar=f"ar {slug}",
        slug_en=slug,
        slug_ar=ar or f"{slug}-ar",
        description_en=None,
        description_ar=None,
        image_url=None,
        sort_order=0,
        is_active=True,
        version=1,
        created_at=NOW,
        updated_at=NOW,
    )


def summary_row(**overrides) -> ProductSummaryRow:
    fields = {
        "id": uuid4(),
        "name_en": "Panadol",
        "name_ar": "بنادول",
        "slug_en": "panadol",
        "slug_ar": "بنادول",
        "requires_prescription": False,
        "min_price": Decimal("12.50"),
        "created_at": NOW,
        "brand_id": None,
        "brand_slug": None,
        "brand_name_en": None,
        "brand_name_ar": None,
        "image_url": None,
        "in_stock": True,
        "rank": 0.1 + 0.2,
    }
    return ProductSummaryRow(**(fields | overrides))


# --- localization, slugs, prices, stock ---------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "en", "ar", "expected"),
    [("en", "Tablets", "أقراص", "Tablets"), ("ar", "Tablets", "أقراص", "أقراص"), ("ar", "Tablets", None, "Tablets")],
)
def test_pick_prefers_the_asked_language_then_the_other(lang, en, ar, expected):
    assert rules.pick(lang, en, ar) == expected
    assert rules.pick("en", None, "أقراص") == "أقراص"
    assert rules.LANGS == ("en", "ar")


@pytest.mark.parametrize("slug", ["panadol", "panadol-extra-500mg", "a1"])
def test_english_slugs_are_lowercase_words_joined_by_hyphens(slug):
    assert re.match(rules.SLUG_EN, slug)


@pytest.mark.parametrize("slug", ["Panadol", "panadol--extra", "-panadol", "panadol-", "بنادول", "pan adol"])
def test_english_slugs_refuse_anything_else(slug):
    assert not re.match(rules.SLUG_EN, slug)


def test_arabic_slugs_take_arabic_letters_and_digits_latin_and_hyphens():
    for slug in ("بنادول", "بنادول-اكسترا", "بنادول-500mg", "فيتامين-د٣"):
        assert re.match(rules.SLUG_AR, slug), slug
    for slug in ("بنادول--اكسترا", "-بنادول", "PANADOL", "بنادول اكسترا"):
        assert not re.match(rules.SLUG_AR, slug), slug


def test_a_sale_price_is_lower_than_the_price():
    assert rules.sale_price_ok(Decimal("10"), None)
    assert rules.sale_price_ok(Decimal("10"), Decimal("9.99"))
    assert not rules.sale_price_ok(Decimal("10"), Decimal("10"))
    assert not rules.sale_price_ok(Decimal("10"), Decimal("12"))


def test_the_effective_price_is_the_sale_price_when_there_is_one():
    assert rules.effective_price(Decimal("10"), Decimal("8")) == Decimal("8")
    assert rules.effective_price(Decimal("10"), None) == Decimal("10")


@pytest.mark.parametrize(
    ("available", "threshold", "expected"),
    [
        (10, 5, (10, True, False)),
        (5, 5, (5, True, True)),
        (1, 5, (1, True, True)),
        (0, 5, (0, False, False)),
        (-2, 5, (0, False, False)),
    ],
)
def test_offer_stock_never_shows_a_negative_count(available, threshold, expected):
    assert rules.offer_stock(available, threshold) == expected


# --- listing queries and cursors -----------------------------------------------------------


def test_attribute_filters_are_gathered_from_attr_parameters():
    params = {"q": "x", "attr.dosage_form": "tablet", "attr.strength": "500mg"}
    assert rules.collect_attribute_filters(params) == {
        "q": "x",
        "attributes": {"dosage_form": "tablet", "strength": "500mg"},
    }
    assert rules.collect_attribute_filters({}) == {"attributes": {}}


@pytest.mark.parametrize("params", [{"attr.Bad": "x"}, {"attr.form": ""}, {"attr.form": "x" * 101}, {"attr.": "x"}])
def test_a_bad_attribute_filter_is_refused(params):
    with pytest.raises(ValueError, match="attribute filters"):
        rules.collect_attribute_filters(params)


def test_at_most_five_attribute_filters():
    five = {f"attr.k{i}": "v" for i in range(rules.MAX_ATTRIBUTE_FILTERS)}
    assert len(rules.collect_attribute_filters(five)["attributes"]) == 5
    with pytest.raises(ValueError, match="at most 5"):
        rules.collect_attribute_filters(five | {"attr.k9": "v"})
    assert rules.ATTRIBUTE_PARAM.match("attr.dosage_form").group(1) == "dosage_form"


def test_the_sort_defaults_to_relevance_when_searching_else_newest():
    assert rules.effective_sort(None, "paracetamol") == "relevance"
    assert rules.effective_sort(None, None) == "newest"
    assert rules.effective_sort("price_asc", "paracetamol") == "price_asc"


def test_arabic_letters_choose_the_arabic_document():
    assert rules.is_arabic("باراسيتامول")
    assert rules.is_arabic("vitamin د")
    assert not rules.is_arabic("paracetamol")
    assert not rules.is_arabic(None)
    assert rules.ARABIC_LETTER.search("ب")


def test_a_search_cursor_remembers_whether_it_ran_relaxed():
    assert rules.cursor_order(ProductQuery(q="panadol"), "relaxed") == "relevance:relaxed"
    assert rules.cursor_order(ProductQuery(q="panadol", sort="newest"), "strict") == "newest:strict"
    assert rules.cursor_order(ProductQuery(sort="price_asc"), "strict") == "price_asc"


def test_the_first_page_starts_at_the_top_in_strict_mode():
    assert rules.listing_start(ProductQuery()) == (None, "strict")
    assert rules.listing_start(ProductQuery(q="panadol")) == (None, "strict")


def test_a_cursor_gives_the_key_and_the_mode_it_was_issued_in():
    row_id = uuid4()
    relaxed = encode_cursor("relevance:relaxed", "0.5", str(row_id))
    assert rules.listing_start(ProductQuery(q="panadl", cursor=relaxed)) == (("0.5", row_id), "relaxed")
    browsing = encode_cursor("newest", NOW.isoformat(), str(row_id))
    assert rules.listing_start(ProductQuery(cursor=browsing)) == ((NOW.isoformat(), row_id), "strict")


def test_a_cursor_of_another_order_is_a_422():
    cursor = encode_cursor("price_asc", "1.00", str(uuid4()))
    with pytest.raises(ValidationFailed) as raised:
        rules.listing_start(ProductQuery(q="panadol", cursor=cursor))
    assert raised.value.errors[0].code == PlatformError.INVALID_CURSOR
    with pytest.raises(ValidationFailed):
        rules.listing_start(ProductQuery(sort="newest", cursor=cursor))


def test_the_sort_value_round_trips_exactly():
    row = summary_row()
    assert rules.sort_value(row, "newest") == NOW.isoformat()
    assert float(rules.sort_value(row, "relevance")) == 0.1 + 0.2
    assert rules.sort_value(row, "price_asc") == rules.sort_value(row, "price_desc") == "12.50"


def test_a_listing_cache_key_ignores_the_cursor_and_the_language_parameter():
    parts = rules.listing_cache_parts(ProductQuery(category="pain-relief"), "en")
    assert parts[:2] == ("listing", "en") and len(parts[2]) == 32
    assert rules.listing_cache_parts(ProductQuery(category="pain-relief", lang="ar"), "en") == parts
    assert rules.listing_cache_parts(ProductQuery(category="vitamins"), "en") != parts
    assert rules.listing_cache_parts(ProductQuery(category="pain-relief"), "ar")[2] == parts[2]


# --- categories ----------------------------------------------------------------------------


def test_children_are_grouped_under_their_parent_in_order():
    root = category("medicines")
    pain, fever = category("pain", root), category("fever", root)
    other = category("beauty")
    children = rules.children_by_parent([root, pain, other, fever])
    assert children[None] == [root, other]
    assert children[root.id] == [pain, fever]
    assert pain.id not in children


def test_the_tree_grows_from_the_roots_and_hides_children_of_inactive_parents():
    root = category("medicines")
    pain = category("pain", root)
    headache = category("headache", pain)
    orphan = category("orphan", category("inactive-parent"))
    tree = CategoryNode.tree(rules.children_by_parent([root, pain, orphan, headache]), "en")
    assert [node.slug for node in tree] == ["medicines"]
    assert [child.slug for child in tree[0].children] == ["pain"]
    assert [grandchild.slug for grandchild in tree[0].children[0].children] == ["headache"]


def test_a_category_path_runs_from_the_root():
    root = category("medicines")
    pain = category("pain", root, ar="ألم")
    headache = category("headache", pain)
    rows = [root, pain, headache]
    assert rules.category_path(rows, "headache") == [root, pain, headache]
    assert rules.category_path(rows, "ألم") == [root, pain]
    assert rules.category_path(rows, "medicines") == [root]
    assert rules.category_path(rows, "nothing") is None


def test_a_category_under_an_inactive_parent_has_no_path():
    root = category("medicines")
    pain = category("pain", root)
    headache = category("headache", pain)
    assert rules.category_path([root, headache], "headache") is None  # pain is inactive: not in the rows


def test_root_slugs_are_the_english_slugs_of_the_roots():
    root, beauty = category("medicines"), category("beauty")
    assert rules.root_slugs([root, category("pain", root), beauty]) == ["medicines", "beauty"]


# --- cache tags ----------------------------------------------------------------------------


def test_a_write_invalidates_what_shows_it():
    product_id, variant = uuid4(), SimpleNamespace(product_id=uuid4())
    structure = (rules.TAG_LISTINGS, rules.TAG_STRUCTURE)
    assert rules.write_tags("categories", None) == (rules.TAG_CATEGORIES, *structure)
    assert rules.write_tags("brands", None) == (rules.TAG_BRANDS, *structure)
    assert rules.write_tags("products", SimpleNamespace(id=product_id)) == (f"product:{product_id}", "listings")
    assert rules.write_tags("variants", variant) == rules.product_write_tags(variant.product_id)
    assert rules.product_tag(product_id) == f"product:{product_id}"
    assert {rules.TAG_CATEGORIES, rules.TAG_BRANDS, rules.TAG_LISTINGS, rules.TAG_STRUCTURE} == {
        "categories",
        "brands",
        "listings",
        "catalog-structure",
    }


# --- admin writes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body_version", "if_match", "expected"),
    [(3, None, 3), (3, '"7"', 3), (None, '"7"', 7), (None, "7", 7), (None, 'W/"12"', 12), (None, ' "4" ', 4)],
)
def test_the_version_comes_from_the_body_else_if_match(body_version, if_match, expected):
    assert rules.required_version(body_version, if_match) == expected


@pytest.mark.parametrize("if_match", [None, "", "*", '"abc"', '"1234567890"'])
def test_no_readable_version_is_a_428(if_match):
    with pytest.raises(PreconditionRequired) as raised:
        rules.required_version(None, if_match)
    assert raised.value.code == PlatformError.VERSION_REQUIRED
    assert not rules.IF_MATCH.match(if_match or "")


def test_changes_are_the_fields_sent_without_the_version():
    patch = ProductPatch.model_validate({"name_en": "Panadol Night", "brand_id": None, "version": 2})
    assert rules.changes_of(patch) == {"name_en": "Panadol Night", "brand_id": None}


def test_an_update_that_matched_nothing_is_404_or_409():
    row_id = uuid4()
    gone = rules.failed_update("variants", row_id, 2, None)
    assert isinstance(gone, NotFound) and gone.code == CatalogError.VARIANT_NOT_FOUND
    assert gone.detail == f"no variant {row_id}"
    stale = rules.failed_update("brands", row_id, 2, 3)
    assert isinstance(stale, Conflict) and stale.code == CatalogError.VERSION_CONFLICT
    assert stale.extra == {"current_version": 3}
    assert set(rules.KIND_LABEL) == set(rules.KIND_NOT_FOUND) == {"categories", "brands", "products", "variants"}


def test_the_column_comes_from_postgres_default_constraint_name():
    assert rules.constraint_column("variants_product_id_fkey", "variants", "_fkey") == "product_id"
    assert rules.constraint_column("categories_slug_en_key", "categories", "_key") == "slug_en"
    assert rules.constraint_column(None, None, "_key") == "record"


def test_a_missing_reference_named_by_the_url_is_a_404_else_a_422():
    in_path = frozenset({"product_id"})
    missing = rules.missing_reference("product_id", in_path)
    assert isinstance(missing, NotFound) and missing.code == CatalogError.PRODUCT_NOT_FOUND
    assert missing.detail == "no such product"
    body = rules.missing_reference("category_id", in_path)
    assert isinstance(body, ValidationFailed) and body.code == CatalogError.UNKNOWN_REFERENCE
    assert body.errors[0].path == "category_id" and body.errors[0].code == PlatformError.NOT_FOUND
    assert rules.PATH_NOT_FOUND["seller_id"] == CatalogError.SELLER_NOT_FOUND


def test_a_duplicate_value_is_a_409_on_its_field():
    problem = rules.duplicate_value("slug_en")
    assert isinstance(problem, Conflict) and problem.code == CatalogError.ALREADY_EXISTS
    assert (problem.errors[0].path, problem.errors[0].code) == ("slug_en", CatalogError.TAKEN)


def test_broken_checks_explain_themselves():
    cycle = rules.broken_check("categories_no_cycle")
    assert isinstance(cycle, ValidationFailed) and cycle.code == CatalogError.CATEGORY_CYCLE
    assert cycle.errors[0].path == "parent_id"
    reserved = rules.broken_check("offers_reserved_within_on_hand")
    assert isinstance(reserved, Conflict) and reserved.code == CatalogError.BELOW_RESERVED
    other = rules.broken_check("variants_price_positive")
    assert isinstance(other, ValidationFailed) and other.code == CatalogError.CONSTRAINT_VIOLATED


# --- sellers -------------------------------------------------------------------------------


def test_a_seller_acts_only_for_itself_and_admins_for_anyone():
    seller_id = uuid4()
    rules.own_seller(Principal("u1", frozenset({"seller"}), seller_id=str(seller_id)), seller_id)
    rules.own_seller(Principal("u2", frozenset({"admin"})), seller_id)
    with pytest.raises(NotFound) as raised:
        rules.own_seller(Principal("u3", frozenset({"seller"}), seller_id=str(uuid4())), seller_id)
    assert raised.value.code == CatalogError.SELLER_NOT_FOUND
    assert rules.seller_not_found(seller_id).detail == f"no seller {seller_id}"


def test_a_sellers_offers_page_starts_after_a_variant_id():
    variant_id = uuid4()
    assert rules.offers_after(None) == rules.FIRST_OFFERS == UUID(int=0)
    assert rules.offers_after(encode_cursor(rules.OFFER_ORDER, str(variant_id))) == variant_id
    with pytest.raises(ValidationFailed):
        rules.offers_after(encode_cursor("created_desc", str(variant_id)))


# --- the warm_cache timer ------------------------------------------------------------------


def test_the_timer_warms_each_language_then_the_top_products():
    top = [uuid4(), uuid4()]
    steps = rules.warm_steps(top, ["medicines", "beauty"])
    assert len(steps) == 2 * (3 + 2 + 2)
    english = steps[:7]
    assert [(s.kind, s.category, s.product_id) for s in english] == [
        ("categories", None, None),
        ("brands", None, None),
        ("listings", None, None),
        ("listings", "medicines", None),
        ("listings", "beauty", None),
        ("products", None, top[0]),
        ("products", None, top[1]),
    ]
    assert {s.lang for s in english} == {"en"} and {s.lang for s in steps[7:]} == {"ar"}
    assert {s.kind for s in steps} == set(rules.WARM_KINDS)
    bare = [rules.WarmStep(kind, lang) for lang in ("en", "ar") for kind in ("categories", "brands", "listings")]
    assert rules.warm_steps([], []) == bare


@pytest.mark.parametrize(
    "asked,header,expected",
    [
        ("ar", "en-US,en;q=0.9", "ar"),  # ?lang= wins over the header
        (None, "ar-SA,ar;q=0.9,en;q=0.8", "ar"),
        (None, "fr-FR, en-GB;q=0.8, ar;q=0.5", "en"),  # the first tag we serve, in header order
        (None, "fr-FR,de", "en"),
        (None, None, "en"),
        (None, "", "en"),
    ],
)
def test_the_language_is_the_query_then_the_first_served_accept_language_tag_then_english(asked, header, expected):
    assert rules.language(asked, header) == expected
