"""Builds the Helptal Chalice app: blueprints, workers, schedules and middleware.

Nothing heavy happens at import: clients and SDKs are created on first use
(`chalicelib.bootstrap`).
"""

import os

from chalice import Chalice

from chalicelib.api import register_api
from chalicelib.api.front_door import install_front_door
from chalicelib.api.middleware import install_http_middleware
from chalicelib.websocket_handlers import register_websocket_handlers
from chalicelib.workers import register_workers

# No pydantic plugins are used: skip scanning every installed package's entry points for them
# when the first schema is built (tens of milliseconds of a cold start).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

# Logs go through the Powertools Logger (JSON); Chalice adds no handler of its own.
app = Chalice(app_name="helptal", configure_logs=False)
# Mailgun posts mail with attachments as multipart: keep those bodies byte-exact.
app.api.binary_types.append("multipart/form-data")
install_http_middleware(app)
install_front_door(app)
register_api(app)
register_workers(app)
# Live pushes (API Gateway WebSocket); the handlers' functions name `app.<handler>`.
websocket_connect, websocket_message, websocket_disconnect = register_websocket_handlers(app)
