"""Catalog management (`/api/catalog/…`, roles admin / super_admin).

Not under `/api/admin`: the Functions host reserves routes starting with `admin`. Updates and
deactivations need the version last read (`If-Match: "3"` or the body's `version`); a stale one
gets 409 with the current version. Deactivation is soft: the row stays, public reads drop it.
"""

from uuid import UUID

import azure.functions as func

from shared.catalog import service as catalog
from shared.catalog.models import BrandRow, CategoryRow, ImageRow, ProductRow, VariantRow
from shared.catalog.models_admin import (
    BrandFields,
    BrandPatch,
    CategoryFields,
    CategoryPatch,
    ImageFields,
    ProductFields,
    ProductPatch,
    VariantFields,
    VariantPatch,
)
from shared.platform.auth import ADMIN_ROLES
from shared.platform.http import ApiCall, HeaderParam, Reply, endpoint

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the bearer token and its role are checked by @endpoint
TAGS = ("catalog management",)
IF_MATCH = HeaderParam("If-Match", 'the version last read, as its ETag: "3"', pattern=r'^(W/)?"?[0-9]{1,9}"?$')
# Updates take the version in the body (documented as required there) or as If-Match.
UPDATE_ERRORS = (409, 428)


def created(row, location: str) -> Reply:
    return Reply(body=row, status=201, headers={"Location": location, "ETag": f'"{row.version}"'})


def saved(row) -> Reply:
    return Reply(body=row, headers={"ETag": f'"{row.version}"'})


def if_match(call: ApiCall) -> str | None:
    return call.request.headers.get("if-match")


def target(call: ApiCall) -> UUID:
    return UUID(call.route["id"])


@bp.route(route="catalog/categories", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Create a category",
    body=CategoryFields,
    response=CategoryRow,
    status=201,
    roles=ADMIN_ROLES,
    tags=TAGS,
    errors=(409,),
    links={"UpdateCategory": ("update_category", "id"), "DeactivateCategory": ("deactivate_category", "id")},
)
async def create_category(call: ApiCall) -> Reply:
    row = await catalog.create("categories", call.body.model_dump())
    return created(row, f"/api/categories/{row.slug_en}")


@bp.route(route="catalog/categories/{id:guid}", methods=["PATCH"], auth_level=ANONYMOUS)
@endpoint(
    summary="Update a category (moves are refused when they would make a cycle)",
    body=CategoryPatch,
    response=CategoryRow,
    roles=ADMIN_ROLES,
    tags=TAGS,
    errors=UPDATE_ERRORS,
)
async def update_category(call: ApiCall) -> Reply:
    return saved(await catalog.patch("categories", target(call), call.body, if_match(call)))


@bp.route(route="catalog/categories/{id:guid}", methods=["DELETE"], auth_level=ANONYMOUS)
@endpoint(
    summary="Deactivate a category (soft; needs If-Match)",
    response=CategoryRow,
    roles=ADMIN_ROLES,
    tags=TAGS,
    headers=(IF_MATCH,),
    errors=UPDATE_ERRORS,
)
async def deactivate_category(call: ApiCall) -> Reply:
    return saved(await catalog.deactivate("categories", target(call), if_match(call)))


@bp.route(route="catalog/brands", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Create a brand",
    body=BrandFields,
    response=BrandRow,
    status=201,
    roles=ADMIN_ROLES,
    tags=TAGS,
    errors=(409,),
    links={"UpdateBrand": ("update_brand", "id"), "DeactivateBrand": ("deactivate_brand", "id")},
)
async def create_brand(call: ApiCall) -> Reply:
    row = await catalog.create("brands", call.body.model_dump())
    return created(row, f"/api/catalog/brands/{row.id}")


@bp.route(route="catalog/brands/{id:guid}", methods=["PATCH"], auth_level=ANONYMOUS)
@endpoint(
    summary="Update a brand", body=BrandPatch, response=BrandRow, roles=ADMIN_ROLES, tags=TAGS, errors=UPDATE_ERRORS
)
async def update_brand(call: ApiCall) -> Reply:
    return saved(await catalog.patch("brands", target(call), call.body, if_match(call)))


