"""HTTP views on the worker's web server (127.0.0.1 by default).

- `GET /health`: 200 once the worker runs.
- `GET /live/occupancy`, `GET /live/alerts`, `GET /live/devices`: what the agents hold now.
- `GET /metrics`: Prometheus text (payloads, events, sessions, alerts, sink, consumer lag).
- `POST /ingest/{vendor}`: one vendor payload, or `POST /ingest/{vendor}/bulk` with a JSON
  array of payloads (partial success), behind `Authorization: Bearer $PARKFLOW_INGEST_TOKEN`.
  A payload is checked with its plugin first, so the sender learns at once what is wrong;
  accepted ones are answered 202 only after the broker has them; rejected ones are kept as
  dead letters too.
"""

from __future__ import annotations

import asyncio
import hmac
from datetime import UTC, datetime

import orjson
from faust.web import Request, Response, View

from parkflow.kafka import DEADLETTER_TOPIC, raw_topic
from parkflow.parsing import DeadLetter, parse_payload
from parkflow.records import AlertState
from parkflow.registry import UnknownPluginError
from streaming import metrics
from streaming.agents import devices, occupancy
from streaming.app import app, plugins, settings

#: Largest bulk request: the web server refuses bigger bodies before reading them.
MAX_BULK_ITEMS = 1000
SEND_TIMEOUT_S = 10.0


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


@app.page("/live/occupancy")
async def live_occupancy(web: View, request: Request) -> Response:
    """Vehicles inside per facility and occupied bays per zone, as counted now."""
    rows = [row.model_dump(mode="json") for row in occupancy.tracker.snapshot()]
    return web.json({"as_of": _now().isoformat(), "occupancy": rows})


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
    return web.json({"as_of": _now().isoformat(), "alerts": open_alerts})


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
    expected = settings.ingest_token
    given = request.headers.get("Authorization", "")
    if expected is None or not given.startswith("Bearer "):
        return False
    return hmac.compare_digest(given[7:].encode(), expected.get_secret_value().encode())


async def _accept(vendor: str, payload: bytes) -> str | None:
    """Check one payload; send it on (or dead-letter it). The reason when rejected."""
    result = parse_payload(plugins.get(vendor), payload, max_bytes=settings.max_payload_bytes)
    if not result.ok:
        letter = DeadLetter.of(vendor, payload, result.error, topic=f"http:/ingest/{vendor}")
        await app.send(
            DEADLETTER_TOPIC,
            key=vendor.encode(),
            value=letter.model_dump_json(),
            key_serializer="raw",
            value_serializer="raw",
        )
        metrics.inc("parkflow_payloads_total", vendor=vendor, outcome="http_rejected")
        return result.error
    sent = await app.send(raw_topic(vendor), key=None, value=payload, value_serializer="raw")
    await asyncio.wait_for(asyncio.shield(sent), SEND_TIMEOUT_S)  # the broker has it
    return None


class _IngestBase(View):
    async def _guard(self, request: Request, vendor: str) -> Response | None:
        if settings.ingest_token is None:
            return self.error(403, "HTTP ingest is disabled: set PARKFLOW_INGEST_TOKEN")
        if not _authorized(request):
            return self.json(
                {"error": "missing or wrong bearer token"},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            plugins.get(vendor)
        except UnknownPluginError:
            return self.error(404, f"unknown vendor {vendor[:40]!r}", vendors=plugins.names())
        return None


@app.page("/ingest/{vendor}")
class Ingest(_IngestBase):
    """POST one vendor payload as the body."""

    async def post(self, request: Request, vendor: str) -> Response:
        refused = await self._guard(request, vendor)
        if refused is not None:
            return refused
        payload = await request.read()
        try:
            error = await _accept(vendor, payload)
        except (TimeoutError, OSError) as exc:
            return self.error(503, f"the broker did not take the payload: {exc}; retry")
        if error:
            return self.error(422, error)
        return self.json({"accepted": 1}, status=202)


@app.page("/ingest/{vendor}/bulk")
class IngestBulk(_IngestBase):
    """POST a JSON array of payloads: strings as they are, other JSON values serialised."""

    async def post(self, request: Request, vendor: str) -> Response:
        refused = await self._guard(request, vendor)
        if refused is not None:
            return refused
        try:
            items = orjson.loads(await request.read())
        except orjson.JSONDecodeError as exc:
            return self.error(400, f"body must be a JSON array of payloads: {exc.msg}")
        if not isinstance(items, list) or not 0 < len(items) <= MAX_BULK_ITEMS:
            return self.error(400, f"body must be a JSON array of 1 to {MAX_BULK_ITEMS} payloads")
        errors = []
        try:
            for index, item in enumerate(items):
                payload = item.encode() if isinstance(item, str) else orjson.dumps(item)
                error = await _accept(vendor, payload)
                if error:
                    errors.append({"index": index, "error": error})
        except (TimeoutError, OSError) as exc:
            return self.error(503, f"the broker did not take the payloads: {exc}; retry")
        body = {"accepted": len(items) - len(errors), "rejected": errors}
        return self.json(body, status=207 if errors else 202)
