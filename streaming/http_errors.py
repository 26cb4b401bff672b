"""Every error of the worker's web server is a JSON object, and none shows a traceback.

The aiohttp middleware below turns what the router and aiohttp raise (404 for an unknown
path, 405 for a wrong method, ...) into `{"error": ...}` with the same status and headers,
and an unexpected exception into a 500 JSON answer without details: the traceback goes to
the worker's log, never to the client. The views answer bad input with 4xx themselves.

Requests too malformed to reach a handler (a NUL in a header, a header over 8 KiB) are
answered 400 by aiohttp's HTTP parser itself, which logs the offending header line with a
traceback: `MalformedRequestFilter` cuts that record to one line, so a bearer token in a
broken `Authorization` header never reaches the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: Headers of an aiohttp HTTP error worth keeping on the JSON answer.
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON error answer: `{"error": message}` with `status`."""
    return web.json_response({"error": message}, status=status, headers=headers)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer HTTP errors as JSON; log unexpected exceptions and answer a bare 500."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and the like are not errors
        headers = {name: exc.headers[name] for name in _KEPT_HEADERS if name in exc.headers}
        message = exc.reason
        if exc.status == 405 and "Allow" in headers:
            message = f"method {request.method} is not allowed here (allowed: {headers['Allow']})"
        return json_error(exc.status, message, headers)
    except asyncio.CancelledError:
        raise
    except Exception:
        # the path only: headers (Authorization) and bodies never reach the log
        log.exception("unexpected error answering %s %s", request.method, request.path)
        return json_error(500, "internal error; the worker logged the details")


class MalformedRequestFilter(logging.Filter):
    """Log a request aiohttp's parser refused as one warning, without its header lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record of a refused request; let every other record through."""
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            record.msg = "refused a malformed HTTP request (%s, %s)"
            record.args = (error.code, type(error).__name__)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def install_log_filter() -> None:
    """Filter what aiohttp's server logs about malformed requests (see the module doc)."""
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedRequestFilter) for f in server_log.filters):
        server_log.addFilter(MalformedRequestFilter())
