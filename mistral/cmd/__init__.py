"""Entry points: ``mistral-server`` and ``mistral-db-manage``."""

import warnings

# NOTE: oslo.messaging imports oslo.service, whose eventlet backend warns at import, before
# oslo.log is set up: the warning would land on stderr of a server told to log to a file.
# It is set here, before the commands import anything else of ours.
warnings.filterwarnings("ignore", module="oslo_service")
