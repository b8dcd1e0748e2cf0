"""Issue 12's findings at the edge of the API, each as it was found, through the real handlers:
text the database refuses, integers beyond their column, lax JSON types, PATCHes that clear a
required column or change nothing, and bodies refused at the door. Each is a 4xx problem that
changes nothing, never a 500."""

from __future__ import annotations

import json

import pytest

from functions import users as users_api
from tests.catalog_support import ADMIN, build_catalog, sql
from tests.support import bearer, call

CATEGORY = {"name_en": "Skin care", "name_ar": "العناية بالبشرة", "slug_en": "skin-care", "slug_ar": "بشرة"}
BRAND = {"name_en": "Nivea", "name_ar": "نيفيا", "slug": "nivea"}


@pytest.fixture
async def catalog(app_env, database_url):
    return await build_catalog(database_url)


def counts(database_url: str) -> list[tuple]:
    return sql(
        database_url,
        "SELECT (SELECT count(*) FROM categories), (SELECT count(*) FROM brands),"
        " (SELECT count(*) FROM product_images), (SELECT sum(version) FROM brands),"
        " (SELECT sum(version) FROM categories), (SELECT sum(version) FROM products),"
        " (SELECT sum(version) FROM variants)",
    )


def paths(problem: dict) -> list[str]:
    return sorted(e["path"] for e in problem.get("errors", []))


async def admin(function: str, method: str, path: str, body=None, **kwargs) -> tuple[int, dict]:
    status, headers, problem = await call(function, method, path, body=body, headers=ADMIN, **kwargs)
    if status >= 400:
        assert headers["content-type"].startswith("application/problem+json"), problem
    return status, problem


@pytest.mark.parametrize(
    "function,path,body,field",
    [
        ("create_category", "catalog/categories", CATEGORY | {"description_en": "gentle\u0000"}, "description_en"),
        ("create_category", "catalog/categories", CATEGORY | {"name_ar": "\ud800"}, "name_ar"),
        ("create_category", "catalog/categories", CATEGORY | {"is_active": 0}, "is_active"),
        ("create_category", "catalog/categories", CATEGORY | {"sort_order": 2**31}, "sort_order"),
        ("create_category", "catalog/categories", CATEGORY | {"sort_order": "3"}, "sort_order"),
        ("create_brand", "catalog/brands", BRAND | {"is_active": 0}, "is_active"),
        ("create_brand", "catalog/brands", BRAND | {"is_active": "false"}, "is_active"),
    ],
)
async def test_creates_refuse_bad_text_out_of_range_ints_and_lax_types(
    catalog, database_url, function, path, body, field
):
    before = counts(database_url)
    status, problem = await admin(function, "POST", path, body)
    assert status == 422 and paths(problem) == [field], problem
    assert counts(database_url) == before


@pytest.mark.parametrize(
    "body,field",
    [
        ({"url": "https://cdn.example/a.png", "sort_order": -788296495899884}, "sort_order"),
        ({"url": "https://cdn.example/\ud800.png"}, "url"),
        ({"url": "https://cdn.example/a.png", "alt_en": "a\u0000b"}, "alt_en"),
    ],
)
async def test_product_images_refuse_what_the_columns_cannot_hold(catalog, database_url, body, field):
    product_id = catalog.ids["panadol"]
    before = counts(database_url)
    status, problem = await admin(
        "add_product_image", "POST", f"catalog/products/{product_id}/images", body, route_params={"id": product_id}
    )
    assert status == 422 and paths(problem) == [field], problem
    assert counts(database_url) == before


PATCHES = [
    ("update_brand", "catalog/brands", "brand-panadol", ["is_active", "name_ar", "name_en", "slug"]),
    (
        "update_category",
        "catalog/categories",
        "pain",
        ["is_active", "name_ar", "name_en", "slug_ar", "slug_en", "sort_order"],
    ),
    (
        "update_product",
        "catalog/products",
        "panadol",
        [
            "attributes",
            "category_id",
            "is_active",
            "name_ar",
            "name_en",
            "requires_prescription",
            "slug_ar",
            "slug_en",
        ],
    ),
    ("update_variant", "catalog/variants", "variant-panadol", ["is_active", "options", "price", "sku", "sort_order"]),
]


@pytest.mark.parametrize("function,path,key,required", PATCHES)
async def test_a_patch_of_every_field_null_names_each_required_one(
    catalog, database_url, function, path, key, required
):
    from shared.catalog.models_admin import BrandPatch, CategoryPatch, ProductPatch, VariantPatch

    model = {"update_brand": BrandPatch, "update_category": CategoryPatch}.get(function) or (
        ProductPatch if function == "update_product" else VariantPatch
    )
    row_id = catalog.ids[key]
    before = counts(database_url)
    body = {name: None for name in model.model_fields if name != "version"} | {"version": 1}
    status, problem = await admin(function, "PATCH", f"{path}/{row_id}", body, route_params={"id": row_id})
    assert status == 422 and paths(problem) == required, problem
    assert {e["message"] for e in problem["errors"]} == {"cannot be null"}
    assert counts(database_url) == before


