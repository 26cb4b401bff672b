"""Lake sink for dead letters (from normalize and from HTTP ingest); events land in normalize.

A batch is taken (up to `sink_max_rows`, or what arrived within `sink_flush_s`),
written as files, and only then acknowledged: offsets are committed after the
rows are durable, so a crash re-delivers rather than loses (at-least-once;
readers de-duplicate by id).
"""

from __future__ import annotations

from parkflow.parsing import DeadLetter
from streaming import topics
from streaming.app import app, settings
from streaming.sink import land


@app.agent(topics.deadletter)
async def deadletter_sink(stream) -> None:
    """parking.deadletter -> lake/raw/deadletter."""
    async for batch in stream.take_events(settings.sink_max_rows, within=settings.sink_flush_s):
        await land("deadletter", [DeadLetter.model_validate_json(e.value) for e in batch])
