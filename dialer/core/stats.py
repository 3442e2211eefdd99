"""Daily statistics of a campaign, counted from the events (norm 4.3).

Owns: `DailyStats`, the counters and time sums of one campaign-day, and the
derived figures (abandon rate, utilization, connects per agent-hour).

Must not know about: where the events come from (simulator or live dialer),
clocks, storage. The floor adds to the counters as events fit.

Norm 4.3 names: attempted, answered (person or machine), connected (a person
came on the line), transferred (put through to a free agent), abandoned
(a person, no agent in time), complaints. Identities that always hold:

    attempted = no_answer + busy + invalid + machine + transferred + abandoned
                + dials still in flight
    answered  = machine + connected
    connected = transferred + abandoned + live calls still waiting for an agent
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

#: The fields written for every campaign-day, in the order reports print them.
COUNT_FIELDS = (
    "attempted",
    "answered",
    "connected",
    "transferred",
    "abandoned",
    "complaints",
    "no_answer",
    "busy",
    "invalid",
    "machine",
)


@dataclass(slots=True)
class DailyStats:
    """Counters and time sums for one campaign on one day."""

    attempted: int = 0
    answered: int = 0
    connected: int = 0
    transferred: int = 0
    abandoned: int = 0
    complaints: int = 0
    no_answer: int = 0
    busy: int = 0
    invalid: int = 0
    machine: int = 0
    reserved_dials: int = 0
    # agent time, seconds
    logged_in_time: float = 0.0
    talk_time: float = 0.0
    wrap_time: float = 0.0
    idle_time_before_connect: float = 0.0
    idle_periods: int = 0
    # silence heard by people who met no agent, seconds
    abandon_silence: float = 0.0
    # wait of transferred calls between answer and agent, seconds
    connect_wait: float = 0.0

    # --- derived figures -------------------------------------------------

    @property
    def abandon_rate(self) -> float:
        """Abandoned / connected (established) calls; 0 when nothing was connected."""
        return self.abandoned / self.connected if self.connected else 0.0

    @property
    def agent_utilization(self) -> float:
        """(talk + wrap time) / logged-in time."""
        busy = self.talk_time + self.wrap_time
        return busy / self.logged_in_time if self.logged_in_time > 0 else 0.0

    @property
    def connects_per_agent_hour(self) -> float:
        """Transferred calls per logged-in agent-hour."""
        hours = self.logged_in_time / 3600.0
        return self.transferred / hours if hours > 0 else 0.0

    @property
    def mean_idle_between_calls(self) -> float:
        """Mean seconds an agent waited, ready, before the next call was put through."""
        return self.idle_time_before_connect / self.idle_periods if self.idle_periods else 0.0

    @property
    def mean_abandon_silence(self) -> float:
        """Mean seconds of silence heard by a person whose call was abandoned."""
        return self.abandon_silence / self.abandoned if self.abandoned else 0.0

    def merge(self, other: "DailyStats") -> None:
        """Add another day's counters and sums into this one (for totals)."""
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def report(self) -> dict[str, float | int]:
        """The published figures: norm 4.3 counts, outcome counts, and derived rates."""
        out: dict[str, float | int] = {name: getattr(self, name) for name in COUNT_FIELDS}
        out["abandon_rate"] = self.abandon_rate
        out["agent_utilization"] = self.agent_utilization
        out["connects_per_agent_hour"] = self.connects_per_agent_hour
        out["mean_idle_between_calls"] = self.mean_idle_between_calls
        out["mean_abandon_silence"] = self.mean_abandon_silence
        out["logged_in_hours"] = self.logged_in_time / 3600.0
        return out
