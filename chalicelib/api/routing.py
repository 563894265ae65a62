"""Declaring API operations: one decorator registers the Chalice route, parses and validates
the request with pydantic, authenticates, maps domain errors to HTTP, and records the
operation for the OpenAPI document.  Handlers receive a `Call` and return a schema.

Schemas are named, not imported, here: `chalicelib.api.schemas` (and pydantic) load on the
first request that needs them, not when `app` is imported."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib import bootstrap
from chalicelib.accounts.model import Principal, Role
from chalicelib.accounts.sessions import authenticate
from chalicelib.api import browser_session, cors, plan_gate
from chalicelib.errors import (
    BadRequest,
    Forbidden,
    HelptalError,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthenticated,
    ValidationFailed,
)
from chalicelib.json_limits import MAX_JSON_DEPTH, JsonTooDeep, check_depth
from chalicelib.observability import logger
from chalicelib.settings import get_settings
from chalicelib.store.aws_outage import RETRY_AFTER_SECONDS, is_aws_outage

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

    from chalicelib.accounts.model import Workspace
    from chalicelib.accounts.workspaces import WorkspaceReader
    from chalicelib.billing.plans import Feature


JSON = "application/json"
HTML = "text/html; charset=utf-8"
# The form media types `chalicelib.http_forms` parses, named here so that routing does not
# load the parser (it loads with the first form).
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
WORKSPACE_HEADER = "X-Workspace-Id"


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says about one route."""

    method: str
    path: str
    name: str
    summary: str
    tag: str
    body: str | None
    query: str | None
    response: str | None
    status: int
    auth: bool
    roles: frozenset[Role] | None
    errors: tuple[int, ...]
    produces: str = JSON
    form: str | None = None  # pages: a form body the handler parses itself
    accepts: tuple[str, ...] = ()  # raw bodies the handler parses itself (webhooks)
    # Other success statuses answered with the same schema (queued work: 202 while pending).
    also: tuple[int, ...] = ()
    description: str = ""  # longer than the summary: rules, limits, error codes
    # Pages: the query parameters the handler reads itself (documented, never refused).
    page_query: str | None = None
    # Billing: the plan feature this route needs, and the seats it takes (api/plan_gate.py).
    gate: Feature | None = None
    seats: int = 0


OPERATIONS: list[Operation] = []
# The /v1 paths given an OPTIONS route for browsers' CORS preflights.
PREFLIGHT_PATHS: set[str] = set()
SCHEMAS_MODULE = "chalicelib.api.schemas"


def schema(name: str) -> type[BaseModel]:
    """The schema class called `name` in chalicelib.api.schemas (imported on first use)."""
    import importlib

    found: type[BaseModel] = getattr(importlib.import_module(SCHEMAS_MODULE), name)
    return found


@dataclass
class Call:
    """One parsed, authenticated request."""

    request: Request
    params: dict[str, str]
    principal: Principal | None = None
    body: Any = None
    query: Any = None

    @property
    def member(self) -> Principal:
        if self.principal is None:  # an operation declared with auth=False asked for one
            raise Unauthenticated("Log in to do this.")
        return self.principal

    def workspace(self, accounts: WorkspaceReader) -> Workspace:
        """The member's workspace; 404 when it was deleted since the session began."""
        from chalicelib.accounts.workspaces import existing_workspace

        return existing_workspace(accounts, self.member.workspace_id)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def aws_unavailable() -> ServiceUnavailable:
    """What a request that met an AWS outage (unreachable, timed out, throttled) answers."""
    return ServiceUnavailable(
        "The service is briefly unavailable; try again shortly.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def error_response(error: HelptalError) -> Response:
    return Response(
        body=json.dumps(error_body(error.code, error.message, error.details)),
        status_code=error.status,
        headers={"Content-Type": JSON, **error.headers},
    )


def _field_errors(error: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in issue["loc"]) or "body", "message": issue["msg"]}
        for issue in error.errors(include_url=False)
    ]


def _validation_failed(error: ValidationError, where: str) -> ValidationFailed:
    details = _field_errors(error)
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
    return ValidationFailed(f"Invalid {where}: {summary}", details=details)


def parse_body(request: Request, model: type[BaseModel]) -> BaseModel:
    """The body as `model`: 413 over the size limit, 400 `missing_body` when empty, 400
    `malformed_json` when not a JSON object or nested deeper than MAX_JSON_DEPTH (checked
    before parsing), 422 naming the fields that do not fit.  Parsed once."""
    body = request.raw_body or b""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if len(raw) > get_settings().max_body_bytes:
        raise PayloadTooLarge(
            f"The request body is larger than {get_settings().max_body_bytes} bytes."
        )
    if not raw.strip():
        raise BadRequest("A JSON body is required.", code="missing_body")
    try:
        check_depth(raw)
    except JsonTooDeep as e:
        raise BadRequest(
            f"The body nests deeper than {MAX_JSON_DEPTH} levels.", code="malformed_json"
        ) from e
    # Not a parse: the one parse is pydantic's, below (which reports invalid JSON itself).
    if not raw.lstrip().startswith(b"{"):
        raise BadRequest("The body must be a JSON object.", code="malformed_json")
    from pydantic import ValidationError

    try:
        return model.model_validate_json(raw)
    except ValidationError as e:
        if any(issue["type"] == "json_invalid" for issue in e.errors(include_url=False)):
            raise BadRequest("The body is not valid JSON.", code="malformed_json") from e
        raise _validation_failed(e, "body") from e


