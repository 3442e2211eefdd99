"""The supervisor's wall board over HTTP: the page, the snapshot, and the stream of changes.

Owns: `board_router(service)`, the routes of the board: GET `/` and `/board`
(the page), `/board/board.js` and `/board/board.css` (its script and style:
package data, no data in them, so served without the token: `PUBLIC`);
GET `/board/state` (every campaign's panel, `dialer.live.board.snapshot`)
and GET `/board/stream` (server-sent events: a full `snapshot` event first,
then an `update` event with the panels of the campaigns that changed, woken
by the service's `Changes`, never polling; at most one every `COALESCE`
seconds; a comment line every `HEARTBEAT` seconds when nothing changes; a
client that reconnects, with `Last-Event-ID` or not, gets a full snapshot).
The data routes sit behind the app's token like every other route.
Must not know about: how a panel is computed (`dialer.live.board`), the
controller. Out of the OpenAPI schema: the page's own feed, not the API.

    app.include_router(board_router(service))
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, AsyncIterator

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from dialer.live.board import board, last_minute, snapshot
from dialer.live.service import Service, UnknownCampaign

#: seconds a stream waits after a change before it sends (changes in that time go in one update)
COALESCE = 0.25
#: seconds between comment lines on a quiet stream (they also find a client that went away)
HEARTBEAT = 15.0

_FILES = {"/": ("board.html", "text/html; charset=utf-8"), "/board": ("board.html", "text/html; charset=utf-8"),
          "/board/board.js": ("board.js", "text/javascript; charset=utf-8"),
          "/board/board.css": ("board.css", "text/css; charset=utf-8")}
#: paths served without the token: the page, its script and its style (package data; no campaign data)
PUBLIC = frozenset(_FILES)


def _static(name: str) -> bytes:
    return resources.files("dialer.live").joinpath("static", name).read_bytes()


def _json(data: Any) -> str:
    return json.dumps(data, allow_nan=False, separators=(",", ":"))


def _frame(kind: str, version: int, data: Any) -> str:
    return f"id: {version}\nevent: {kind}\ndata: {_json(data)}\n\n"


def board_router(service: Service) -> APIRouter:
    router = APIRouter()
    files = {path: (_static(name), media) for path, (name, media) in _FILES.items()}

    def page(request: Request) -> Response:
        body, media = files[request.url.path]
        return Response(body, media_type=media, headers={"Cache-Control": "no-cache"})

    for path in _FILES:
        router.add_api_route(path, page, methods=["GET"], include_in_schema=False)

    def state() -> dict[str, Any]:
        return {"version": service.changes.version, "campaigns": board(service.all())}

    @router.get("/board/state", include_in_schema=False)
    def board_state() -> Response:
        return Response(_json(state()), media_type="application/json")

    def changed(names: list[str], after: dict[str, float | None]) -> dict[str, Any]:
        panels, closed = [], []
        for name in sorted(names):
            try:
                c = service.get(name)
            except UnknownCampaign:
                closed.append(name)
                after.pop(name, None)
                continue
            panel = snapshot(c, timeline_after=after.get(name))
            after[name] = last_minute(panel)
            panels.append(panel)
        return {"campaigns": panels, "closed": closed}

    @router.get("/board/stream", include_in_schema=False)
    async def board_stream() -> StreamingResponse:
        changes = service.changes

        async def events() -> AsyncIterator[str]:
            version = changes.version  # read before the snapshot: a change during it is sent again, never lost
            first = await run_in_threadpool(state)
            after = {p["name"]: last_minute(p) for p in first["campaigns"]}
            yield "retry: 2000\n" + _frame("snapshot", version, first)
            while not changes.closed:
                now = await changes.wait(version, HEARTBEAT)
                if changes.closed:
                    break
                if now == version:
                    yield ": heartbeat\n\n"
                    continue
                await anyio.sleep(COALESCE)
                version, names = changes.since(version)
                yield _frame("update", version, await run_in_threadpool(changed, names, after))

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return router
