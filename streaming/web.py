"""HTTP views on the worker's web server (127.0.0.1 by default).

- `GET /health`: 200 once the worker runs.
- `GET /live/occupancy`, `GET /live/alerts`, `GET /live/devices`: what the agents hold now,
  with `event_time` (the newest event time counted: the "now" of an alert's age) and, on
  occupancy, `backlog` (payloads and batches still to read; `catching_up` while the counts
  are half-way through a backlog, when the dashboards show no figures).
- `GET /metrics`: Prometheus text (payloads, events, sessions, alerts, sink, consumer lag).
- `POST /ingest/{vendor}`: one vendor payload, or `POST /ingest/{vendor}/bulk` with a JSON
  array of payloads (partial success), behind `Authorization: Bearer $PARKFLOW_INGEST_TOKEN`.
  A payload is checked with its plugin first, so the sender learns at once what is wrong;
  accepted ones are answered 202 only after the broker has them; rejected ones are kept as
  dead letters too. A body over the limit is refused with 413 before it is read, a
  Content-Type that does not suit the plugin with 415 (`streaming.http_input`).
  When the broker does not acknowledge within `PARKFLOW_INGEST_TIMEOUT_S` (down, paused,
  unreachable) the answer is 503 with Retry-After, never a hang or a 500.

Every error is a JSON object `{"error": ...}`, never a traceback (`streaming.http_errors`).
"""

from __future__ import annotations

import asyncio
import hmac
from datetime import UTC, datetime

import orjson
from aiokafka.errors import KafkaError
from faust.exceptions import ProducerSendError
from faust.web import Request, Response, View

from parkflow.kafka import DEADLETTER_TOPIC, raw_topic
from parkflow.parsing import DeadLetter, FeedClock, parse_payload
from parkflow.records import AlertState
from parkflow.registry import UnknownPluginError
from streaming import metrics
from streaming.agents import devices, occupancy
from streaming.app import app, plugins, settings
from streaming.backlog import backlog
from streaming.http_input import (
    BodyTooLarge,
    bearer_token,
    content_type_problem,
    read_body,
)

#: Most payloads in one bulk request (its body is limited by `ingest_max_body_bytes`).
MAX_BULK_ITEMS = 1000
#: The media type of a bulk request's body (a JSON array of payloads).
BULK_CONTENT_TYPE = "application/json"
#: What a send to a broker that is down, paused or unreachable ends in (answered 503).
BROKER_ERRORS = (TimeoutError, OSError, KafkaError, ProducerSendError)
#: Seconds a client is told to wait before it retries after a 503.
RETRY_AFTER_S = 5
#: Per vendor, the newest event time accepted over HTTP: where a rejected payload is in its feed.
ingest_clock = FeedClock()


def _now() -> datetime:
    return datetime.now(UTC)


@app.page("/health")
async def health(web: View, request: Request) -> Response:
    """200 once the worker runs: which agents it hosts and how many partitions it owns."""
    return web.json(
        {
            "status": "ok",
            "agents": sorted(agent.name for agent in app.agents.values()),
            "assigned_partitions": len(app.consumer.assignment()),
        }
    )


def _event_time() -> str | None:
    """The newest event time the live views have counted, ISO 8601 (None before any)."""
    seen = [t for t in (occupancy.tracker.newest, devices.clock.newest) if t is not None]
    return max(seen).isoformat() if seen else None


@app.page("/live/occupancy")
async def live_occupancy(web: View, request: Request) -> Response:
    """Vehicles inside per facility and occupied bays per zone, as counted now, and how far
    the worker is from the end of its input."""
    rows = [row.model_dump(mode="json") for row in occupancy.tracker.snapshot()]
    behind = backlog(app)
    return web.json(
        {
            "as_of": _now().isoformat(),
            "event_time": _event_time(),
            "backlog": {
                "payloads": behind.payloads,
                "batches": behind.batches,
                "catching_up": behind.catching_up,
            },
            "occupancy": rows,
        }
    )


