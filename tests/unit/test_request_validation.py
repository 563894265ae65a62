"""Bad requests are refused with a clear 4xx in the house error shape, before any AWS call
(sockets are disabled in unit tests, so touching AWS would surface as a 500)."""

import json

import pytest
from chalice.test import Client

from app import app
from tests.stages import TEST_STAGE

JSON_HEADERS = {"Content-Type": "application/json"}
GOOD_SIGNUP = {
    "workspace_name": "Acme",
    "name": "Ann",
    "email": "ann@acme.test",
    "password": "correct horse battery",
}


@pytest.fixture(scope="module")
def client():
    with Client(app, stage_name=TEST_STAGE) as test_client:
        yield test_client


def _error(response):
    body = json.loads(response.body)
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"])
    assert response.headers["X-Request-Id"]
    return body["error"]


def test_malformed_json_is_400(client):
    response = client.http.post("/v1/signup", headers=JSON_HEADERS, body='{"name": ')
    assert response.status_code == 400
    assert _error(response)["code"] == "malformed_json"


def test_json_that_is_not_an_object_is_400(client):
    response = client.http.post("/v1/signup", headers=JSON_HEADERS, body="[1, 2]")
    assert response.status_code == 400
    assert _error(response)["code"] == "malformed_json"


def test_empty_body_is_400(client):
    response = client.http.post("/v1/signup", headers=JSON_HEADERS, body="")
    assert response.status_code == 400
    assert _error(response)["code"] == "missing_body"


def test_wrong_content_type_is_415(client):
    response = client.http.post(
        "/v1/signup", headers={"Content-Type": "text/plain"}, body=json.dumps(GOOD_SIGNUP)
    )
    assert response.status_code == 415
    assert _error(response)["code"] == "unsupported_media_type"


def test_oversized_body_is_413(client):
    huge = dict(GOOD_SIGNUP, name="x" * 300_000)
    response = client.http.post("/v1/signup", headers=JSON_HEADERS, body=json.dumps(huge))
    assert response.status_code == 413
    assert _error(response)["code"] == "payload_too_large"


def test_unknown_field_is_named(client):
    response = client.http.post(
        "/v1/signup", headers=JSON_HEADERS, body=json.dumps(dict(GOOD_SIGNUP, plan="gold"))
    )
    assert response.status_code == 422
    error = _error(response)
    assert {"field": "plan", "message": "Extra inputs are not permitted"} in error["details"]


def test_wrong_type_is_named_not_coerced(client):
    response = client.http.post(
        "/v1/signup", headers=JSON_HEADERS, body=json.dumps(dict(GOOD_SIGNUP, name=123))
    )
    assert response.status_code == 422
    assert [d["field"] for d in _error(response)["details"]] == ["name"]


def test_invalid_email_and_time_zone_are_named(client):
    response = client.http.post(
        "/v1/signup",
        headers=JSON_HEADERS,
        body=json.dumps(dict(GOOD_SIGNUP, email="not-an-address", timezone="Mars/Olympus")),
    )
    assert response.status_code == 422
    assert sorted(d["field"] for d in _error(response)["details"]) == ["email", "timezone"]


def test_weak_password_is_refused_before_anything_is_stored(client):
    response = client.http.post(
        "/v1/signup", headers=JSON_HEADERS, body=json.dumps(dict(GOOD_SIGNUP, password="short"))
    )
    assert response.status_code == 422
    assert _error(response)["code"] == "weak_password"


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Basic abc", "Bearer", "Bearer nope", "Bearer " + "hts_" + "x" * 300],
)
def test_missing_or_malformed_token_is_401(client, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.http.get("/v1/me", headers=headers)
    assert response.status_code == 401
    assert _error(response)["code"] in {"missing_token", "invalid_token"}


def test_unknown_method_is_405_in_house_shape(client):
    response = client.http.put("/v1/signup", headers=JSON_HEADERS, body="{}")
    assert response.status_code == 405
    assert _error(response)["code"] == "method_not_allowed"


def test_correlation_id_is_echoed_when_sane_and_replaced_when_not(client):
    response = client.http.get("/v1/me", headers={"X-Request-Id": "abc-123-def-456"})
    assert response.headers["X-Request-Id"] == "abc-123-def-456"
    response = client.http.get("/v1/me", headers={"X-Request-Id": "bad id\r\nx"})
    assert response.headers["X-Request-Id"] != "bad id\r\nx"
    assert len(response.headers["X-Request-Id"]) == 26


def test_an_unexpected_failure_is_a_500_in_the_house_shape_without_internals(client, monkeypatch):
    import chalicelib.store.health

    def broken():
        raise RuntimeError("secret internals")

    monkeypatch.setattr(chalicelib.store.health, "table_reachable", broken)
    response = client.http.get("/v1/health")
    assert response.status_code == 500
    error = _error(response)
    assert error["code"] == "internal_error"
    assert "secret internals" not in response.body.decode()
