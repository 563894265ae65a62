"""The local API answers a path it does not serve with the product's own 404 shape (deployed
stages answer API Gateway's 403 "Missing Authentication Token" instead: README, The API)."""

import pytest
import requests


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/no-such-page", {}),
        ("GET", "/v1/no-such-thing?x=1", {}),
        ("POST", "/v1/tickets/t_1/no-such-action", {"Authorization": "Bearer hts_nothing"}),
        ("DELETE", "/v2/tickets", {}),
    ],
)
def test_unknown_path_answers_404_not_found_in_the_product_shape(stack, method, path, headers):
    response = requests.request(method, f"{stack.api_url}{path}", headers=headers, timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Request-Id"]
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert "/v1/openapi.json" in error["message"]
    assert set(response.json()) == {"error"}


def test_known_path_with_another_method_still_answers_405(stack):
    response = requests.put(f"{stack.api_url}/v1/health", timeout=10)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
