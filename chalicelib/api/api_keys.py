"""API keys for scripts and integrations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.accounts.model import MANAGERS, Role
from chalicelib.api.routing import Call, operation
from chalicelib.billing.plans import Feature
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        ApiKeyCreatedOut,
        ApiKeyIn,
        ApiKeyOut,
        ApiKeysOut,
        ApiKeyTransferIn,
    )

# Loaded by the first request that needs them, not when `app` is imported (cold start).
schemas = lazy_module("chalicelib.api.schemas")
api_keys = lazy_module("chalicelib.accounts.api_keys")
bp = Blueprint(__name__)


@operation(
    bp,
    "POST",
    "/v1/api-keys",
    gate=Feature.API_KEYS,
    summary="Create an API key (the secret is shown once)",
    tag="api-keys",
    body="ApiKeyIn",
    response="ApiKeyCreatedOut",
    status=201,
    roles=MANAGERS,
    errors=(400, 401, 403, 422),
)
def create_api_key(call: Call) -> ApiKeyCreatedOut:
    body: ApiKeyIn = call.body
    issued = api_keys.create_api_key(
        bootstrap.account_deps(), call.member, body.name, Role(body.role)
    )
    return schemas.ApiKeyCreatedOut(
        **schemas.ApiKeyOut.of(issued.api_key).model_dump(), key=issued.secret
    )


@operation(
    bp,
    "GET",
    "/v1/api-keys",
    summary="API keys of the workspace (no secrets)",
    tag="api-keys",
    response="ApiKeysOut",
    roles=MANAGERS,
    errors=(401, 403),
)
def list_api_keys(call: Call) -> ApiKeysOut:
    keys = api_keys.list_api_keys(bootstrap.account_deps(), call.member)
    return schemas.ApiKeysOut(api_keys=[schemas.ApiKeyOut.of(k) for k in keys])


@operation(
    bp,
    "DELETE",
    "/v1/api-keys/{api_key_id}",
    summary="Revoke an API key",
    tag="api-keys",
    status=204,
    roles=MANAGERS,
    errors=(401, 403, 404),
)
def revoke_api_key(call: Call) -> None:
    api_keys.revoke_api_key(bootstrap.account_deps(), call.member, call.params["api_key_id"])


@operation(
    bp,
    "POST",
    "/v1/api-keys/{api_key_id}/transfer",
    gate=Feature.API_KEYS,
    summary="Give an API key to another member (owners; keeps it working when its holder "
    "is removed)",
    tag="api-keys",
    body="ApiKeyTransferIn",
    response="ApiKeyOut",
    roles=frozenset({Role.OWNER}),
    errors=(400, 401, 403, 404, 409, 422),
)
def transfer_api_key(call: Call) -> ApiKeyOut:
    body: ApiKeyTransferIn = call.body
    return schemas.ApiKeyOut.of(
        api_keys.transfer_api_key(
            bootstrap.account_deps(), call.member, call.params["api_key_id"], body.member_id
        )
    )