@app.page("/live/alerts")
async def live_alerts(web: View, request: Request) -> Response:
    """Open device and capacity alerts."""
    mappings = [m.open_alerts for m in devices.monitors.values()] + [occupancy.tracker.open_alerts]
    open_alerts = [
        alert.model_dump(mode="json")
        for mapping in mappings
        for alert in list(mapping.values())
        if alert.state is AlertState.OPEN
    ]
    open_alerts.sort(key=lambda alert: alert["opened_at"])
    return web.json(
        {"as_of": _now().isoformat(), "event_time": _event_time(), "alerts": open_alerts}
    )


@app.page("/live/devices")
async def live_devices(web: View, request: Request) -> Response:
    """Every device that reported: last seen, open alerts, health score and status."""
    now = devices.clock.newest or _now()
    rows = [d.model_dump(mode="json") for m in devices.monitors.values() for d in m.devices(now)]
    return web.json({"as_of": now.isoformat(), "devices": rows})


@app.page("/metrics")
async def prometheus_metrics(web: View, request: Request) -> Response:
    """Prometheus text: counters of the agents plus the consumer lag per topic."""
    lag: dict[tuple[tuple[str, str], ...], float] = {}
    monitor = app.monitor
    for tp, end in dict(monitor.tp_end_offsets).items():
        committed = monitor.tp_committed_offsets.get(tp, -1)
        key = (("topic", tp.topic),)
        lag[key] = lag.get(key, 0) + max(0, end - committed - 1)
    text = metrics.render([("parkflow_consumer_lag", "Messages not yet committed, by topic.", lag)])
    return web.text(text, content_type="text/plain; version=0.0.4")


def _authorized(request: Request) -> bool:
    """True when the request carries one of the ingest tokens; counts which one (1, 2, ...)."""
    given = bearer_token(request.headers.get("Authorization"))
    if given is None:
        return False
    # every token is compared, so the time taken does not tell which one matched
    matches = [hmac.compare_digest(given, token) for token in settings.ingest_tokens]
    if not any(matches):
        return False
    metrics.inc("parkflow_ingest_token_uses_total", token=str(matches.index(True) + 1))
    return True


async def _accept(vendor: str, payload: bytes, acks: list[asyncio.Future]) -> str | None:
    """Check one payload; send it on (its delivery joins `acks`) or dead-letter it. The reason
    when rejected."""
    result = parse_payload(plugins.get(vendor), payload, max_bytes=settings.max_payload_bytes)
    if not result.ok:
        letter = DeadLetter.of(
            vendor,
            payload,
            result.error,
            topic=f"http:/ingest/{vendor}",
            mask=settings.hash_plates,
            feed_time=ingest_clock.feed_time(vendor),
        )
        await app.send(
            DEADLETTER_TOPIC,
            key=vendor.encode(),
            value=letter.model_dump_json(),
            key_serializer="raw",
            value_serializer="raw",
        )
        metrics.inc("parkflow_payloads_total", vendor=vendor, outcome="http_rejected")
        return result.error
    ingest_clock.saw(vendor, result.events)
    acks.append(await app.send(raw_topic(vendor), key=None, value=payload, value_serializer="raw"))
    return None


async def _broker_has(acks: list[asyncio.Future]) -> None:
    """Wait until the broker acknowledged every send. Shielded: a request that times out
    leaves its sends to the producer, which still delivers them once the broker is back."""
    if acks:
        await asyncio.shield(asyncio.gather(*acks))


