"""The HTTP/JSON face of the service: FastAPI routes over a `Service`, the bearer token, errors as 4xx.

Owns: the routes and their request shapes (published at /openapi.json), the
token check every request passes through, the request body limit, the
mapping of the project's errors onto status codes, and JSON that never
carries a non-finite number.

Must not know about: sockets and processes (`dialer.live.serve` runs this
under uvicorn), SQL, how a controller decides. Every route is a thin call
into `Service` / `LiveCampaign`.

Status codes: 401 bad or missing token; 404 unknown campaign; 409 an event or
a request that does not fit the campaign's state (unknown call, agent idle
twice, time going backwards, an event id reused with other content, a
campaign name taken with another configuration); 413 a body over the limit
(refused before it is read); 422 a malformed request (the message names the
field and the value); 503 the store refused a write (nothing of that
request was acknowledged). A refused batch answers with how many of its
events were applied before the refused one.
"""

from __future__ import annotations

import hmac
import math
import re
import time
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SkipValidation, ValidationError
from pydantic.json_schema import SkipJsonSchema, WithJsonSchema
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from dialer._version import __version__
from dialer.checks import OrNone, Whole
from dialer.core.modes import PACERS
from dialer.errors import ConfigError, DialerError, ProtocolError, bad
from dialer.live import board_http
from dialer.live import schema as shapes
from dialer.live.campaign import Batch, Closed, LiveCampaign, Rejected, StoreError
from dialer.live.config import check_pacer
from dialer.live.metrics import Latencies, render_metrics
from dialer.live.service import NAME, CampaignExists, Service, UnknownCampaign
from dialer.live.wire import check_time, decision_to_dict, picks_to_dict, stats_to_dict

MAX_BATCH = 10_000
#: the default request body limit, bytes (`dialer serve --max-body`): 10,000 typical events take about 1 MB
MAX_BODY = 4 * 2**20

DESCRIPTION = """\
The pacing controller of `dialer`, for any dialer that speaks HTTP/JSON.

Create a campaign (`PUT /campaigns/{name}`), post the call floor's events as
they happen (`POST /campaigns/{name}/events`), and ask how many numbers to
dial (`POST /campaigns/{name}/decide`, which takes the events since the last
call in the same request, and optionally the candidate leads of the dialer's
hopper: the answer then names which leads to dial now, each with the agent
reserved for it or none). Every event carries the dialer's own `id`: an id
applied before is skipped, so retries are safe. Events are stored before the
answer is sent. See docs/integration.md.
"""