@bp.route(route="catalog/brands/{id:guid}", methods=["DELETE"], auth_level=ANONYMOUS)
@endpoint(
    summary="Deactivate a brand (soft; needs If-Match)",
    response=BrandRow,
    roles=ADMIN_ROLES,
    tags=TAGS,
    headers=(IF_MATCH,),
    errors=UPDATE_ERRORS,
)
async def deactivate_brand(call: ApiCall) -> Reply:
    return saved(await catalog.deactivate("brands", target(call), if_match(call)))


@bp.route(route="catalog/products", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Create a product (add variants to make it sellable)",
    body=ProductFields,
    response=ProductRow,
    status=201,
    roles=ADMIN_ROLES,
    tags=TAGS,
    errors=(409,),
    links={
        "GetProduct": ("get_product", "id"),
        "UpdateProduct": ("update_product", "id"),
        "DeactivateProduct": ("deactivate_product", "id"),
        "AddVariant": ("create_variant", "id"),
        "AddImage": ("add_product_image", "id"),
    },
)
async def create_product(call: ApiCall) -> Reply:
    row = await catalog.create("products", call.body.model_dump())
    return created(row, f"/api/products/{row.id}")


@bp.route(route="catalog/products/{id:guid}", methods=["PATCH"], auth_level=ANONYMOUS)
@endpoint(
    summary="Update a product",
    body=ProductPatch,
    response=ProductRow,
    roles=ADMIN_ROLES,
    tags=TAGS,
    errors=UPDATE_ERRORS,
)
async def update_product(call: ApiCall) -> Reply:
    return saved(await catalog.patch("products", target(call), call.body, if_match(call)))


@bp.route(route="catalog/products/{id:guid}", methods=["DELETE"], auth_level=ANONYMOUS)
@endpoint(
    summary="Deactivate a product (soft; needs If-Match)",
    response=ProductRow,
    roles=ADMIN_ROLES,
    tags=TAGS,
    headers=(IF_MATCH,),
    errors=UPDATE_ERRORS,
)
async def deactivate_product(call: ApiCall) -> Reply:
    return saved(await catalog.deactivate("products", target(call), if_match(call)))


@bp.route(route="catalog/products/{id:guid}/variants", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Add a variant (the sellable unit) to a product",
    body=VariantFields,
    response=VariantRow,
    status=201,
    roles=ADMIN_ROLES,
    tags=TAGS,
    errors=(409,),
    links={"UpdateVariant": ("update_variant", "id"), "DeactivateVariant": ("deactivate_variant", "id")},
)
async def create_variant(call: ApiCall) -> Reply:
    row = await catalog.create_variant(target(call), call.body.model_dump())
    return created(row, f"/api/catalog/variants/{row.id}")


@bp.route(route="catalog/variants/{id:guid}", methods=["PATCH"], auth_level=ANONYMOUS)
@endpoint(
    summary="Update a variant",
    body=VariantPatch,
    response=VariantRow,
    roles=ADMIN_ROLES,
    tags=TAGS,
    errors=UPDATE_ERRORS,
)
async def update_variant(call: ApiCall) -> Reply:
    return saved(await catalog.patch("variants", target(call), call.body, if_match(call)))


@bp.route(route="catalog/variants/{id:guid}", methods=["DELETE"], auth_level=ANONYMOUS)
@endpoint(
    summary="Deactivate a variant (soft; needs If-Match)",
    response=VariantRow,
    roles=ADMIN_ROLES,
    tags=TAGS,
    headers=(IF_MATCH,),
    errors=UPDATE_ERRORS,
)
async def deactivate_variant(call: ApiCall) -> Reply:
    return saved(await catalog.deactivate("variants", target(call), if_match(call)))


@bp.route(route="catalog/products/{id:guid}/images", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Add an image to a product",
    body=ImageFields,
    response=ImageRow,
    status=201,
    roles=ADMIN_ROLES,
    tags=TAGS,
)
async def add_product_image(call: ApiCall) -> Reply:
    image = await catalog.add_image(target(call), call.body)
    return Reply(body=image, status=201)


@bp.route(route="catalog/products/{id:guid}/images/{image_id:guid}", methods=["DELETE"], auth_level=ANONYMOUS)
@endpoint(summary="Remove an image from a product", status=204, roles=ADMIN_ROLES, tags=TAGS)
async def remove_product_image(call: ApiCall) -> None:
    await catalog.remove_image(target(call), UUID(call.route["image_id"]))
