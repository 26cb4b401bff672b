"""Ingest requires the bearer token, compared in constant time (issue 9, part 5a).

Against a real worker: every missing, wrong or malformed `Authorization` header is answered
401 with a JSON error and `WWW-Authenticate: Bearer`, on both ingest endpoints, before the
body is looked at; the right token gets through. The comparison itself is checked in the
source: `hmac.compare_digest`, and no `==` on the token anywhere in the worker's views.
"""

from __future__ import annotations

import ast
import base64
from pathlib import Path

import pytest

import streaming
from tests.reliability.attack_surface import raw_http
from tests.worker_process import INGEST_TOKEN

pytestmark = pytest.mark.integration

TOKEN = INGEST_TOKEN.encode()
BAD_AUTHORIZATION: dict[str, bytes | None] = {
    "missing": None,
    "empty": b"",
    "scheme only": b"Bearer",
    "scheme and a space": b"Bearer ",
    "wrong token": b"Bearer wrong",
    "token and one more character": b"Bearer " + TOKEN + b"x",
    "token short of one character": b"Bearer " + TOKEN[:-1],
    "token in upper case": b"Bearer " + TOKEN.upper(),
    "token without a scheme": TOKEN,
    "basic scheme": b"Basic " + base64.b64encode(b"parkflow:" + TOKEN),
    "two spaces": b"Bearer  " + TOKEN,
    "token twice": b"Bearer " + TOKEN + b", Bearer " + TOKEN,
    "bytes that are not UTF-8": b"Bearer \xff\xfe" + TOKEN,
    "a token of 7 KiB": b"Bearer " + b"t" * 7000,
}
PATHS = ("/ingest/camguard", "/ingest/camguard/bulk")
BODY = b'["a payload that must never be looked at"]'


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", BAD_AUTHORIZATION)
def test_a_missing_wrong_or_malformed_token_is_answered_401(exposed_worker, path, case):
    value = BAD_AUTHORIZATION[case]
    headers = {} if value is None else {"Authorization": value}
    answer = raw_http.send(exposed_worker.port, "POST", path, BODY, headers)
    assert answer.status == 401, answer.body[:200]
    assert answer.is_json_error
    assert answer.headers.get("www-authenticate") == "Bearer"
    assert TOKEN not in answer.body  # nothing of what was sent is echoed


@pytest.mark.parametrize("path", PATHS)
def test_the_right_token_gets_through(exposed_worker, path):
    """The same request with the token: past the guard (the body is then judged)."""
    headers = {"Authorization": b"Bearer " + TOKEN}
    answer = raw_http.send(exposed_worker.port, "POST", path, BODY, headers)
    assert answer.status in (202, 207, 422), answer.body[:200]


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_the_token_is_compared_with_hmac_compare_digest():
    tree = ast.parse((Path(streaming.__file__).parent / "web.py").read_text())
    authorized = _functions(tree)["_authorized"]
    calls = [ast.unparse(node.func) for node in ast.walk(authorized) if isinstance(node, ast.Call)]
    assert "hmac.compare_digest" in calls
    equality = [n for n in ast.walk(authorized) if isinstance(n, ast.Compare)]
    assert all(isinstance(op, ast.Is | ast.IsNot) for n in equality for op in n.ops)
    # no ordinary comparison of anything holding the token, only `is None` checks
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and "token" in ast.unparse(node).lower():
            assert all(isinstance(op, ast.Is | ast.IsNot) for op in node.ops), ast.unparse(node)


def test_two_tokens_let_senders_move_to_a_new_one(exposed_broker, tmp_path):
    """Rotation: with `PARKFLOW_INGEST_TOKEN=new,old` both get in, each counted on /metrics
    by its position, so the old one can be removed once its count stops growing."""
    from tests.worker_process import WorkerProcess

    new, old = "rotated-in-3b9e41f07c", INGEST_TOKEN
    worker = WorkerProcess(
        exposed_broker.bootstrap, tmp_path, env={"PARKFLOW_INGEST_TOKEN": f"{new},{old}"}
    ).start()
    try:
        for token, uses in ((new, 2), (old, 1)):
            for _ in range(uses):
                answer = raw_http.send(worker.port, "POST", PATHS[0], BODY, bearer(token))
                assert answer.status in (202, 422), answer.body[:200]
        refused = raw_http.send(worker.port, "POST", PATHS[0], BODY, bearer(new + old))
        assert refused.status == 401
        _, metrics = worker.request("GET", "/metrics")
        assert 'parkflow_ingest_token_uses_total{token="1"} 2' in metrics
        assert 'parkflow_ingest_token_uses_total{token="2"} 1' in metrics
        assert new not in metrics and old not in metrics
    finally:
        worker.stop()


def bearer(token: str) -> dict[str, bytes]:
    return {"Authorization": b"Bearer " + token.encode()}
