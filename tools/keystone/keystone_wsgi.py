"""Keystone's public WSGI application for gunicorn.

Keystone parses ``sys.argv`` with oslo.config when it loads, and rejects gunicorn's own arguments;
so the worker forgets them first. The configuration comes from ``OS_KEYSTONE_CONFIG_FILES``.
"""

import sys

sys.argv = sys.argv[:1]

from keystone.wsgi.api import application  # noqa: E402

__all__ = ["application"]
