"""Print, as JSON, what infra needs to know about the app in this process's environment.

`python -m infra.describe` -> {"resources": <template>, "event_sources": [...],
"deployment": {"function_names", "secrets_path"}, "policies": {<function>: <policy>}}
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

from chalice import Chalice
from chalice.app import ScheduledEventConfig, SQSEventConfig

from chalicelib.settings import get_settings
from infra.iam import function_name, function_policies, secrets_path
from infra.template import PROJECT_DIR, build_resource_template

# chalice's function names for the WebSocket API's routes (any other route: the message one).
WEBSOCKET_FUNCTIONS = {"$connect": "websocket_connect", "$disconnect": "websocket_disconnect"}


def load_app() -> Chalice:
    """Import the project's `app.py` and return its Chalice app."""
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    app: Chalice = importlib.import_module("app").app
    return app


def describe_event_sources(app: Chalice) -> list[dict[str, Any]]:
    """SQS, schedule and WebSocket event sources of `app`, as plain dicts."""
    sources: list[dict[str, Any]] = []
    for source in app.event_sources:
        if isinstance(source, SQSEventConfig):
            queue = source.queue
            if queue is None and source.queue_arn:
                queue = source.queue_arn.rsplit(":", 1)[-1]
            sources.append(
                {
                    "kind": "sqs",
                    "name": source.name,
                    "handler_string": source.handler_string,
                    "queue": queue,
                    "batch_size": source.batch_size,
                }
            )
        elif isinstance(source, ScheduledEventConfig):
            expression = source.schedule_expression
            sources.append(
                {
                    "kind": "schedule",
                    "name": source.name,
                    "handler_string": source.handler_string,
                    "expression": expression
                    if isinstance(expression, str)
                    else expression.to_string(),
                }
            )
    # Chalice deploys each WebSocket route's handler as a function of its own.
    for route_key, handler in sorted(app.websocket_handlers.items()):
        sources.append(
            {
                "kind": "websocket",
                "name": WEBSOCKET_FUNCTIONS.get(route_key, "websocket_message"),
                "handler_string": handler.handler_string,
                "route_key": route_key,
            }
        )
    return sources


def main() -> None:
    settings = get_settings()
    event_sources = describe_event_sources(load_app())
    policies = function_policies(settings, event_sources)
    description = {
        "resources": build_resource_template(settings),
        "event_sources": event_sources,
        "deployment": {
            "function_names": {
                function: function_name(settings, function) for function in policies
            },
            "secrets_path": secrets_path(settings),
        },
        "policies": policies,
    }
    json.dump(description, sys.stdout, indent=2)


if __name__ == "__main__":
    main()