def parse_form(request: Request, model: type[BaseModel]) -> BaseModel:
    """A form body (HTML pages), parsed as every form is (`chalicelib.http_forms`: size,
    part and UTF-8 checks); raises ValidationFailed naming the fields."""
    from pydantic import ValidationError

    from chalicelib.http_forms import parse_form as parse_form_body

    raw = request.raw_body or b""
    form = parse_form_body(
        raw if isinstance(raw, bytes) else raw.encode(),
        request.headers.get("content-type"),
        max_body_bytes=get_settings().max_body_bytes,
    )
    try:
        return model.model_validate(form.fields)
    except ValidationError as e:
        raise _validation_failed(e, "form") from e


def parse_query(request: Request, model: type[BaseModel]) -> BaseModel:
    params = dict(request.query_params or {})
    from pydantic import ValidationError

    try:
        return model.model_validate(params)
    except ValidationError as e:
        raise _validation_failed(e, "query") from e


def to_response(result: Any, status: int) -> Response:
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(body="", status_code=204 if status == 200 else status)
    body = result.model_dump(mode="json") if hasattr(result, "model_dump") else result
    return Response(body=json.dumps(body), status_code=status, headers={"Content-Type": JSON})


def operation(
    bp: Blueprint,
    method: str,
    path: str,
    *,
    summary: str,
    tag: str,
    body: str | None = None,
    query: str | None = None,
    response: str | None = None,
    status: int = 200,
    auth: bool = True,
    roles: frozenset[Role] | None = None,
    errors: tuple[int, ...] = (),
    produces: str = JSON,
    form: str | None = None,
    accepts: tuple[str, ...] = (),
    also: tuple[int, ...] = (),
    description: str = "",
    page_query: str | None = None,
    gate: Feature | None = None,
    seats: int = 0,
) -> Callable[[Callable[[Call], Any]], Callable[..., Any]]:
    """Registers `handler(call)` as `method path` on `bp`.

    `roles` limits who may call (others get 403); membership of the workspace is always
    checked by authentication (a non-member gets 404).  Billing decides the rest
    (`plan_gate`): `gate` names the plan feature the route needs, `seats` the seats it
    takes, and a read-only workspace makes no change but those plan_gate leaves open."""
    ask_billing = auth and plan_gate.needs_check(method, path, gate, seats)

    def register(handler: Callable[[Call], Any]) -> Callable[..., Any]:
        OPERATIONS.append(
            Operation(
                method=method,
                path=path,
                name=handler.__name__,
                summary=summary,
                tag=tag,
                body=body,
                query=query,
                response=response,
                status=status,
                auth=auth,
                roles=roles,
                errors=errors,
                produces=produces,
                form=form,
                accepts=accepts,
                also=also,
                description=description,
                page_query=page_query,
                gate=gate,
                seats=seats,
            )
        )

        def view(**params: str) -> Response:
            request = bp.current_request
            call = Call(request=request, params=params)
            try:
                # A bearer token wins; without one, a browser's session cookie, whose
                # state-changing requests must prove they come from the web client.
                bearer = request.headers.get("authorization")
                cookie = None if bearer or not auth else browser_session.session_cookie(request)
                if not bearer and path.startswith(cors.API_PREFIX):
                    browser_session.refuse_forgery(request, by_cookie=cookie is not None)
                if auth:
                    call.principal = authenticate(
                        bootstrap.account_deps(),
                        bearer,
                        request.headers.get(WORKSPACE_HEADER.lower()) or None,
                        session_cookie=cookie,
                        path=path,
                    )
                    logger.append_keys(workspace_id=call.principal.workspace_id)
                    if roles is not None and call.principal.role not in roles:
                        raise Forbidden("Your role does not allow this.", code="forbidden_role")
                    if ask_billing:
                        plan_gate.check(call.principal.workspace_id, method, path, gate, seats)
                if query is not None:
                    call.query = parse_query(request, schema(query))
                if body is not None:
                    call.body = parse_body(request, schema(body))
                return to_response(handler(call), status)
            except HelptalError as e:
                return error_response(e)
            except Exception as e:
                if not is_aws_outage(e):
                    raise  # a bug: Chalice logs it and answers 500
                logger.warning("AWS unavailable", extra={"error": repr(e)})
                return error_response(aws_unavailable())

        view.__name__ = handler.__name__
        view.__doc__ = handler.__doc__
        # [] accepts any type: the route reads no body, or parses its form itself.
        content_types = (
            [JSON] if body is not None else [FORM] if form is not None else list(accepts)
        )
        bp.route(path, methods=[method], content_types=content_types)(view)
        if path.startswith(cors.API_PREFIX) and path not in PREFLIGHT_PATHS:
            _register_preflight(bp, path)
        return handler

    return register


def _register_preflight(bp: Blueprint, path: str) -> None:
    """An OPTIONS route answering browsers' CORS preflights for `path`.  Browsers send them
    by themselves, so they are not operations of the API reference: the OpenAPI document
    says once, in its description, which origin they answer."""
    PREFLIGHT_PATHS.add(path)
    name = "preflight" + re.sub(r"\W+", "_", path).rstrip("_")

    def preflight(**params: str) -> Response:
        methods = sorted({op.method for op in OPERATIONS if op.path == path} - {"OPTIONS"})
        return cors.preflight(bp.current_request, methods)

    preflight.__name__ = name
    bp.route(path, methods=["OPTIONS"], content_types=[])(preflight)
