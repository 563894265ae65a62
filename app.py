"""Builds the Helptal Chalice app: blueprints, workers, schedules and middleware.

Nothing heavy happens at import: clients and SDKs are created on first use
(`chalicelib.bootstrap`).
"""

from chalice import Chalice

from chalicelib.api import register_api
from chalicelib.api.middleware import install_http_middleware
from chalicelib.workers import register_workers

app = Chalice(app_name="helptal")
install_http_middleware(app)
register_api(app)
register_workers(app)