class _IngestBase(View):
    async def _guard(
        self, request: Request, vendor: str, content_type: str | None = None
    ) -> Response | None:
        """The refusal of a request that must not reach a plugin, or None."""
        if settings.ingest_token is None:
            return self.error(403, "HTTP ingest is disabled: set PARKFLOW_INGEST_TOKEN")
        if not _authorized(request):
            return self.json(
                {"error": "missing or wrong bearer token"},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            plugin = plugins.get(vendor)
        except UnknownPluginError:
            return self.error(404, f"unknown vendor {vendor[:40]!r}", vendors=plugins.names())
        problem = content_type_problem(
            request.headers.get("Content-Type"), content_type or plugin.content_type
        )
        if problem:
            return self.error(415, problem)
        return None

    def _unavailable(self, vendor: str, exc: BaseException) -> Response:
        """503 with a reason and Retry-After: the broker did not take the payloads in time."""
        metrics.inc("parkflow_payloads_total", vendor=vendor, outcome="http_unavailable")
        cause = "no acknowledgement" if isinstance(exc, TimeoutError) else type(exc).__name__
        return self.json(
            {
                "error": f"the broker did not take the payload within "
                f"{settings.ingest_timeout_s:g} s ({cause}); retry later (a payload sent "
                "twice is stored once)",
                "retry_after_s": RETRY_AFTER_S,
            },
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    async def _body(self, request: Request, limit: int) -> bytes | Response:
        """The request body, or a 413 answer when it is over `limit` bytes."""
        try:
            return await read_body(request, limit)
        except BodyTooLarge as exc:
            return self.error(413, str(exc))


@app.page("/ingest/{vendor}")
class Ingest(_IngestBase):
    """POST one vendor payload as the body."""

    async def post(self, request: Request, vendor: str) -> Response:
        refused = await self._guard(request, vendor)
        if refused is not None:
            return refused
        payload = await self._body(request, settings.max_payload_bytes)
        if not isinstance(payload, bytes):  # the 413 answer
            return payload
        acks: list[asyncio.Future] = []
        try:
            async with asyncio.timeout(settings.ingest_timeout_s):
                error = await _accept(vendor, payload, acks)
                await _broker_has(acks)
        except BROKER_ERRORS as exc:
            return self._unavailable(vendor, exc)
        if error:
            return self.error(422, error)
        return self.json({"accepted": 1}, status=202)


@app.page("/ingest/{vendor}/bulk")
class IngestBulk(_IngestBase):
    """POST a JSON array of payloads: strings as they are, other JSON values serialised."""

    async def post(self, request: Request, vendor: str) -> Response:
        refused = await self._guard(request, vendor, BULK_CONTENT_TYPE)
        if refused is not None:
            return refused
        body = await self._body(request, settings.ingest_max_body_bytes)
        if not isinstance(body, bytes):  # the 413 answer
            return body
        try:
            items = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return self.error(400, f"body must be a JSON array of payloads: {exc.msg}")
        if not isinstance(items, list) or not 0 < len(items) <= MAX_BULK_ITEMS:
            return self.error(400, f"body must be a JSON array of 1 to {MAX_BULK_ITEMS} payloads")
        try:  # all of them first: a body that cannot be split is refused as a whole
            payloads = [_payload_bytes(item) for item in items]
        except orjson.JSONEncodeError as exc:
            return self.error(400, f"a payload of the array cannot be read back: {exc}")
        errors = []
        acks: list[asyncio.Future] = []
        try:
            async with asyncio.timeout(settings.ingest_timeout_s):
                for index, payload in enumerate(payloads):
                    error = await _accept(vendor, payload, acks)
                    if error:
                        errors.append({"index": index, "error": error})
                await _broker_has(acks)  # all at once: the producer batches them
        except BROKER_ERRORS as exc:
            return self._unavailable(vendor, exc)
        answer = {"accepted": len(items) - len(errors), "rejected": errors}
        return self.json(answer, status=207 if errors else 202)


def _payload_bytes(item: object) -> bytes:
    """One bulk item as the payload bytes: a string as it is, another JSON value serialised.

    orjson reads arrays nested up to 1024 levels but writes only 254: a deeper item raises
    `orjson.JSONEncodeError`.
    """
    return item.encode() if isinstance(item, str) else orjson.dumps(item)