def _finite(x: Any) -> Any:
    """JSON has no infinity or NaN: such a number becomes null."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


class SafeJSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return super().render(_finite(content))


# --- request shapes ---------------------------------------------------------------------


def _whole(x: Any) -> Any:
    """JSON does not tell 7.0 from 7 (nor does JSON Schema's "integer"): a whole float is that integer."""
    return int(x) if isinstance(x, float) and x.is_integer() else x


WholeNumber = Annotated[int, BeforeValidator(_whole)]


class _Model(BaseModel):
    # strict: a number is a JSON number (not true, not "5"), as the schema says; an int may stand for a float
    model_config = ConfigDict(extra="forbid", strict=True)


class CampaignIn(_Model):
    """A campaign's configuration (see `dialer.live.config.CampaignConfig`)."""

    mode: str = Field("power", description="power | fixed-ratio | poisson | adaptive | predictive")
    pacer: dict[str, Any] = Field(default_factory=dict, description="the mode's parameters")
    abandon_limit: float | str = Field(0.05, description="rate per day, e.g. 0.05 or \"1/20\"")
    intervals: list[dict[str, Any]] | None = Field(
        None, min_length=1,
        description='instead of abandon_limit: [{"kind": "day"|"campaign"|"rolling", "limit": 0.05, "window": s}]',
    )
    lines: WholeNumber | None = Field(None, description="trunk lines (null: no cap)")
    horizon: float = Field(60.0, description="longest a dial takes to be resolved, s (ring timeout + connect limit)")
    redial_lockout: float | None = Field(None, description="s after an abandon a lead may only be dialled reserved (null: forever)")
    timezone: str | None = Field(None, min_length=1, description="IANA zone: days are local dates (with a preset: its calling hours are enforced)")
    preset: str | None = Field(None, min_length=1, description="jurisdiction preset (NO, UK, US, CA): the stricter of its rules and the campaign's")
    origin: str | None = Field(None, min_length=1, description="ISO 8601 instant that time 0 stands for (null: the Unix epoch)")
    envelope: bool | None = Field(None, description="cap every decision by the abandon envelope (true), never (false: "
                                  "refused under a preset), or as the mode says (null; under a preset: on)")
    wait_for_solves: bool = Field(False, description="a decision needing a policy not solved yet waits for the solve "
                                  "(as the simulator does; dialer emulate sets it). false: solved in the background, "
                                  "the decision dials as Power meanwhile and never waits")
    caller_id: str | None = Field(None, min_length=1, description="the number shown to the called party (required "
                                  "under preset NO, norm 4.4.2); kept in E.164")
    paused: bool = Field(False, description="new dials paused: every decision dials nothing (PATCH to resume)")


class ConfigureIn(_Model):
    # leave a field out to keep it; null is no mode and no parameters, refused by name (422)
    mode: str | SkipJsonSchema[None] = Field(None, description="power | fixed-ratio | poisson | adaptive | predictive")
    pacer: dict[str, Any] | SkipJsonSchema[None] = Field(None, description="the mode's parameters")
    lines: WholeNumber | None = Field(None, description="trunk lines (null: no cap; leave out to keep)")
    paused: bool | SkipJsonSchema[None] = Field(None, description="pause new dials (true: every decision dials "
                                                "nothing) or resume them (false)")


class EventsIn(_Model):
    # each event is checked by the campaign (`dialer.live.wire`), with the project's messages
    # (`events[3].id must be given: ...`); the schema says exactly the same (`dialer.live.schema`)
    events: list[SkipValidation[shapes.Event]] = Field(  # type: ignore[valid-type]
        default_factory=list, max_length=MAX_BATCH, description="events in the order they happened, each with an id")


class AskIn(EventsIn):
    now: Annotated[float, WithJsonSchema({**shapes.TIME_SCHEMA, "description": "the dialer's time now, seconds"})]


Id = str | int
# a lead id is checked by the campaign (`leads[i] must be a string or a whole number, got ...`), the
# project's one message shape, rather than by pydantic's union errors; the schema still says what it is
LeadId = Annotated[Any, WithJsonSchema({"anyOf": [shapes.ID_SCHEMA, {
    "type": "object", "additionalProperties": False, "required": ["id"],
    "description": "a lead with its number: the answer names it by id; existing_customer and express_request "
                   "lift the national do-not-call register (guide 3.5, 3.6), never the internal one",
    "properties": {"id": shapes.ID_SCHEMA, "phone": {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 200},
                                                               {"type": "null"}]},
                   "existing_customer": {"type": "boolean"}, "express_request": {"type": "boolean"}}}]})]
#: a campaign's name in a path: checked by the service (`campaign must be 1 to 100 letters, ...`)
Name = Annotated[str, WithJsonSchema({"type": "string", "pattern": f"^{NAME.pattern}$",
                                      "description": "1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit"})]
#: a time in a query (`?now=5.5`): a JSON number, read by `_query_time` (`?now=5%0C` is refused)
QueryTime = Annotated[str | None, WithJsonSchema({"type": "number", "description": "seconds (default: the last event's time)"})]
#: a lead in a path: the id as text (digits only, under 19 of them: read as a whole number)
PathLead = Annotated[str, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 200})]


