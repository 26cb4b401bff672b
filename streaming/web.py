"""HTTP views on the worker's web server (127.0.0.1 by default)."""

from __future__ import annotations

from faust.web import Request, Response, View

from streaming.app import app


@app.page("/health")
async def health(web: View, request: Request) -> Response:
    """200 once the worker runs: which agents it hosts and the topics it reads."""
    return web.json(
        {
            "status": "ok",
            "agents": sorted(agent.name for agent in app.agents.values()),
            "assigned_partitions": len(app.consumer.assignment()),
        }
    )
