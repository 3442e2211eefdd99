"""A Python client of the HTTP service, and a controller that lives behind it.

Owns: `Client` (one method per route, the token, turning a refused request
back into the project's error with the service's own message) and
`RemoteController`, which offers the `Controller` methods a dialer loop calls
(`handle`, `decide`, `releasable`, `stats`, `floor`, `pacer.uses_envelope`)
while the deciding happens in the service, and `pick` (a decision spent on
the dialer's candidate leads, as `LiveCampaign.pick` gives it in process).

How `RemoteController` talks: `handle` applies the event to a local mirror
of the floor (a core `Floor`: the dialer's own book of its agents and calls,
which it needs anyway to route a live answer to an idle agent) and queues it;
`decide` and `releasable` send the queued events and the question in one
request. So the service sees exactly the events and questions, in exactly
the order, that an in-process controller would: the parity `dialer emulate`
is tested for.

Must not know about: SimPy, scenarios (`dialer.emulate` joins them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Hashable, Mapping, Sequence

import httpx

from dialer.core.decision import Decision
from dialer.core.events import Event, Outcome
from dialer.core.floor import Floor
from dialer.core.picker import Picks
from dialer.core.guards import RedialGuard
from dialer.core.stats import DailyStats
from dialer.errors import ConfigError, DialerError
from dialer.live.config import CampaignConfig
from dialer.live.wire import decision_from_dict, event_to_dict, picks_from_dict, stats_from_dict


class ServiceError(DialerError):
    """The service refused a request, or could not be reached; the message is the service's own."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class Client:
    """The routes of `dialer serve`, as methods. Raises `ServiceError` (or a subclass) on any refusal."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 30.0) -> None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(f"--url must be an http:// or https:// URL, got {url!r}")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, body: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        try:
            r = self._http.request(method, path, json=body, params=params)
        except httpx.HTTPError as err:
            raise ServiceError(f"--url {self.url}: cannot reach the service ({type(err).__name__}: {err})") from None
        try:
            data = r.json()
        except ValueError:
            data = None
        if r.status_code >= 400:
            detail = data.get("detail") if isinstance(data, dict) else r.text[:200]
            raise ServiceError(f"{method} {path}: {r.status_code} {detail}", r.status_code, data)
        return data

    # --- routes --------------------------------------------------------------------------

    def healthz(self) -> dict[str, Any]:
        return self.request("GET", "/healthz")

    def put_campaign(self, name: str, config: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("PUT", f"/campaigns/{name}", dict(config))

    def campaign(self, name: str) -> dict[str, Any]:
        return self.request("GET", f"/campaigns/{name}")

    def configure(self, name: str, **changes: Any) -> dict[str, Any]:
        return self.request("PATCH", f"/campaigns/{name}", changes)

    def events(self, name: str, events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return self.request("POST", f"/campaigns/{name}/events", {"events": list(events)})

    def decide(self, name: str, now: float, events: Sequence[Mapping[str, Any]] = (),
               leads: Sequence[str | int] | None = None) -> dict[str, Any]:
        """With `leads` (candidates, preferred first) the answer also has `dials` and `skipped`."""
        body: dict[str, Any] = {"now": now, "events": list(events)}
        if leads is not None:
            body["leads"] = list(leads)
        return self.request("POST", f"/campaigns/{name}/decide", body)

    def releasable(self, name: str, now: float, events: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
        return self.request("POST", f"/campaigns/{name}/releasable", {"now": now, "events": list(events)})

    def stats(self, name: str) -> dict[str, Any]:
        return self.request("GET", f"/campaigns/{name}/stats")

    def ledger(self, name: str, now: float | None = None) -> dict[str, Any]:
        return self.request("GET", f"/campaigns/{name}/ledger", params=None if now is None else {"now": now})


@dataclass(frozen=True)
class _PacerInfo:
    """What a dialer loop reads of the pacer: whether it must hold pauses for the envelope."""

    mode: str
    uses_envelope: bool


class RemoteController:
    """A campaign in the service, behind the methods of `dialer.core.Controller` a dialer loop calls.

    Creates the campaign (`PUT`, so the same name and configuration again is
    fine). Event ids are `{id_prefix}{n}`, n = 1, 2, ... in the order handled.
    `decisions` keeps every decision received, in order (for parity checks).
    `clock`: a pair of functions (the dialer's time -> the service's, and back)
    when the two differ (`dialer emulate`: the simulator's wall-clock seconds
    across a daylight-saving change); the local book keeps the dialer's.
    `number`: the phone number a dial of a lead is sent with (`DialPlaced.phone`;
    `dialer emulate`: a simulated lead's made-up number); `lead_prefix`: put
    before a dial's lead as sent. The local book keeps the lead as it is.
    """

    def __init__(self, client: Client, name: str, config: CampaignConfig, *, id_prefix: str = "",
                 lead_prefix: str = "",
                 clock: tuple[Callable[[float], float], Callable[[float], float]] | None = None,
                 number: Callable[[Any], Any] | None = None) -> None:
        self.client = client
        self.name = name
        self.config = config
        info = client.put_campaign(name, config.to_dict())
        self.uses_envelope = bool(info["uses_envelope"])
        self.pacer = _PacerInfo(config.mode, self.uses_envelope)
        # a lead id as the service sees it: the service keeps one memory of abandoned numbers for all its
        # campaigns, so leads that are only numbered within their campaign's list are sent with a prefix
        self._lead_prefix = lead_prefix
        day_of = config.day_of()
        guard = RedialGuard(lockout=config.lockout())
        self.floor = Floor(guard=guard) if day_of is None else Floor(guard=guard, day_of=day_of)
        self._pending: list[dict[str, Any]] = []
        self._n = 0
        self._id_prefix = id_prefix
        self._out, self._back = clock if clock is not None else (None, None)
        self._number = number
        self.decisions: list[Decision] = []

    def handle(self, event: Event) -> Outcome | None:
        out = self.floor.apply(event)  # the dialer's own book; raises before anything is sent if impossible
        self._n += 1
        body = event_to_dict(event, f"{self._id_prefix}{self._n}")
        if self._out is not None:
            body["time"] = self._out(body["time"])
        if self._number is not None and body["type"] == "DialPlaced":
            body["phone"] = self._number(body["lead"])
        if self._lead_prefix and "lead" in body:
            body["lead"] = f"{self._lead_prefix}{body['lead']}"
        self._pending.append(body)
        return out

    def _now(self, now: float) -> float:
        return now if self._out is None else self._out(now)

    def _decision(self, data: Mapping[str, Any]) -> Decision:
        d = decision_from_dict(data)
        if self._back is not None and d.wake_at is not None:
            d = Decision(reserve=d.reserve, unreserved=d.unreserved, wake_at=self._back(d.wake_at))
        return d

    def flush(self) -> None:
        """Send the queued events (decide and releasable send them anyway)."""
        if self._pending:
            self.client.events(self.name, self._pending)
            self._pending = []

    def decide(self, now: float) -> Decision:
        events, self._pending = self._pending, []
        d = self._decision(self.client.decide(self.name, self._now(now), events)["decision"])
        self.decisions.append(d)
        return d

    def pick(self, now: float, leads: Sequence[str | int]) -> Picks:
        """`decide`, spent on the candidate `leads` (preferred first): which to dial now, and how."""
        events, self._pending = self._pending, []
        answer = self.client.decide(self.name, self._now(now), events, leads)
        d = self._decision(answer["decision"])
        self.decisions.append(d)
        return picks_from_dict(d, answer)

    def releasable(self, now: float) -> int:
        events, self._pending = self._pending, []
        return int(self.client.releasable(self.name, self._now(now), events)["releasable"])

    @property
    def stats(self) -> dict[Hashable, DailyStats]:
        """The service's daily statistics for the campaign (queued events sent first)."""
        self.flush()
        return {d["day"]: stats_from_dict(d) for d in self.client.stats(self.name)["days"]}


__all__ = ["Client", "RemoteController", "ServiceError"]