def _query_time(now: str | None) -> float | None:
    """A query parameter's number, by JSON's grammar (float() would also take spaces, "inf", "1_0")."""
    if now is None:
        return None
    if not shapes.NUMBER.fullmatch(now):
        raise bad("now", now, "a number of seconds")
    return check_time("now", float(now))


def _validated(model: type[BaseModel], body: Any) -> Any:
    """`body` checked by `model` (the request's runtime shape), its errors answered like FastAPI's own."""
    try:
        return model.model_validate(body)
    except ValidationError as err:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in err.errors()]) from None


class DecideIn(AskIn):
    leads: list[LeadId] | None = Field(
        None, max_length=MAX_BATCH,
        description="candidate lead ids from the dialer's hopper, preferred first: strings or whole numbers (read "
                    "as the number) or objects {id, phone, existing_customer, express_request}: the answer "
                    "then names which to dial now and how (`dials`), and which were refused (`skipped`). "
                    "Leave out (or null) to get the counts only.",
    )


# --- response shapes (documentation: the fuzz test checks every answer against them) ---------------
# Routes return plain dicts and these models only describe them in /openapi.json: a shape that
# drifted would fail tests/live/test_fuzz_schema.py, never turn a good answer into a 500.


class ErrorOut(BaseModel):
    """Every 4xx and 503: `detail` names the field and the value, or the event and the reason.
    A refused event of a batch adds where it stopped (`index`, `event_id`) and what was applied."""

    detail: str
    index: int | None = Field(None, description="the refused event's position in the batch (null: the question)")
    event_id: Id | None = None
    applied: int | None = Field(None, description="events of the batch applied before the refused one")
    duplicates: list[Id] | None = None
    seq: int | None = Field(None, description="journal position after the applied events")


class HealthOut(BaseModel):
    status: str
    version: str
    campaigns: int
    store: str | None


class ReadyOut(BaseModel):
    status: str
    store: str | None


class ConfigOut(BaseModel):
    mode: str
    pacer: dict[str, Any]
    abandon_limit: float | str
    intervals: list[dict[str, Any]] | None
    lines: int | None
    horizon: float
    redial_lockout: float | None
    timezone: str | None
    preset: str | None
    origin: str | None
    wait_for_solves: bool = False
    caller_id: str | None = None
    envelope: bool | None = None
    paused: bool = False


class HoursOut(BaseModel):
    enforced: bool = Field(description="under a preset: decisions outside the calling hours place no dial")
    allowed: bool
    reason: str | None = Field(description="why calling is not allowed (a weekend, a holiday by name, the hour)")
    next_opening: float | None = Field(description="when calling is next allowed, in the campaign's seconds")


class CountersOut(BaseModel):
    events: int
    duplicates: int
    rejected: int
    decisions: int


class HeldIntervalOut(BaseModel):
    name: str
    kind: str
    limit: float
    window: float | None


class HeldOut(BaseModel):
    intervals: list[HeldIntervalOut] = Field(description="every accounting interval enforced, the preset's included")
    limit: float = Field(description="the strictest interval's limit: what the pacer aims below")
    redial_lockout: float | None = Field(description="s after an abandon a number is redialled only reserved (null: for ever)")
    envelope: bool = Field(description="every decision capped by the abandon envelope (always under a preset)")
    mode: str = Field(description="the dialing mode running now")
    pacer: dict[str, Any] = Field(description="the pacer's effective parameters, defaults and the campaign's limit and "
                                  "target included")
    hours_enforced: bool = Field(description="under a preset (which needs a timezone): no dial outside the calling hours")
    screening: bool = Field(False, description="candidate leads screened against the do-not-call registers at dial "
                            "time (false under a preset: the service has no register secret, DIALER_DNC_SECRET)")


class CampaignOut(BaseModel):
    name: str
    config: ConfigOut
    held_to: HeldOut = Field(description="the rules the controller holds, once the preset is applied")
    uses_envelope: bool
    seq: int
    counters: CountersOut = Field(description="since this process started")


