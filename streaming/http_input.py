"""What the ingest endpoints check of a request before its payload reaches a plugin.

- the body is read up to a limit: a declared `Content-Length` over it is refused before a
  byte is read, and a chunked body is cut off as soon as it passes the limit, so one request
  never holds more than the limit in memory;
- the `Content-Type`, when given, must suit the plugin (see `content_type_problem`);
- the bearer token is taken from `Authorization` as bytes, whatever bytes the client sent
  (the comparison itself is `hmac.compare_digest`, in `streaming.web`).
"""

from __future__ import annotations

from aiohttp import web

#: Media types every plugin accepts: raw bytes, and what curl -d / urllib send by default.
ANY_PLUGIN = frozenset({"application/octet-stream", "application/x-www-form-urlencoded"})
UTF8_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_CHUNK = 65536


class BodyTooLarge(Exception):
    """The request body is over the limit (it was not read to the end)."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        size = f"{declared} bytes" if declared is not None else "more than that"
        super().__init__(f"request body is {size}; the limit is {limit} bytes")
        self.limit = limit


async def read_body(request: web.Request, limit: int) -> bytes:
    """The request body, or `BodyTooLarge` as soon as it is known to be over `limit` bytes."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise BodyTooLarge(limit, declared)
    body = bytearray()
    while chunk := await request.content.read(_CHUNK):
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(limit)
    return bytes(body)


def _media_type(value: str) -> tuple[str, dict[str, str]]:
    kind, *parameters = value.split(";")
    params = {}
    for parameter in parameters:
        name, _, setting = parameter.partition("=")
        params[name.strip().lower()] = setting.strip().strip('"').lower()
    return kind.strip().lower(), params


def accepted_media_types(plugin_content_type: str) -> frozenset[str]:
    """The media types a plugin's payloads may be sent as (besides `ANY_PLUGIN`)."""
    own, _ = _media_type(plugin_content_type)
    kinds = {own}
    if own == "application/json" or own.endswith("+json"):
        kinds |= {"application/json", "text/json"}
    elif own.startswith("text/"):
        kinds.add("text/plain")
    return frozenset(kinds)


def content_type_problem(header: str | None, plugin_content_type: str) -> str | None:
    """Why a request's Content-Type does not suit the plugin, or None when it does.

    No Content-Type, the plugin's own media type (and its plain relatives: text/plain for a
    text format, application/json for a JSON one), application/octet-stream and
    application/x-www-form-urlencoded (the default of curl -d and many HTTP libraries) are
    accepted; a charset other than UTF-8 is not, because every plugin reads UTF-8.
    """
    if header is None or not header.strip():
        return None
    kind, params = _media_type(header)
    allowed = accepted_media_types(plugin_content_type)
    if kind not in allowed | ANY_PLUGIN:
        return (
            f"Content-Type {kind[:60]!r} is not accepted here: send "
            f"{', '.join(sorted(allowed))} or application/octet-stream"
        )
    charset = params.get("charset")
    if charset is not None and charset not in UTF8_CHARSETS:
        return f"charset {charset[:30]!r} is not accepted: payloads are read as UTF-8"
    return None


def bearer_token(header: str | None) -> bytes | None:
    """The token of `Authorization: Bearer <token>` as bytes, or None when there is none.

    aiohttp keeps header bytes that are not UTF-8 as lone surrogates; encoding with
    `surrogatepass` turns any string into bytes, so a hostile header is compared (and
    refused) instead of raising.
    """
    if not header or not header.startswith("Bearer "):
        return None
    token = header[len("Bearer ") :]
    return token.encode("utf-8", "surrogatepass") if token else None
