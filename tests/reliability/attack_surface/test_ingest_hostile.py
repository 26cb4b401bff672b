"""The ingest endpoints of a real worker against hostile requests (issue 9, part 3).

Whatever comes in, the answer is a 4xx JSON error (never a 500, never a traceback) or an
acceptance; a payload that was taken for processing and rejected by its plugin ends as a
dead letter in the lake with the reason the sender was given; bodies over the configured
limits are refused before they are read; and the worker stays up.
"""

from __future__ import annotations

import base64
import re

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parkflow.lake import read_table
from parkflow.masking import mask_payload
from parkflow.parsing import DeadLetter
from tests.reliability.attack_surface import raw_http
from tests.reliability.attack_surface.conftest import MAX_BODY_BYTES, MAX_PAYLOAD_BYTES
from tests.reliability.hostile_payloads import (
    hostile_documents,
    registry,
    spliced_payloads,
    valid_payloads,
)
from tests.waiting import wait_for
from tests.worker_process import INGEST_TOKEN

pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {INGEST_TOKEN}"}
JSON = {**AUTH, "Content-Type": "application/json"}
READ = {
    "camera": {"id": "FAC-001-CAM-IN-1", "site": "FAC-001", "gate": "G-IN-1", "lane": 1},
    "read": {
        "id": "hostile-1",
        "direction": "in",
        "captured_at": "2026-11-20T08:00:00Z",
        "plate": {"text": "HT-101-P", "confidence": 90},
    },
}


def camera_read(**read: object) -> bytes:
    """A CamGuard read with some fields of `read` replaced."""
    return orjson.dumps({**READ, "read": {**READ["read"], **read}})


#: (vendor, body) that every plugin must reject with a reason, by what makes them hostile.
REJECTED = {
    "invalid utf-8": ("camguard", camera_read(id="x").replace(b"HT-101-P", b"HT-\xff\xfe-P")),
    "nested arrays": ("camguard", b"[" * 60_000),
    "nested objects": ("camguard", b'{"a":' * 10_000 + b"1" + b"}" * 10_000),
    "NaN": ("camguard", camera_read(id="nan").replace(b"90", b"NaN")),
    "Infinity": ("camguard", camera_read(id="inf").replace(b"90", b"-Infinity")),
    "huge number": ("camguard", camera_read(id="huge").replace(b"90", b"1e999")),
    "far future": ("camguard", camera_read(id="future", captured_at="9999-12-31T23:59:59Z")),
    "before year 1": ("camguard", camera_read(id="past", captured_at="0001-01-01T00:00:00+14:00")),
    "wrong types": ("camguard", orjson.dumps({**READ, "camera": ["FAC-001"]})),
    "SQL in an id": (
        "camguard",
        orjson.dumps({**READ, "camera": {**READ["camera"], "site": "x' OR 1=1 --"}}),
    ),
    "script": ("camguard", b"<script>alert(1)</script>"),
    "empty": ("camguard", b""),
    "NUL": ("camguard", b"\x00"),
    "at the payload limit": ("camguard", b"x" * MAX_PAYLOAD_BYTES),
    "CSV injection": (
        "paymaster",
        b'PAY;=HYPERLINK("x");FAC-1;20.11.2026 08:00:00;Europe/London;1;;AB-1;1;GBP;CC;OK;\n',
    ),
    "CSV far past": (
        "paymaster",
        b"PAY;T-1;FAC-1;01.01.0001 00:00:00;Asia/Tokyo;1;;AB-1;1;GBP;CC;OK;\n",
    ),
    "line protocol NaN": (
        "voltwatch",
        b"power,site=F,device=D voltage=NaN,current=1 1795162503120000000\n",
    ),
    "line protocol huge": (
        "voltwatch",
        b"power,site=F,device=D voltage=1e400,current=1 99999999999999999999\n",
    ),
}


def dead_letters(worker) -> dict[str, dict]:
    """The dead letters in the worker's lake, by id."""
    rows = read_table(worker.data_dir, "deadletter").to_pylist()
    return {row["dead_letter_id"]: row for row in rows}