class ClosedOut(BaseModel):
    name: str
    archived_as: str | None = Field(description="the key the store keeps its journal under (null: no store)")
    seq: int = Field(description="its journal position when closed")
    closed_at: str = Field(description="when it was closed, ISO 8601 UTC")


class CampaignsOut(BaseModel):
    campaigns: list[CampaignOut]


class DecisionOut(BaseModel):
    reserve: list[Id] = Field(description="idle agents to dial for, one dial each")
    unreserved: int
    dials: int = Field(description="how many dials the pacer allows now: reserve + unreserved")
    wake_at: float | None


class DialOut(BaseModel):
    lead: Id
    agent: Id | None = Field(description="the agent reserved for this dial: send it in DialPlaced (null: unreserved)")


class SkippedOut(BaseModel):
    lead: Id
    reason: str = Field(description="in_flight | repeated | needs_reserved_agent (norm 4.6.3, no agent left) | "
                        "screened (on a do-not-call register: the detail names it, internal or national)")
    detail: str


class BatchOut(BaseModel):
    applied: int
    duplicates: list[Id] = Field(description="ids applied before, skipped")
    seq: int


class DecideOut(BatchOut):
    decision: DecisionOut
    dials: list[DialOut] | None = Field(
        None, description="only when the request sent `leads`: the dials to place now, in the candidates' order, "
                          "at most decision.dials (fewer when fewer candidates fit)")
    skipped: list[SkippedOut] | None = Field(
        None, description="only when the request sent `leads`: candidates refused now, with why; candidates "
                          "after the last dial was filled are neither picked nor skipped")
    warnings: list[str] = Field(default_factory=list, description="what the campaign says beside its dials: "
                                "a national do-not-call register older than the preset's wash interval")


class ReleasableOut(BatchOut):
    releasable: int


class DayOut(BaseModel):
    day: int | str = Field(description="day number from t = 0, or a local date with a timezone")
    counts: dict[str, float]
    report: dict[str, float | None] = Field(description="null where a rate has no denominator yet")
    flags: dict[str, int] = Field(default_factory=dict, description="dials applied that broke a rule of the "
                                  "campaign's preset, by kind: outside_hours (placed while calling was closed)")


class FloorOut(BaseModel):
    logged_in: int
    idle: int
    idle_committed: int
    reserved_agents: int
    talking: int
    wrapping: int
    paused: int
    ringing_unreserved: int
    ringing_reserved: int
    live_waiting: int
    calls_active: int
    last_event_time: float | None


class BreakOut(BaseModel):
    time: float
    kind: str
    who: Id | None = Field(description="the call or the agent")


class PromiseBreaksOut(BaseModel):
    counts: dict[str, int] = Field(description="events that broke the dialer's promises, by kind")
    last: list[BreakOut] = Field(description="the last ones (up to 1,000), with their instants")
    dialing_as_power: bool = Field(description="a break today holds the campaign to reserved dials until the day ends")


class StatsOut(BaseModel):
    days: list[DayOut]
    floor: FloorOut
    promise_breaks: PromiseBreaksOut


class IntervalOut(BaseModel):
    name: str
    kind: str
    key: int | str | list[float] = Field(description="day, 'campaign', or the rolling window [from, to]")
    abandoned: int
    established: int
    rate: float
    limit: float
    headroom: float | None = Field(description="null: unbounded")
    over: bool
    peak_if_idle: float | None


class LedgerOut(BaseModel):
    now: float
    intervals: list[IntervalOut]
    exposure: int
    headroom: float | None = Field(description="null: unbounded")
    releasable: int


class LeadOut(BaseModel):
    lead: Id
    must_reserve: bool
    in_flight: bool


def _fits(mode: str, pacer: dict[str, Any]) -> bool:
    """Whether `pacer` has the shape of mode's parameters (its names, each value of its kind)."""
    allowed = PACERS[mode]._constraints
    return all(k in allowed and allowed[k].accepts(v) for k, v in pacer.items())


