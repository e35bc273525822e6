"""One log line per refused request, not a traceback.

BentoML logs every request that fails validation at ERROR with the full traceback (~2.3 KB each). A client
sending bad input is not a server fault: it floods the log, buries real errors, costs time on the error path,
and a log pipe that nobody drains fills up and stalls the server. ``quiet_client_errors`` turns those records
into one WARNING line naming the fields; server faults (5xx) keep their traceback.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from bentoml.exceptions import BentoMLException
from pydantic import ValidationError

#: The logger BentoML's HTTP app reports request exceptions on (``log_exception``).
BENTOML_HTTP_LOGGER = "bentoml._internal.server.http_app"


def _summary(error: BaseException) -> str | None:
    """A one-line description of a client error, or ``None`` if ``error`` is not one."""
    if isinstance(error, ValidationError):
        fields = sorted({".".join(str(part) for part in e["loc"]) or "<body>" for e in error.errors()})
        return f"{error.error_count()} validation error(s) in {', '.join(fields)}"
    if isinstance(error, BentoMLException) and error.error_code < HTTPStatus.INTERNAL_SERVER_ERROR:
        return f"{int(error.error_code)} {error}"
    return None


class ClientErrorFilter(logging.Filter):
    """Rewrites a request-exception record caused by the client into a one-line WARNING."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        summary = _summary(error) if error is not None else None
        if summary is not None:
            args = record.args if isinstance(record.args, tuple) else ()
            # BentoML's message is "Exception on %s [%s]" with (path, method).
            where = f"{args[1]} {args[0]}" if len(args) == 2 else record.getMessage()
            record.msg = f"refused {where}: {summary}"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            record.levelno = logging.WARNING
            record.levelname = logging.getLevelName(logging.WARNING)
        return True


def quiet_client_errors(logger_name: str = BENTOML_HTTP_LOGGER) -> None:
    """Install ``ClientErrorFilter`` on BentoML's HTTP logger (idempotent; call once per worker)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, ClientErrorFilter) for f in logger.filters):
        logger.addFilter(ClientErrorFilter())
