"""Results of a simulated study: per campaign, per day, the statistics of norm 4.3.

Owns: `simulate` (scenario + seed -> results), the result types, the
conservation identities, and the JSON shape `dialer simulate --json` writes:

    {"scenario": ..., "seed": ..., "campaigns": [{"name", "mode",
      "days": [{"date", attempted, answered, connected, transferred, abandoned,
                complaints, ..., abandon_rate, agent_utilization, ...}],
      "totals": {...}, "leads": {...}}]}

Must not know about: printing tables (the CLI), plotting.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from dialer.core.events import Event
from dialer.core.solver import PacingSolver, shared
from dialer.core.stats import DailyStats
from dialer import policy_cache
from dialer.sim.engine import ControllerFactory, LeadSummary, run_campaigns
from dialer.sim.scenario import Scenario


def conservation_errors(s: DailyStats) -> list[str]:
    """The identities every finished day must satisfy exactly; returns what is broken."""
    errors = []
    outcomes = s.no_answer + s.busy + s.invalid + s.machine + s.transferred + s.abandoned
    if s.attempted != outcomes:
        errors.append(f"attempted {s.attempted} != sum of outcomes {outcomes}")
    if s.connected != s.transferred + s.abandoned:
        errors.append(f"connected {s.connected} != transferred {s.transferred} + abandoned {s.abandoned}")
    if s.answered != s.machine + s.connected:
        errors.append(f"answered {s.answered} != machine {s.machine} + connected {s.connected}")
    return errors


@dataclass
class DayResult:
    date: dt.date
    stats: DailyStats

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"date": self.date.isoformat()}
        out.update(self.stats.report())
        out["conservation"] = not conservation_errors(self.stats)
        return out


@dataclass
class CampaignResult:
    name: str
    mode: str
    abandon_limit: float
    days: list[DayResult]
    leads: LeadSummary
    totals: DailyStats = field(init=False)

    def __post_init__(self) -> None:
        self.totals = DailyStats()
        for d in self.days:
            self.totals.merge(d.stats)

    @property
    def violation_days(self) -> int:
        """Days whose abandon rate is over the campaign's limit."""
        return sum(1 for d in self.days if d.stats.abandoned > self.abandon_limit * d.stats.connected)

    def to_dict(self) -> dict[str, Any]:
        totals = self.totals.report()
        totals["conservation"] = not conservation_errors(self.totals)
        totals["violation_days"] = self.violation_days
        return {
            "name": self.name,
            "mode": self.mode,
            "abandon_limit": self.abandon_limit,
            "days": [d.to_dict() for d in self.days],
            "totals": totals,
            "leads": asdict(self.leads),
        }


@dataclass
class SimulationResult:
    scenario: str
    seed: int
    campaigns: list[CampaignResult]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "campaigns": [c.to_dict() for c in self.campaigns],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def campaign(self, name: str) -> CampaignResult:
        for c in self.campaigns:
            if c.name == name:
                return c
        raise KeyError(name)


def simulate(
    scenario: Scenario,
    seed: int = 0,
    observer: Callable[[str, Event], None] | None = None,
    controller_factory: ControllerFactory | None = None,
    screen: Callable[[str, int, float], bool] | None = None,
    solver: PacingSolver | None = None,
) -> SimulationResult:
    """Run the study once. The same scenario and seed give the same result, bit for bit.

    `observer(campaign_name, event)` sees every event fed to a controller, in order.
    `controller_factory`: see `dialer.sim.engine.ControllerFactory` (default: in-process controllers).
    `screen(campaign, lead, now) -> bool`: asked before every dial; a refused lead is never dialled
    again (a do-not-call check, e.g. `dialer.sim.compliance.RegisterScreen`).
    `solver`: the Predictive pacers' `PacingSolver` (None: the process's shared one). A solver of
    the theory's functions is filled from the disk cache (`dialer.policy_cache`) before the run and
    saved to it after.
    """
    solver = shared() if solver is None else solver
    keep = solver.theory and any(c.mode == "predictive" for c in scenario.campaigns)
    if keep:
        policy_cache.load(solver)  # saves solves only: decisions never depend on the cache
    runs = run_campaigns(scenario, seed, observer, controller_factory, screen, solver)
    if keep:
        policy_cache.save(solver)
    start = scenario.study.start
    campaigns = []
    for r in runs:
        # a day is a whole day from t = 0, or a local date (a campaign with a time zone: `dialer emulate`)
        days = [
            DayResult(dt.date.fromisoformat(day) if isinstance(day, str) else start + dt.timedelta(days=int(day)),
                      stats)
            for day, stats in sorted(r.controller.stats.items())
        ]
        campaigns.append(
            CampaignResult(r.campaign.name, r.campaign.mode, float(r.rules.limit), days, r.leads)
        )
    return SimulationResult(scenario.study.name, seed, campaigns)