def _whole_parameters(mode: Any, pacer: Any) -> Any:
    """The pacer's parameters with its whole numbers written 7.0 read as 7 (see `_whole`)."""
    cls = PACERS.get(mode) if isinstance(mode, str) else None
    if cls is None or not isinstance(pacer, dict):
        return pacer
    out = dict(pacer)
    for k, v in pacer.items():
        c = cls._constraints.get(k)
        if isinstance(c, OrNone):
            c = c.inner
        if isinstance(c, Whole):
            out[k] = _whole(v)
    return out


def _answers(ok: type[BaseModel] | None, *errors: int, ok_status: int = 200) -> dict[int | str, Any]:
    """The `responses` of a route: its 2xx shape and the error codes it may give (all `ErrorOut`)."""
    out: dict[int | str, Any] = {} if ok is None else {ok_status: {"model": ok}}
    for status in errors:
        out[status] = {"model": ErrorOut, "description": ERRORS[status]}
    return out


ERRORS = {
    400: "the body could not be read (not UTF-8)",
    413: "the request body is over the service's limit (dialer serve --max-body); refused before it is read",
    401: "missing or bad bearer token",
    404: "no campaign by that name",
    409: "an event or request that does not fit the campaign's state",
    422: "a malformed request: the message names the field and the value",
    503: "the store refused the write (nothing of the request was acknowledged) or cannot be reached",
}
READ = (404, 422, 503)  # a campaign read: unknown, a bad parameter, a campaign rebuilt from a failed store
WRITE = (400, 404, 409, 413, 422, 503)


# --- the app ----------------------------------------------------------------------------------


_UNION_TAG = re.compile(r"(int|float|str|bool|none|list|dict)(\[.*\])?")


async def known_query(request: Request) -> None:  # async: no hop to the thread pool for this check
    """Refuse a query parameter the route does not take (a typo such as ?nwo= is not ignored): 422."""
    route = request.scope.get("route")
    allowed = {p.alias for p in getattr(getattr(route, "dependant", None), "query_params", ())}
    for key in request.query_params:
        if key not in allowed:
            raise ConfigError(f"{key}: unknown query parameter (parameters: {', '.join(sorted(allowed)) or 'none'})")


