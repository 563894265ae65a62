"""Liveness with a real dependency check (the table is reachable)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.routing import Call, operation
from chalicelib.api.schemas import HealthOut
from chalicelib.errors import ServiceUnavailable

bp = Blueprint(__name__)


@operation(bp, "GET", "/v1/health", summary="Is the service and its table reachable?",
           tag="health", response=HealthOut, auth=False, errors=(503,))
def health(call: Call) -> HealthOut:
    from chalicelib.store.health import table_reachable

    if not table_reachable():
        raise ServiceUnavailable("The database is not reachable.", code="table_unreachable")
    return HealthOut(status="ok", table="reachable")
