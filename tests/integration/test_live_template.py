"""The packaged stack has the live WebSocket API, and only the functions that push may post
to its connections (and to no other API's)."""

from __future__ import annotations

import pytest

from infra.iam import LIVE_PUSHERS


@pytest.fixture(scope="module")
def sam(lambda_package) -> dict:
    return lambda_package.sam


def _of_type(sam: dict, kind: str) -> dict[str, dict]:
    return {rid: r for rid, r in sam["Resources"].items() if r["Type"] == kind}


def _statements(sam: dict, role_id: str) -> list[dict]:
    role = sam["Resources"][role_id]["Properties"]
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    for policy in _of_type(sam, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_the_stack_has_a_websocket_api_routing_connect_messages_and_disconnect(sam):
    (api_id, api) = next(iter(_of_type(sam, "AWS::ApiGatewayV2::Api").items()))
    assert api["Properties"]["ProtocolType"] == "WEBSOCKET"
    assert api["Properties"]["RouteSelectionExpression"] == "$request.body.action"
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        for r in _of_type(sam, "AWS::ApiGatewayV2::Route").values()
        if r["Properties"]["ApiId"] == {"Ref": api_id}
    }
    assert set(routes) == {"$connect", "$default", "$disconnect"}
    functions = _of_type(sam, "AWS::Serverless::Function")
    for route, function in (
        ("$connect", "WebsocketConnect"),
        ("$default", "WebsocketMessage"),
        ("$disconnect", "WebsocketDisconnect"),
    ):
        integration = sam["Resources"][routes[route]]["Properties"]
        assert integration["IntegrationUri"]["Fn::Sub"][1] == {
            "WebsocketHandler": {"Ref": function}
        }
        handler = functions[function]["Properties"]
        assert handler["Handler"] == f"app.{function.replace('Websocket', 'websocket_').lower()}"
        assert handler["Runtime"] == "python3.13"
    (stage,) = _of_type(sam, "AWS::ApiGatewayV2::Stage").values()
    assert stage["Properties"]["ApiId"] == {"Ref": api_id}


def test_only_the_functions_that_push_may_post_to_connections_and_only_on_this_api(sam):
    functions = _of_type(sam, "AWS::Serverless::Function")
    allowed = set()
    for function in functions.values():
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        for statement in _statements(sam, role_id):
            actions = statement["Action"]
            actions = actions if isinstance(actions, list) else [actions]
            if not any(action.startswith("execute-api:") for action in actions):
                continue
            assert actions == ["execute-api:ManageConnections"]
            resource = statement["Resource"]["Fn::Sub"]
            assert resource.endswith(":${WebsocketAPI}/${WebsocketAPIStage}/POST/@connections/*")
            allowed.add(function["Properties"]["Environment"]["Variables"]["HELPTAL_FUNCTION"])
    assert allowed == set(LIVE_PUSHERS)
    assert "websocket_connect" not in allowed and "websocket_disconnect" not in allowed


def test_the_functions_that_push_are_given_the_websocket_apis_callback_url(sam):
    functions = _of_type(sam, "AWS::Serverless::Function")
    for function in functions.values():
        variables = function["Properties"]["Environment"]["Variables"]
        name = variables["HELPTAL_FUNCTION"]
        url = variables.get("LIVE_CALLBACK_URL")
        if name in LIVE_PUSHERS and not name.startswith("websocket_"):
            assert url == {
                "Fn::Sub": "https://${WebsocketAPI}.execute-api.${AWS::Region}"
                ".${AWS::URLSuffix}/${WebsocketAPIStage}"
            }, name
        else:
            # The message function answers through the API its event came in by.
            assert url is None, name
    assert "WebsocketConnectEndpointURL" in sam["Outputs"]


def test_only_the_api_is_given_the_url_clients_connect_to(sam):
    given = {
        function["Properties"]["Environment"]["Variables"]["HELPTAL_FUNCTION"]: function[
            "Properties"
        ]["Environment"]["Variables"].get("LIVE_WEBSOCKET_URL")
        for function in _of_type(sam, "AWS::Serverless::Function").values()
    }
    assert given.pop("api_handler") == {
        "Fn::Sub": "wss://${WebsocketAPI}.execute-api.${AWS::Region}"
        ".${AWS::URLSuffix}/${WebsocketAPIStage}"
    }
    assert set(given.values()) == {None}


def test_connections_expire_through_the_tables_ttl(sam):
    (table,) = _of_type(sam, "AWS::DynamoDB::Table").values()
    assert table["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }
    from chalicelib.store.models import LiveConnectionItem, LiveSubscriptionItem

    for model in (LiveConnectionItem, LiveSubscriptionItem):
        assert model.expires_at.attr_name == "expires_at"
