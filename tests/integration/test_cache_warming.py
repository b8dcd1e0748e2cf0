"""The warm_cache timer fills the hot catalog keys, is idempotent and respects its deadline."""

from __future__ import annotations

from tests.catalog_support import build_catalog
from tests.support import FakeContext, app_function, call


async def test_warmed_keys_answer_without_the_database(app_env, database_url, monkeypatch):
    from shared.catalog import repo, repo_listing
    from shared.catalog.service import warm_cache

    catalog = await build_catalog(database_url)
    first = await warm_cache()
    assert first == {"categories": 2, "brands": 2, "listings": 2 * (1 + 3), "products": 2 * 4, "skipped": 0}
    assert await warm_cache() == first  # idempotent: the same keys, nothing else

    def no_database(*args, **kwargs):
        raise AssertionError("a warmed key went to PostgreSQL")

    monkeypatch.setattr(repo, "get_product", no_database)
    monkeypatch.setattr(repo, "active_categories", no_database)
    monkeypatch.setattr(repo_listing, "list_products", no_database)
    product_id = catalog.ids["panadol"]
    for lang in ("en", "ar"):
        status, _, _ = await call(
            "get_product", "GET", "products/x", params={"lang": lang}, route_params={"id": product_id}
        )
        assert status == 200
        status, _, body = await call("list_categories", "GET", "categories", params={"lang": lang})
        assert status == 200 and body["lang"] == lang
        status, _, _ = await call("list_products", "GET", "products", params={"lang": lang, "category": "pain-relief"})
        assert status == 200


async def test_deadline_bounds_the_run(app_env, database_url):
    from shared.catalog.service import warm_cache

    await build_catalog(database_url)
    result = await warm_cache(deadline_seconds=0)
    assert result["skipped"] == 2 * (2 + 1 + 3 + 4) and result["products"] == 0


async def test_timer_function_warms_the_cache(app_env, database_url, monkeypatch):
    from shared.catalog import repo

    catalog = await build_catalog(database_url)
    await app_function("warm_cache")(timer=None, context=FakeContext("warm_cache"))

    def no_database(*args, **kwargs):
        raise AssertionError("the timer did not warm this key")

    monkeypatch.setattr(repo, "get_product", no_database)
    product_id = catalog.ids["brufen"]
    status, _, body = await call("get_product", "GET", "products/x", route_params={"id": product_id})
    assert status == 200 and body["id"] == product_id


async def test_top_products_are_the_most_ordered_then_the_newest(app_env, database_url):
    from shared.catalog import repo
    from shared.data import db
    from tests.order_support import line, place, stocked_catalog
    from tests.support import bearer

    async def top_product_ids(limit: int):
        async with db.connection(read_only=True) as conn:
            return await repo.top_product_ids(conn, limit)

    catalog = await stocked_catalog(database_url)
    newest_first = [catalog.ids[key] for key in ("vitamin", "augmentin", "brufen", "panadol")]
    assert [str(i) for i in await top_product_ids(4)] == newest_first  # no orders yet: newest
    status, _, _ = await place(bearer(sub="warm-buyer"), [line(catalog, "panadol", 3), line(catalog, "brufen", 1)])
    assert status == 201
    top = [str(i) for i in await top_product_ids(3)]
    assert top == [catalog.ids["panadol"], catalog.ids["brufen"], catalog.ids["vitamin"]]
