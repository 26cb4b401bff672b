"""An HTTP client that sends what a hostile one would: any header bytes, lying lengths,
endless chunked bodies. Every answer is returned, never raised."""

from __future__ import annotations

import http.client
import json
import select
import socket
from dataclasses import dataclass, field
from typing import Any

Headers = dict[str, str | bytes]


@dataclass
class Answer:
    """One HTTP answer: status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes
    sent: int = 0  # bytes of request body sent before the answer came
    json: Any = field(init=False)

    def __post_init__(self) -> None:
        try:
            self.json = json.loads(self.body)
        except ValueError:
            self.json = None

    @property
    def is_json_error(self) -> bool:
        """A JSON object with a non-empty "error", served as application/json."""
        return (
            self.headers.get("content-type", "").startswith("application/json")
            and isinstance(self.json, dict)
            and isinstance(self.json.get("error"), str)
            and bool(self.json["error"].strip())
        )


def _answer(response: http.client.HTTPResponse, sent: int = 0) -> Answer:
    headers = {name.lower(): value for name, value in response.getheaders()}
    return Answer(response.status, headers, response.read(), sent)


def send(port: int, method: str, path: str, body: bytes = b"", headers: Headers | None = None):
    """One request with exactly these headers (values may be any bytes) and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        given = {k.lower() for k in (headers or {})}
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if "content-length" not in given and "transfer-encoding" not in given:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        return _answer(connection.getresponse())
    finally:
        connection.close()


def stream(port: int, path: str, headers: Headers, chunk: bytes, total: int) -> Answer:
    """Send a chunked body of up to `total` bytes, stopping as soon as an answer arrives."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Transfer-Encoding: chunked"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sent = 0
        framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        while sent < total and not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(framed)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered and closed: read what it said
            sent += len(chunk)
        else:
            if sent >= total:  # the whole body went out: end it, then wait for the answer
                sock.sendall(b"0\r\n\r\n")
        response = http.client.HTTPResponse(sock, method="POST")
        response.begin()
        return _answer(response, sent)


def declare(port: int, path: str, headers: Headers, length: int, actually: bytes) -> Answer:
    """Declare a `Content-Length` of `length` but send only `actually`, then read the answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest("POST", path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(length))
        connection.endheaders(actually)
        return _answer(connection.getresponse())
    finally:
        connection.close()


def exchange(port: int, data: bytes) -> bytes:
    """Write `data` as it is (not necessarily HTTP) and return all the server writes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received
