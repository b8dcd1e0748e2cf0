"""The public catalog (`/api/categories`, `/api/brands`, `/api/products`): no token needed.

Responses are localized by `?lang=en|ar`, else by `Accept-Language`, else English.
"""

from uuid import UUID

import azure.functions as func

from shared.catalog import service as catalog
from shared.catalog.models import BrandList, CategoryDetail, CategoryTree, Lang, LangQuery, ProductPage, ProductQuery
from shared.catalog.models_offers import ProductWithOffers
from shared.platform.http import ApiCall, RawJson, Reply, endpoint

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS
TAGS = ("catalog",)
# Shared caches and browsers may keep public catalog reads briefly; they vary by language.
PUBLIC_CACHE_SECONDS = 60


def language(call: ApiCall) -> Lang:
    return catalog.language(getattr(call.query, "lang", None), call.request.headers.get("accept-language"))


def localized(body, lang: Lang) -> Reply:
    headers = {
        "Content-Language": lang,
        "Vary": "Accept-Language",
        "Cache-Control": f"public, max-age={PUBLIC_CACHE_SECONDS}",
    }
    return Reply(body=RawJson(body) if isinstance(body, bytes) else body, headers=headers)


@bp.route(route="categories", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(summary="The active category tree", query=LangQuery, response=CategoryTree, tags=TAGS)
async def list_categories(call: ApiCall) -> Reply:
    lang = language(call)
    return localized(await catalog.category_tree(lang), lang)


@bp.route(route="categories/{slug}", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="One category by its English or Arabic slug, with its path and subtree",
    query=LangQuery,
    response=CategoryDetail,
    tags=TAGS,
)
async def get_category(call: ApiCall) -> Reply:
    lang = language(call)
    return localized(await catalog.category_by_slug(call.route["slug"], lang), lang)


@bp.route(route="brands", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(summary="Active brands, sorted by name", query=LangQuery, response=BrandList, tags=TAGS)
async def list_brands(call: ApiCall) -> Reply:
    lang = language(call)
    return localized(await catalog.brand_list(lang), lang)


@bp.route(route="products", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="Search and filter products (keyset pages; attr.<key>=<value> filters attributes)",
    query=ProductQuery,
    response=ProductPage,
    tags=TAGS,
)
async def list_products(call: ApiCall) -> Reply:
    lang = language(call)
    return localized(await catalog.list_products(call.query, lang), lang)


@bp.route(route="products/{id:guid}", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="A product with variants, images, brand, category path and seller offers",
    query=LangQuery,
    response=ProductWithOffers,
    tags=TAGS,
)
async def get_product(call: ApiCall) -> Reply:
    lang = language(call)
    return localized(await catalog.product_detail(UUID(call.route["id"]), lang), lang)


@bp.route(route="products/by-slug/{slug}", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(summary="A product by its English or Arabic slug", query=LangQuery, response=ProductWithOffers, tags=TAGS)
async def get_product_by_slug(call: ApiCall) -> Reply:
    lang = language(call)
    return localized(await catalog.product_detail_by_slug(call.route["slug"], lang), lang)
