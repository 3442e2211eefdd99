"""The snapshot format is a promise: a snapshot of `dialer.live.snapshot.FORMAT` N is read by every build
that reads N. A pickle holds each object's attributes by name, so a class of the campaign's state that
gains, loses or renames an attribute changes the format even when nobody means to. This test walks the
state each mode's snapshot holds and compares its keys and the attributes of every class of ours in it with the shape
recorded for the format (tests/live/data/snapshot_shape.json): a difference fails, naming the classes,
until FORMAT is raised and the new shape recorded (run this file with DIALER_RECORD_SNAPSHOT_SHAPE=1)."""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import types
from collections import deque
from pathlib import Path
from typing import Any

import pytest

from dialer.core.guards import AbandonedNumbers
from dialer.live.campaign import LiveCampaign
from dialer.live.snapshot import FORMAT, loads
from dialer.rules.dnc import Hasher
from dialer.rules.phone import number_key

GOLDEN = Path(__file__).parent / "data" / "snapshot_shape.json"
T = 1764061200.0  # Tuesday 25 November 2025, 10:00 in Oslo

CONFIGS = [
    {"mode": "power", "preset": "NO", "timezone": "Europe/Oslo", "caller_id": "+4722000000"},
    {"mode": "fixed-ratio"},
    {"mode": "adaptive", "intervals": [{"kind": "day", "limit": 0.05}, {"kind": "campaign", "limit": 0.05},
                                       {"kind": "rolling", "limit": 0.05, "window": 3600}]},
    {"mode": "poisson", "preset": "UK", "timezone": "Europe/London"},
    {"mode": "predictive", "preset": "US", "timezone": "America/Chicago", "wait_for_solves": True},
]


def ev(i: int, tp: str, t: float, **kw: Any) -> dict[str, Any]:
    return {"id": f"e{i}", "type": tp, "time": T + t, **kw}


def campaign(config: dict[str, Any]) -> LiveCampaign:
    """A campaign a few minutes into its day: agents in every state, a call abandoned, calls in flight."""
    c = LiveCampaign(name="s", number_key=number_key(Hasher(b"shape test secret, 32 bytes long")),
                     numbers=AbandonedNumbers(), **config)
    c.submit([ev(1, "AgentLoggedIn", 0, agent="ann"), ev(2, "AgentLoggedIn", 0, agent="bob"),
              ev(3, "AgentLoggedIn", 0, agent="cy"),
              ev(4, "DialPlaced", 1, call=1, lead="912 34 567", agent=None),
              ev(5, "CallAnswered", 2, call=1, human=True), ev(6, "CallConnected", 3, call=1, agent="ann"),
              ev(7, "DialPlaced", 4, call=2, lead="L2", phone="+47 900 00 001", agent="bob"),
              ev(8, "CallAnswered", 6, call=2, human=True), ev(9, "CallAbandoned", 7, call=2),
              ev(10, "DialPlaced", 8, call=3, lead="+4741234567", agent=None),
              ev(11, "CallEnded", 60, call=1), ev(12, "AgentPaused", 61, agent="cy")])
    for k in range(4):
        c.decide(T + 62 + 30 * k)
    return c


def shape(obj: Any, skip: set[int], out: dict[str, set[str]], seen: set[int]) -> None:
    """Add to `out` the attributes a pickle of `obj` holds for each class of ours, walking what it holds."""
    if id(obj) in seen or id(obj) in skip or obj is None or isinstance(obj, (str, bytes, int, float, complex)):
        return
    seen.add(id(obj))
    if isinstance(obj, dict):
        for k, v in obj.items():
            shape(k, skip, out, seen)
            shape(v, skip, out, seen)
        return
    if isinstance(obj, (list, tuple, set, frozenset, deque)):
        for x in obj:
            shape(x, skip, out, seen)
        return
    kind = type(obj)
    if not kind.__module__.startswith("dialer.") or isinstance(obj, (types.FunctionType, type)):
        return
    names = out.setdefault(f"{kind.__module__}.{kind.__qualname__}", set())
    if isinstance(obj, enum.Enum):
        return
    state = obj.__getstate__()
    if isinstance(state, list) and dataclasses.is_dataclass(obj):  # a dataclass with slots: its fields' values
        state = dict(zip((f.name for f in dataclasses.fields(obj)), state))
    parts = state if isinstance(state, tuple) else (state,)
    for part in parts:
        if isinstance(part, dict):
            names.update(part)
            for v in part.values():
                shape(v, skip, out, seen)


def snapshot_shape() -> dict[str, list[str]]:
    out: dict[str, set[str]] = {}
    for config in CONFIGS:
        c = campaign(config)
        refs = c._collaborators()  # given back by the reader: not part of the snapshot
        _, blob = c.snapshot()
        state = loads(blob, refs)
        out.setdefault("LiveCampaign.snapshot", set()).update(state)  # the keys `LiveCampaign._load` reads
        shape(state, {id(v) for v in refs.values()}, out, set())
    return {k: sorted(v) for k, v in sorted(out.items())}


def test_the_snapshot_format_changes_only_with_its_number():
    now = snapshot_shape()
    assert len(now) > 10  # the walk reached the controller's parts (floor, ledger, pacer, estimates, guard)
    if os.environ.get("DIALER_RECORD_SNAPSHOT_SHAPE") == "1":
        GOLDEN.write_text(json.dumps({"format": FORMAT, "classes": now}, indent=1) + "\n", encoding="utf-8")
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert golden["format"] == FORMAT, (
        f"FORMAT is {FORMAT} but the shape recorded is format {golden['format']}'s: record this format's "
        "(DIALER_RECORD_SNAPSHOT_SHAPE=1 python -m pytest tests/live/test_snapshot_shape.py)")
    was = golden["classes"]
    changed = {k: {"added": sorted(set(now.get(k, [])) - set(was.get(k, []))),
                   "gone": sorted(set(was.get(k, [])) - set(now.get(k, [])))}
               for k in sorted(set(now) | set(was)) if now.get(k) != was.get(k)}
    assert not changed, (
        f"the state a snapshot holds changed shape under the same FORMAT {FORMAT}: {changed}; a snapshot "
        f"written before would be half-read. Raise dialer.live.snapshot.FORMAT to {FORMAT + 1} and record the "
        "new shape (DIALER_RECORD_SNAPSHOT_SHAPE=1 python -m pytest tests/live/test_snapshot_shape.py)")


def test_the_walk_sees_an_attribute_added_to_a_class_of_the_state(monkeypatch):
    """The check could fail: an attribute set on the floor's class shows up as a change of its shape."""
    from dialer.core.floor import Floor

    before = snapshot_shape()
    real = Floor.__init__

    def init(self, *args: Any, **kw: Any) -> None:
        real(self, *args, **kw)
        self.extra = 0

    monkeypatch.setattr(Floor, "__init__", init)
    after = snapshot_shape()
    name = f"{Floor.__module__}.Floor"
    assert set(after[name]) - set(before[name]) == {"extra"}
