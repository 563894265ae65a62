"""`/` of the API's own host sends people to the web client; a tenant's help-centre domain
keeps its home page (that answer needs the table, so tests/integration checks it)."""

import pytest
from chalice.test import Client

from app import app
from chalicelib.api.front_door import send_to_the_app


@pytest.fixture()
def client():
    with Client(app) as test_client:
        yield test_client


def test_the_api_root_redirects_to_the_web_client(client):
    response = client.http.get("/", headers={"Host": "api.helptal.test"})

    assert response.status_code == 302
    assert response.headers["Location"] == "https://app.helptal.test/"


class _Request:
    def __init__(self, method, path, **headers):
        self.method, self.path, self.headers = method, path, headers


def test_other_hosts_paths_and_methods_pass_through():
    def page(request):
        return "the help centre"

    for request in (
        _Request("GET", "/", host="help.acme.test"),
        _Request("GET", "/", host="api.helptal.test", **{"x-forwarded-host": "help.acme.test"}),
        _Request("POST", "/", host="api.helptal.test"),
        _Request("GET", "/robots.txt", host="api.helptal.test"),
    ):
        assert send_to_the_app(request, page) == "the help centre"