def letter_id(vendor: str, payload: bytes) -> str:
    """The id the worker gives the dead letter of a payload posted over HTTP."""
    return DeadLetter.of(vendor, payload, "any reason").dead_letter_id


def assert_dead_letters(worker, rejected: list[tuple[str, bytes, str]]) -> None:
    """Each (vendor, payload, reason) lands as a dead letter: that reason, the payload's size,
    and its bytes masked (plates are hashed on this worker, so no clear plate may land)."""
    wanted = {letter_id(vendor, payload): (payload, reason) for vendor, payload, reason in rejected}
    assert wait_for(lambda: set(wanted) <= set(dead_letters(worker)), timeout=60)
    landed = dead_letters(worker)
    for key, (payload, reason) in wanted.items():
        letter = landed[key]
        assert letter["reason"] == reason
        assert letter["payload_size"] == len(payload)
        assert base64.b64decode(letter["payload_b64"]) == mask_payload(payload)


@pytest.fixture(scope="module")
def single_answers(exposed_worker) -> dict[str, tuple[str, bytes, raw_http.Answer]]:
    """The answer to each hostile payload, posted once."""
    answers = {}
    for name, (vendor, payload) in REJECTED.items():
        answer = raw_http.send(exposed_worker.port, "POST", f"/ingest/{vendor}", payload, AUTH)
        answers[name] = (vendor, payload, answer)
    return answers


def test_hostile_payloads_are_answered_422_with_a_json_reason(single_answers):
    wrong = {
        name: (answer.status, answer.body[:200])
        for name, (_, _, answer) in single_answers.items()
        if answer.status != 422 or not answer.is_json_error or b"Traceback" in answer.body
    }
    assert not wrong


def test_every_rejected_payload_is_a_dead_letter_with_the_reason(exposed_worker, single_answers):
    rejected = [(v, p, a.json["error"]) for v, p, a in single_answers.values() if a.status == 422]
    assert len(rejected) == len(REJECTED)
    assert_dead_letters(exposed_worker, rejected)


def too_many_items() -> bytes:
    return orjson.dumps(["x"] * 1001)


