"""Small helpers the teaching notebooks share: the small-settings switch, optional sliders,
a campaign built from a few numbers, and a watcher of the abandon envelope.

Owns: `fast()` (is DIALER_NOTEBOOK_FAST set? the test suite sets it so that
every notebook runs in seconds), `explore` (call a drawing function now, or
behind ipywidgets sliders when they are installed and wanted), `floor_dict`
(a one-campaign scenario as a plain dict, for `dialer.sim.scenario.from_dict`)
and `EnvelopeWatch` (records, after every event the simulator feeds a
controller, the day's abandoned A and established C, the exposure k, the
pool m and the headroom, so a notebook can draw the invariant A + k <= r (C + m)).

Must not know about: plotting, files, the planning layer. It uses only public
hooks: `simulate(..., observer=..., controller_factory=...)` and the
controller's `exposure()`, `headroom(now)` and ledger tallies.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

from dialer.core.controller import Controller

#: set to a non-empty value other than "0" for small settings (the test suite does)
FAST_VARIABLE = "DIALER_NOTEBOOK_FAST"
#: set to "0" to never show sliders (e.g. when executing a notebook without a front end)
WIDGETS_VARIABLE = "DIALER_NOTEBOOK_WIDGETS"


def fast() -> bool:
    """True when the notebooks should use small settings (DIALER_NOTEBOOK_FAST=1)."""
    return os.environ.get(FAST_VARIABLE, "") not in ("", "0")


def widgets_wanted() -> bool:
    """Sliders only at workshop settings, when ipywidgets is installed and not switched off."""
    if fast() or os.environ.get(WIDGETS_VARIABLE, "") == "0":
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class Slider:
    """One control: its starting value, range and step (an int slider if all four are ints)."""

    value: float
    low: float
    high: float
    step: float
    label: str = ""

    def widget(self, name: str) -> Any:
        import ipywidgets as w

        desc = self.label or name
        style = {"description_width": "initial"}
        if all(isinstance(x, int) for x in (self.value, self.low, self.high, self.step)):
            return w.IntSlider(value=self.value, min=self.low, max=self.high, step=self.step,
                               description=desc, style=style, continuous_update=False)
        return w.FloatSlider(value=self.value, min=self.low, max=self.high, step=self.step,
                             description=desc, style=style, continuous_update=False, readout_format=".3g")


def explore(draw: Callable[..., Any], *, manual: bool = False, **sliders: Slider) -> Any:
    """Call `draw(**starting values)`; with widgets wanted, show sliders that call it again.

    `manual=True` adds a "Run" button instead of redrawing on every move (for
    simulations that take seconds). Headless (DIALER_NOTEBOOK_FAST=1, no
    ipywidgets, or DIALER_NOTEBOOK_WIDGETS=0) it is a plain call, so the cell
    draws exactly one figure.
    """
    if not widgets_wanted():
        return draw(**{k: s.value for k, s in sliders.items()})
    import ipywidgets as w

    controls = {k: s.widget(k) for k, s in sliders.items()}
    if manual:
        return w.interact_manual(draw, **controls)
    return w.interact(draw, **controls)


def floor_dict(
    *,
    agents: int,
    mode: str = "power",
    pacer: dict[str, Any] | None = None,
    hours: tuple[str, str] = ("09:00", "21:00"),
    live: float = 0.25,
    leads: int = 100_000,
    days: int = 1,
    start: str = "2026-11-24",
    name: str = "teaching floor",
    **campaign: Any,
) -> dict[str, Any]:
    """A one-campaign scenario as a dict: the embedded default's call floor with a few numbers changed.

    Any other keyword replaces that key of the campaign (e.g. `durations`,
    `connect_limit`, `lines`, `abandon_limit`, `retry`).
    """
    from dialer.sim.scenario import default

    data = default().model_dump(mode="json")
    camp = copy.deepcopy(data["campaigns"][0])
    camp.update(mode=mode, pacer=dict(pacer or {}), leads=leads)
    camp["outcomes"] = dict(camp["outcomes"], live=live, hours={})
    camp.update(copy.deepcopy(campaign))
    data["campaigns"] = [camp]
    data["agents"] = [{"name": "floor", "count": agents, "campaign": camp["name"], "shift": list(hours)}]
    data["study"] = dict(data["study"], name=name, hours=list(hours), days=days, start=start)
    return data


class EnvelopeWatch:
    """Observer and controller factory in one: the abandon envelope after every event.

        watch = EnvelopeWatch()
        simulate(scenario, seed, observer=watch, controller_factory=watch.factory)
        watch.rows   # [(time, A, C, k, m, headroom), ...] for the campaign watched

    The controller is built exactly as the simulator builds it by default (with
    the campaign's rules, its study preset's included), and the observer only
    reads it (`exposure()`, `headroom(now)`, the ledger's state of the watched
    `interval`), so watching changes nothing in the run. A, C: that
    interval's abandoned and established calls (the day being dialled, unless
    the ledger keeps no day);
    k: unreserved calls in flight that no committed idle agent would cover;
    m: unreserved calls in flight (the pool: if all were answered at once,
    the idle agents would take m - k of them, and all m would be established).
    """

    def __init__(self, campaign: str | None = None) -> None:
        self.campaign = campaign
        self.controllers: dict[str, Controller] = {}
        self.rows: list[tuple[float, int, int, int, int, float]] = []

    def factory(self, campaign: Any, rules: Any) -> Controller:
        c = rules.controller()  # the core's factory: the campaign's rules, its study preset's included
        self.controllers[campaign.name] = c
        if self.campaign is None:
            self.campaign = campaign.name
        return c

    @property
    def controller(self) -> Controller:
        return self.controllers[self.campaign]  # type: ignore[index]

    @property
    def interval(self) -> Any:
        """The accounting interval watched: the day's if the ledger keeps one, else its first
        (a study preset may account by the calendar month, say)."""
        ledger = self.controller.ledger
        assert ledger is not None
        return next((iv for iv in ledger.intervals if iv.kind == "day"), ledger.intervals[0])

    @property
    def limit(self) -> Fraction:
        return self.interval.limit

    def __call__(self, campaign: str, ev: Any) -> None:
        if campaign != self.campaign:
            return
        c = self.controllers[campaign]
        t = ev.time
        name = self.interval.name
        state = next(s for s in c.ledger.snapshot(t) if s.name == name)  # type: ignore[union-attr]
        self.rows.append((t, state.abandoned, state.established, c.exposure(), c.floor.pooled, c.headroom(t)))

    def breaches(self) -> int:
        """Rows where the worst case A + k > r (C + m), compared exactly."""
        r = self.limit
        return sum(1 for _, a, c, k, m, _ in self.rows if a + k > r * (c + m))
