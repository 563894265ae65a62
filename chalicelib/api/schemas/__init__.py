"""Request and response schemas of the public API (also the source of the OpenAPI document).

One module per capability; everything is re-exported here, where routes name them
(`operation(..., body="SignupIn")`)."""

from chalicelib.api.schemas.ai import *  # noqa: F403
from chalicelib.api.schemas.canned import *  # noqa: F403
from chalicelib.api.schemas.common import *  # noqa: F403
from chalicelib.api.schemas.contacts import *  # noqa: F403
from chalicelib.api.schemas.helpcentre import *  # noqa: F403
from chalicelib.api.schemas.kb import *  # noqa: F403
from chalicelib.api.schemas.mail import *  # noqa: F403
from chalicelib.api.schemas.tickets import *  # noqa: F403