#: Requests refused before any plugin sees them: (method, path, headers, body, status).
REFUSED = {
    "body over the payload limit": (
        "POST",
        "/ingest/camguard",
        AUTH,
        b"x" * (MAX_PAYLOAD_BYTES + 1),
        413,
    ),
    "bulk over the body limit": (
        "POST",
        "/ingest/camguard/bulk",
        JSON,
        b"[" + b'"x",' * (MAX_BODY_BYTES // 4) + b'"x"]',
        413,
    ),
    "image content type": (
        "POST",
        "/ingest/camguard",
        {**AUTH, "Content-Type": "image/png"},
        b"\x89PNG\r\n",
        415,
    ),
    "multipart form": (
        "POST",
        "/ingest/camguard",
        {**AUTH, "Content-Type": "multipart/form-data; boundary=x"},
        b"--x--",
        415,
    ),
    "html for a JSON vendor": (
        "POST",
        "/ingest/camguard",
        {**AUTH, "Content-Type": "text/html"},
        b"<b>",
        415,
    ),
    "JSON for a CSV vendor": (
        "POST",
        "/ingest/paymaster",
        {**AUTH, "Content-Type": "application/json"},
        b"{}",
        415,
    ),
    "latin-1 charset": (
        "POST",
        "/ingest/camguard",
        {**AUTH, "Content-Type": "application/json; charset=latin-1"},
        b"{}",
        415,
    ),
    "content type of raw bytes": (
        "POST",
        "/ingest/camguard",
        {**AUTH, "Content-Type": b"\xff\xfe/\xfd"},
        b"{}",
        415,
    ),
    "bulk as CSV": (
        "POST",
        "/ingest/paymaster/bulk",
        {**AUTH, "Content-Type": "text/csv"},
        b"a;b",
        415,
    ),
    "bulk nested past the writer": (
        "POST",
        "/ingest/camguard/bulk",
        JSON,
        b"[" + b"[" * 300 + b"]" * 300 + b"]",
        400,
    ),
    "bulk nested past the reader": ("POST", "/ingest/camguard/bulk", JSON, b"[" * 5000, 400),
    "bulk of invalid utf-8": ("POST", "/ingest/camguard/bulk", JSON, b'["\xff\xfe"]', 400),
    "bulk of NaN": ("POST", "/ingest/camguard/bulk", JSON, b"[NaN]", 400),
    "bulk not an array": ("POST", "/ingest/camguard/bulk", JSON, b'{"a": 1}', 400),
    "bulk empty array": ("POST", "/ingest/camguard/bulk", JSON, b"[]", 400),
    "bulk of 1001": ("POST", "/ingest/camguard/bulk", JSON, too_many_items(), 400),
    "GET on ingest": ("GET", "/ingest/camguard", AUTH, b"", 405),
    "PUT on ingest": ("PUT", "/ingest/camguard", AUTH, b"{}", 405),
    "DELETE on bulk": ("DELETE", "/ingest/camguard/bulk", AUTH, b"", 405),
    "no vendor": ("POST", "/ingest/", AUTH, b"{}", 404),
    "path past the vendor": ("POST", "/ingest/camguard/bulk/more", AUTH, b"{}", 404),
    "vendor with SQL": ("POST", "/ingest/x'%20OR%201=1%20--", AUTH, b"{}", 404),
    "vendor NUL": ("POST", "/ingest/%00", AUTH, b"{}", 404),
    "dot-dot path": ("POST", "/ingest/..%2f..%2fetc%2fpasswd", AUTH, b"{}", 404),
    "unknown path": ("GET", "/admin", {}, b"", 404),
}


@pytest.mark.parametrize("case", REFUSED)
def test_hostile_requests_are_refused_with_a_json_error(exposed_worker, case):
    method, path, headers, body, status = REFUSED[case]
    answer = raw_http.send(exposed_worker.port, method, path, body, headers)
    assert answer.status == status, answer.body[:300]
    assert answer.is_json_error, answer.body[:300]
    assert b"Traceback" not in answer.body


TOKEN = INGEST_TOKEN.encode()
#: Requests aiohttp's HTTP parser refuses before any handler runs (400, as plain text).
MALFORMED = {
    "NUL after the token": b"Authorization: Bearer " + TOKEN + b"\x00\r\nContent-Length: 2",
    "CR inside the token": b"Authorization: Bearer " + TOKEN[:5] + b"\r" + TOKEN[5:],
    "header over 8 KiB": b"Authorization: Bearer " + TOKEN + b"A" * 9000,
    "negative length": b"Authorization: Bearer " + TOKEN + b"\r\nContent-Length: -1",
    "two lengths": b"Authorization: Bearer "
    + TOKEN
    + b"\r\nContent-Length: 2\r\nContent-Length: 3",
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_http_is_refused_and_no_header_reaches_the_log(exposed_worker, case):
    """aiohttp answers these 400 itself; the worker logs one line, not the header (with the
    token) and a traceback (`streaming.http_errors.MalformedRequestFilter`)."""
    request = b"POST /ingest/camguard HTTP/1.1\r\nHost: x\r\n" + MALFORMED[case] + b"\r\n\r\n{}"
    answer = raw_http.exchange(exposed_worker.port, request)
    assert re.match(rb"HTTP/1\.[01] 400 ", answer), answer[:200]
    assert exposed_worker.get("/health")["status"] == "ok"
    assert wait_for(lambda: "malformed HTTP request" in exposed_worker.log.read_text())
    assert INGEST_TOKEN[:12] not in exposed_worker.log.read_text(errors="replace")


def test_a_declared_huge_body_is_refused_before_it_is_sent(exposed_worker):
    """A Content-Length of 1 GiB: 413 at once, with only a few bytes actually sent."""
    answer = raw_http.declare(exposed_worker.port, "/ingest/camguard", AUTH, 2**30, b"[1,")
    assert answer.status == 413 and answer.is_json_error
    assert str(2**30) in answer.json["error"]


@pytest.mark.parametrize(
    ("path", "limit"),
    [("/ingest/camguard", MAX_PAYLOAD_BYTES), ("/ingest/camguard/bulk", MAX_BODY_BYTES)],
)
def test_an_endless_chunked_body_is_cut_off_at_the_limit(exposed_worker, path, limit):
    """No Content-Length and 64 MiB on the way: the answer (413) comes long before the end,
    and the worker's memory grows by far less than what was sent."""
    total = 64 * 2**20
    before = exposed_worker.rss_mib()
    answer = raw_http.stream(exposed_worker.port, path, JSON, b"[" * 65536, total)
    assert answer.status == 413 and answer.is_json_error
    assert answer.sent < total
    assert exposed_worker.rss_mib() - before < 32, "the body was held in memory"
    assert str(limit) in answer.json["error"]


def test_bulk_rejects_are_reported_by_index_and_dead_lettered(exposed_worker):
    good = camera_read(id="bulk-good").decode()
    items = [good, "<script>alert(1)</script>", {"camera": None}, [[[[]]]], "\u0000", 1e308]
    answer = raw_http.send(
        exposed_worker.port, "POST", "/ingest/camguard/bulk", orjson.dumps(items), JSON
    )
    assert answer.status == 207, answer.body[:300]
    assert answer.json["accepted"] == 1
    rejected = answer.json["rejected"]
    assert [r["index"] for r in rejected] == [1, 2, 3, 4, 5]
    payloads = [i.encode() if isinstance(i, str) else orjson.dumps(i) for i in items]
    assert_dead_letters(
        exposed_worker, [("camguard", payloads[r["index"]], r["error"]) for r in rejected]
    )


@st.composite
def posts(draw: st.DrawFn) -> tuple[str, bytes]:
    """A vendor and a hostile payload for it: a whole document, or a valid one spliced."""
    vendor = draw(st.sampled_from(registry().names()))
    valid = valid_payloads(registry().get(vendor))
    return vendor, draw(hostile_documents() | spliced_payloads(valid))


def test_random_hostile_payloads_are_dead_letters_or_events(exposed_worker):
    """Hypothesis posts hostile payloads to every vendor's endpoint: each is accepted (202,
    and its events land) or rejected (422, and it lands as a dead letter with the reason)."""
    rejected: list[tuple[str, bytes, str]] = []
    accepted: set[str] = set()

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(posts())
    def run(post: tuple[str, bytes]) -> None:
        vendor, payload = post
        plugin = registry().get(vendor)
        headers = {**AUTH, "Content-Type": plugin.content_type}
        answer = raw_http.send(exposed_worker.port, "POST", f"/ingest/{vendor}", payload, headers)
        assert answer.status in (202, 413, 422), answer.body[:300]
        assert answer.is_json_error or answer.status == 202
        if answer.status == 422:
            rejected.append((vendor, payload, answer.json["error"]))
        elif answer.status == 202:
            accepted.update(event.event_id for event in plugin.parse(payload))

    run()
    assert rejected
    assert_dead_letters(exposed_worker, rejected)

    def landed() -> bool:
        ids = set(read_table(exposed_worker.data_dir, "events").column("event_id").to_pylist())
        return accepted <= ids

    assert wait_for(landed, timeout=60)


def test_the_worker_is_still_healthy_and_logged_no_unexpected_error(exposed_worker):
    """After everything above (this module runs in file order): alive, healthy, and no
    request ended in an unexpected exception (the middleware would have logged it)."""
    assert exposed_worker.process.poll() is None
    assert exposed_worker.get("/health")["status"] == "ok"
    log = exposed_worker.log.read_text(errors="replace")
    assert "unexpected error answering" not in log
    assert "Error handling request" not in log
