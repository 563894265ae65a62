"""API Gateway Management API: posts data down a WebSocket connection of the live API.

The client (boto3 `apigatewaymanagementapi`) is created on first use, pointed at the
WebSocket API's callback URL (`https://<api>.execute-api.<region>.amazonaws.com/<stage>`,
`LIVE_CALLBACK_URL`). A connection that is gone (410 `GoneException`) is reported so that it
is forgotten; any other failure is logged and reported as failed, never raised: the client
also polls."""

from __future__ import annotations

from typing import Any

from chalicelib.live.ports import Delivery
from chalicelib.observability import logger

# A push waits on no one for long: the change that triggered it is already saved.
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 3


class ApiGatewayConnections:
    """`PushChannel` over the management API of one WebSocket API stage."""

    def __init__(self, callback_url: str, region: str) -> None:
        self._callback_url = callback_url.rstrip("/")
        self._region = region
        self._client: Any = None

    def _connections(self) -> Any:  # no type stubs for this client in the project
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "apigatewaymanagementapi",
                endpoint_url=self._callback_url,
                region_name=self._region,
                config=Config(
                    connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    read_timeout=READ_TIMEOUT_SECONDS,
                    retries={"mode": "standard", "total_max_attempts": 2},
                ),
            )
        return self._client

    def post(self, connection_id: str, data: bytes) -> Delivery:
        """One PostToConnection."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._connections().post_to_connection(ConnectionId=connection_id, Data=data)
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            if code == "GoneException":
                return Delivery.GONE
            logger.warning("live post refused", extra={"code": code})
            return Delivery.FAILED
        except BotoCoreError as e:
            logger.warning("live post failed", extra={"error": type(e).__name__})
            return Delivery.FAILED
        return Delivery.DELIVERED
