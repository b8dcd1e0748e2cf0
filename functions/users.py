"""The caller's profile and addresses (`/api/me…`)."""

from uuid import UUID

import azure.functions as func

from shared.platform.http import ApiCall, Reply, endpoint
from shared.users import service as users
from shared.users.models import Address, AddressFields, AddressPage, AddressPatch, PageQuery, ProfilePatch, UserProfile

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the bearer token is checked by @endpoint


@bp.route(route="me", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="My profile (created from the token on first call)",
    response=UserProfile,
    authenticated=True,
    tags=("users",),
)
async def get_me(call: ApiCall) -> UserProfile:
    return await users.get_my_profile(call.user)


@bp.route(route="me", methods=["PATCH"], auth_level=ANONYMOUS)
@endpoint(summary="Update my profile", body=ProfilePatch, response=UserProfile, authenticated=True, tags=("users",))
async def patch_me(call: ApiCall) -> UserProfile:
    return await users.update_my_profile(call.user, call.body)


@bp.route(route="me/addresses", methods=["GET"], auth_level=ANONYMOUS)
@endpoint(
    summary="My addresses, oldest first (keyset pages)",
    query=PageQuery,
    response=AddressPage,
    authenticated=True,
    tags=("users",),
)
async def list_my_addresses(call: ApiCall) -> AddressPage:
    return await users.list_my_addresses(call.user, call.query)


@bp.route(route="me/addresses", methods=["POST"], auth_level=ANONYMOUS)
@endpoint(
    summary="Add an address (the first one becomes the default)",
    body=AddressFields,
    response=Address,
    status=201,
    authenticated=True,
    tags=("users",),
    links={"UpdateAddress": ("update_my_address", "id"), "DeleteAddress": ("delete_my_address", "id")},
)
async def add_my_address(call: ApiCall) -> Reply:
    address = await users.add_my_address(call.user, call.body)
    return Reply(body=address, status=201, headers={"Location": f"/api/me/addresses/{address.id}"})


@bp.route(route="me/addresses/{id:guid}", methods=["PATCH"], auth_level=ANONYMOUS)
@endpoint(
    summary="Change an address or make it the default",
    body=AddressPatch,
    response=Address,
    authenticated=True,
    tags=("users",),
)
async def update_my_address(call: ApiCall) -> Address:
    return await users.update_my_address(call.user, UUID(call.route["id"]), call.body)


@bp.route(route="me/addresses/{id:guid}", methods=["DELETE"], auth_level=ANONYMOUS)
@endpoint(
    summary="Delete an address (the newest other one becomes the default)",
    status=204,
    authenticated=True,
    tags=("users",),
)
async def delete_my_address(call: ApiCall) -> None:
    await users.delete_my_address(call.user, UUID(call.route["id"]))
