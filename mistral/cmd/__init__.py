"""Entry points: ``mistral-server`` and ``mistral-db-manage``."""

import os
import warnings

# NOTE: oslo.messaging imports oslo.service, whose eventlet backend warns at import, before
# oslo.log is set up: the warning would land on stderr of a server told to log to a file.
# It is set here, before the commands import anything else of ours.
warnings.filterwarnings("ignore", module="oslo_service")

# NOTE: oslo.messaging imports eventlet even on its threading executor (oslo.service's default
# backend, oslo.messaging's own check for monkey patching); eventlet's green DNS resolver then
# imports dnspython and its DNSSEC support: 240 modules and some 8 MB of RSS in every process,
# for a resolver that only a monkey-patched process would use. The API's reader process, started
# from here, inherits the setting.
os.environ.setdefault("EVENTLET_NO_GREENDNS", "yes")