class TokenCheck:
    """Every HTTP request must carry `Authorization: Bearer <token>`; else 401 before any route runs.

    The scheme is matched case-insensitively (`bearer`, `BEARER`: RFC 9110, 11.1), the token
    exactly and in constant time. Plain ASGI (not Starlette's BaseHTTPMiddleware, which adds a
    task and a stream per request).
    """

    def __init__(self, app: ASGIApp, token: bytes, public: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.token = token
        self.public = public  # GET paths that carry no data (the board's page): served without the token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not (scope["method"] in ("GET", "HEAD") and scope["path"] in self.public):
            got = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
            scheme, _, credentials = got.partition(b" ")
            ok = hmac.compare_digest(credentials.lstrip(b" "), self.token)  # always compared: constant time
            if not (ok and scheme.lower() == b"bearer"):
                refuse = SafeJSON({"detail": "missing or bad bearer token"}, status_code=401,
                                  headers={"WWW-Authenticate": "Bearer"})
                await refuse(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """A request body over `limit` bytes is answered 413 before it is read (plain ASGI).

    With a Content-Length the header decides, before a byte of the body is
    read (the server then delivers at most that many). Without one (a chunked
    body) the bytes are counted as they arrive and the request is refused as
    soon as they pass the limit; under it, the body is handed on whole. The
    413 closes the connection, since the rest of the body is never read.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if length is not None:  # the server checked it is a number and frames the body by it
            if int(length) > self.limit:
                await self.refuse(int(length), scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.limit:
                await self.refuse(received, scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        whole: list[Any] = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replay() -> Any:
            return whole.pop() if whole else await receive()

        await self.app(scope, replay, send)

    async def refuse(self, size: int, scope: Scope, receive: Receive, send: Send) -> None:
        err = bad("body", size, f"at most {self.limit} bytes (dialer serve --max-body)")
        await SafeJSON({"detail": str(err)}, status_code=413, headers={"Connection": "close"})(scope, receive, send)


def create_app(service: Service, token: str | None = None, *, max_body: int = MAX_BODY) -> FastAPI:
    """The FastAPI application over `service`; with `token`, every request must carry `Bearer <token>`;
    a request body over `max_body` bytes is refused (413) before it is read."""
    bearer = HTTPBearer(auto_error=False, description="the token given to `dialer serve --token`")
    app = FastAPI(
        title="dialer pacing service",
        version=__version__,
        description=DESCRIPTION,
        default_response_class=SafeJSON,
        dependencies=[Depends(known_query), *([Security(bearer)] if token else [])],
        responses=_answers(None, 401) if token else None,
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(BodyLimit, limit=max_body)
    latencies = Latencies()  # how long each decision took (/metrics: dialer_decision_seconds)
    if token:  # added last, so it runs first: no body is looked at before the token
        app.add_middleware(TokenCheck, token=token.encode(), public=board_http.PUBLIC)
    app.include_router(board_http.board_router(service))  # the supervisor's board: /, /board/state, /board/stream

    def error(status: int, err: BaseException, **extra: Any) -> SafeJSON:
        return SafeJSON({"detail": str(err), **extra}, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method of the path, not only those of the route tried first
            methods = {m for r in app.routes if isinstance(r, APIRoute)
                       and r.matches({"type": "http", "path": request.url.path, "method": "GET"})[0] != Match.NONE
                       for m in r.methods}
            headers["Allow"] = ", ".join(sorted(methods))
        return SafeJSON({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_request: Request, exc: RequestValidationError) -> SafeJSON:
        first = exc.errors()[0] if exc.errors() else {}
        loc = first.get("loc", ())
        tagged = first.get("type") not in ("extra_forbidden", "missing")  # else the last part is a field's name
        # pydantic names the member of a union it tried ("lines.int", "pacer.dict[str,any]"): not a field
        where = ".".join(str(p) for p in loc if p != "body" and not (tagged and _UNION_TAG.fullmatch(str(p)))) or "body"
        got = first.get("input")
        text = f"{where}: {first.get('msg', 'invalid')}"
        if "input" in first and not (isinstance(got, dict) and where == "body"):  # not the whole body again
            shown = repr(got)
            text += f", got {shown if len(shown) <= 100 else shown[:100] + '...'}"
        return SafeJSON({"detail": text}, status_code=422)

    @app.exception_handler(DialerError)
    async def on_dialer_error(_request: Request, exc: DialerError) -> SafeJSON:
        if isinstance(exc, Rejected):
            status = 422 if isinstance(exc.cause, ConfigError) else 409
            return error(status, exc, index=exc.index, event_id=exc.event_id, applied=exc.applied,
                         duplicates=list(exc.duplicates), seq=exc.seq)
        if isinstance(exc, (UnknownCampaign, Closed)):  # Closed: closed by a request that came first
            return error(404, exc)
        if isinstance(exc, StoreError):
            return error(503, exc)
        if isinstance(exc, (ProtocolError, CampaignExists)):
            return error(409, exc)
        if isinstance(exc, ConfigError):
            return error(422, exc)
        return error(400, exc)

    def batch_out(b: Batch) -> dict[str, Any]:
        out: dict[str, Any] = {"applied": b.applied, "duplicates": list(b.duplicates), "seq": b.seq}
        if b.decision is not None:
            out["decision"] = decision_to_dict(b.decision)
            out["warnings"] = list(b.warnings)
        if b.picks is not None:
            out.update(picks_to_dict(b.picks))
        if b.releasable is not None:
            out["releasable"] = b.releasable
        return out

    def describe(c: LiveCampaign) -> dict[str, Any]:
        return {
            "name": c.name,
            "config": c.config.to_dict(),
            "held_to": c.held_to_dict(),
            "uses_envelope": c.uses_envelope,
            "seq": c.seq,
            "counters": vars(c.counters).copy(),
        }

    # --- health, metrics -----------------------------------------------------------------

    @app.get("/healthz", response_model=None, responses=_answers(HealthOut),
             summary="liveness: the process answers (the store is not asked: see /readyz)")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "campaigns": len(service.names()),
                "store": None if service.store is None else service.store.shown}

    @app.get("/readyz", response_model=None, responses=_answers(ReadyOut, 503),
             summary="readiness: a round trip to the store (503 while it cannot be reached)")
    def readyz() -> dict[str, Any]:
        if service.store is not None:
            service.store.ping()  # StoreError: 503 naming the store and why
        return {"status": "ready", "store": None if service.store is None else service.store.shown}

    # a refused token is answered in JSON like everywhere else, not in the route's text/plain
    json_401 = {401: {"description": ERRORS[401],
                      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}}

    @app.get("/metrics", response_class=PlainTextResponse, responses=json_401 if token else None, summary="Prometheus metrics (text format 0.0.4)")
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(render_metrics(service.all(), service.store and service.store.checkpoint_counts(),
                                                latencies, registers=service.registers),
                                 media_type="text/plain; version=0.0.4; charset=utf-8")

    # --- campaigns -------------------------------------------------------------------------

    @app.get("/campaigns", response_model=None, responses=_answers(CampaignsOut), summary="every campaign")
    def list_campaigns() -> dict[str, Any]:
        return {"campaigns": [describe(c) for c in service.all()]}

    @app.put("/campaigns/{name}", status_code=201, response_model=None,
             responses={**_answers(CampaignOut, 400, 409, 413, 422, 503, ok_status=201),
                        200: {"model": CampaignOut, "description": "it exists with the same configuration"}},
             summary="create a campaign (the same configuration again: 200)")
    def put_campaign(name: Name, body: Annotated[SkipValidation[shapes.Campaign], Body()]) -> SafeJSON:  # type: ignore[valid-type]
        config = _validated(CampaignIn, body).model_dump()
        config["pacer"] = _whole_parameters(config["mode"], config["pacer"])
        c, created = service.create(name, config)
        return SafeJSON(describe(c), status_code=201 if created else 200)

    @app.delete("/campaigns/{name}", response_model=None, responses=_answers(ClosedOut, 404, 422, 503),
                summary="close a campaign: its journal is archived in the store (kept), and the name may be created again")
    def delete_campaign(name: Name) -> dict[str, Any]:
        return service.close(name)

    @app.get("/campaigns/{name}", response_model=None, responses=_answers(CampaignOut, *READ), summary="a campaign's configuration and journal position")
    def get_campaign(name: Name) -> dict[str, Any]:
        return describe(service.get(name))

    @app.patch("/campaigns/{name}", response_model=None, responses=_answers(CampaignOut, *WRITE), summary="change the dialing mode, its parameters or the lines, or pause new dials")
    def patch_campaign(name: Name, body: Annotated[SkipValidation[shapes.Change], Body()]) -> dict[str, Any]:  # type: ignore[valid-type]
        changes = _validated(ConfigureIn, body).model_dump(exclude_unset=True)
        c = service.get(name)
        if "pacer" in changes:
            changes["pacer"] = _whole_parameters(changes.get("mode", c.config.mode), changes["pacer"])
        if "mode" not in changes and isinstance(changes.get("pacer"), dict):
            try:
                check_pacer(c.config.mode, changes["pacer"])
            except ConfigError as err:  # another mode's parameters: they do not fit this campaign's mode
                if any(_fits(mode, _whole_parameters(mode, changes["pacer"])) for mode in shapes.PACER_MODELS):
                    raise ProtocolError(f"{err} (the campaign's mode is {c.config.mode!r}: send the mode "
                                        "with its parameters to change it)") from None
                raise
        c.configure(**changes)
        return describe(c)

    # --- events and decisions ----------------------------------------------------------------

    @app.post("/campaigns/{name}/events", response_model=None, responses=_answers(BatchOut, *WRITE), summary="apply a batch of events, in order; stored before the answer")
    def post_events(name: Name, body: EventsIn) -> SafeJSON:
        return SafeJSON(batch_out(service.get(name).submit(body.events)))

    @app.post("/campaigns/{name}/decide", response_model=None, responses=_answers(DecideOut, *WRITE),
              summary="apply events, then: how many dials now, which agents to reserve, and (with leads) which leads")
    def post_decide(name: Name, body: DecideIn) -> SafeJSON:
        began = time.perf_counter()
        batch = service.get(name).submit(body.events, decide_at=body.now, leads=body.leads)
        latencies.observe(name, time.perf_counter() - began)  # answered decisions only, as dialer_decisions_total
        return SafeJSON(batch_out(batch))

    @app.post("/campaigns/{name}/releasable", response_model=None, responses=_answers(ReleasableOut, *WRITE),
              summary="apply events, then: how many committed idle agents may pause or leave now")
    def post_releasable(name: Name, body: AskIn) -> SafeJSON:
        return SafeJSON(batch_out(service.get(name).submit(body.events, releasable_at=body.now)))

    # --- reading ------------------------------------------------------------------------------------

    @app.get("/campaigns/{name}/stats", response_model=None, responses=_answers(StatsOut, *READ), summary="daily statistics (norm 4.3) and the floor's counts now")
    def get_stats(name: Name) -> dict[str, Any]:
        c = service.get(name)
        flags = c.flags()
        return {"days": [{**stats_to_dict(day, s), "flags": flags.get(day, {})} for day, s in c.stats().items()],
                "floor": c.floor_dict(), "promise_breaks": c.promise_breaks()}

    @app.get("/campaigns/{name}/ledger", response_model=None, responses=_answers(LedgerOut, *READ), summary="the abandon envelope: every interval's counts, limit and headroom")
    def get_ledger(name: Name, now: QueryTime = None) -> dict[str, Any]:
        return service.get(name).ledger_dict(_query_time(now))

    @app.get("/campaigns/{name}/hours", response_model=None, responses=_answers(HoursOut, *READ), summary="the preset's calling window at a time (norm 4.2 j, Marketing Act § 14)")
    def get_hours(name: Name, now: QueryTime = None) -> dict[str, Any]:
        return service.get(name).hours_dict(_query_time(now))

    @app.get("/campaigns/{name}/leads/{lead}", response_model=None, responses=_answers(LeadOut, *READ), summary="the redial guard on one lead (norm 4.6.3)")
    def get_lead(name: Name, lead: PathLead, now: QueryTime = None) -> dict[str, Any]:
        c = service.get(name)
        key: str | int = int(lead) if lead.lstrip("-").isdigit() and len(lead) < 19 else lead
        return c.lead_dict(key, _query_time(now))

    publish = app.openapi

    def openapi() -> dict[str, Any]:
        """FastAPI's schema, its 64-bit id bounds written as the exact integers (its models hold floats)."""
        if app.openapi_schema is None:
            app.openapi_schema = _exact_bounds(publish())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _exact_bounds(node: Any) -> Any:
    """The schema with the float bounds of 64-bit ids (2**63 - 1 as a float is 2**63) made exact."""
    if isinstance(node, dict):
        out = {k: _exact_bounds(v) for k, v in node.items()}
        for key in ("minimum", "maximum"):
            if isinstance(out.get(key), float) and abs(out[key]) == 2.0**63:
                out[key] = (2**63 - 1) if out[key] > 0 else -(2**63 - 1)
        return out
    if isinstance(node, list):
        return [_exact_bounds(v) for v in node]
    return node
