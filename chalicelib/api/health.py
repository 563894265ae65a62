"""Liveness with a real dependency check (the table is reachable)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.routing import Call, operation
from chalicelib.errors import ServiceUnavailable
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        HealthOut,
    )

schemas = lazy_module("chalicelib.api.schemas")
bp = Blueprint(__name__)


@operation(
    bp,
    "GET",
    "/v1/health",
    summary="Is the service and its table reachable?",
    tag="health",
    response="HealthOut",
    auth=False,
    errors=(503,),
)
def health(call: Call) -> HealthOut:
    from chalicelib.store.health import table_reachable

    if not table_reachable():
        raise ServiceUnavailable("The database is not reachable.", code="table_unreachable")
    return schemas.HealthOut(status="ok", table="reachable")