@pytest.mark.parametrize("function,path,key,_required", PATCHES)
@pytest.mark.parametrize("body", [{}, {"version": 1}])
async def test_a_catalog_patch_that_changes_nothing_is_422(catalog, database_url, function, path, key, _required, body):
    row_id = catalog.ids[key]
    before = counts(database_url)
    status, problem = await admin(function, "PATCH", f"{path}/{row_id}", body, route_params={"id": row_id})
    assert status == 422 and problem["errors"][0]["code"] == "nothing_to_change", problem
    assert counts(database_url) == before


async def test_a_nullable_column_may_still_be_cleared(catalog, database_url):
    brand_id = catalog.ids["brand-panadol"]
    status, body = await admin(
        "update_brand",
        "PATCH",
        f"catalog/brands/{brand_id}",
        {"logo_url": None, "version": 1},
        route_params={"id": brand_id},
    )
    assert status == 200 and body["logo_url"] is None and body["version"] == 2


@pytest.mark.parametrize(
    "patch,code",
    [({}, "nothing_to_change"), ({"preferred_language": None}, "literal_error"), ({"full_name": 5}, "string_type")],
)
async def test_patch_me_nothing_to_change_or_a_cleared_language_is_422(app_env, database_url, patch, code):
    headers = bearer(sub="edge-user", name="Huda")
    await call(users_api.get_me, "GET", "me", headers=headers)
    status, _, problem = await call(users_api.patch_me, "PATCH", "me", headers=headers, body=patch)
    assert status == 422 and [e["code"] for e in problem["errors"]] == [code], problem
    assert sql(database_url, "SELECT full_name, preferred_language FROM users") == [("Huda", "en")]


async def test_a_body_over_the_limit_is_413_before_it_is_parsed(app_env, database_url, monkeypatch):
    from shared.platform.config import reset_settings

    monkeypatch.setenv("MAX_REQUEST_BODY_BYTES", "4096")
    reset_settings()
    lines = [{"variant_id": "00000000-0000-4000-8000-000000000000", "quantity": 1}] * 2000
    raw = json.dumps({"lines": lines, "delivery_method": "pickup"}).encode()
    status, _, problem = await call(
        "place_order", "POST", "orders", headers=bearer(sub="big") | {"Idempotency-Key": "k-1"}, raw=raw
    )
    assert status == 413 and problem["code"] == "payload_too_large" and problem["max_bytes"] == 4096
    assert sql(database_url, "SELECT count(*) FROM orders") == [(0,)]


async def test_more_lines_than_any_limit_allows_stop_at_the_model(app_env, database_url):
    lines = [{"variant_id": "00000000-0000-4000-8000-000000000000", "quantity": 1}] * 201
    status, _, problem = await call(
        "place_order",
        "POST",
        "orders",
        headers=bearer(sub="many") | {"Idempotency-Key": "k-2"},
        body={"lines": lines, "delivery_method": "pickup"},
    )
    assert status == 422 and paths(problem) == ["lines"] and problem["errors"][0]["code"] == "too_long", problem


async def test_a_text_plain_body_is_415_naming_json(app_env, database_url):
    headers = bearer(sub="plain") | {"Content-Type": "text/plain"}
    status, _, problem = await call(users_api.patch_me, "PATCH", "me", headers=headers, raw=b'{"full_name": "X"}')
    assert status == 415 and problem["code"] == "unsupported_media_type" and "application/json" in problem["detail"]
    assert sql(database_url, "SELECT count(*) FROM users WHERE full_name = 'X'") == [(0,)]


async def test_a_deeply_nested_body_is_400(app_env):
    raw = b"[" * 100_000 + b"]" * 100_000
    status, _, problem = await call(users_api.patch_me, "PATCH", "me", headers=bearer(sub="deep"), raw=raw)
    assert status == 400 and problem["code"] == "malformed_json"


@pytest.mark.parametrize(
    "function,path,params,route_params,field",
    [
        ("get_category", "categories/x", {}, {"slug": "pain\x00"}, "slug"),
        ("get_product_by_slug", "products/by-slug/x", {}, {"slug": "\ud800"}, "slug"),
        ("list_products", "products", {"q": "pana\x00dol"}, {}, "q"),
        ("list_products", "products", {"attr.dosage_form": "tab\x00let"}, {}, "attr.dosage_form"),
    ],
)
async def test_text_in_paths_and_queries_never_reaches_sql(catalog, function, path, params, route_params, field):
    status, _, problem = await call(function, "GET", path, params=params, route_params=route_params)
    assert status == 422 and paths(problem) == [field], problem
