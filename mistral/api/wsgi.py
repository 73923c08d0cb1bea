"""WSGI entry point for a production server (``mistral.api.wsgi:application``).

The configuration comes from the default locations (``/etc/mistral/mistral.conf``
and friends) or the file named by ``MISTRAL_CONFIG_FILE``.
"""

from __future__ import annotations

import os

from mistral import config
from mistral.api import app as api_app
from mistral.utils import memory

_conf_file = os.environ.get("MISTRAL_CONFIG_FILE")
config.parse_args([], default_config_files=[_conf_file] if _conf_file else None)
config.setup_logging()
application = api_app.setup_app()
memory.freeze_startup_objects()
