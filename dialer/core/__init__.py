"""The sans-IO core: events in, pacing decisions out.

Owns: events, the floor state machines, daily tallies, the abandon ledger, the
redial guard, pacers, the controller, and the lead picker (a decision spent on
the dialer's candidate leads).
Must not import anything from dialer.sim, dialer.live or dialer.plan, nor SimPy,
HTTP frameworks, databases or plotting libraries.
"""

from dialer.core.adaptive import Adaptive
from dialer.core.controller import Controller
from dialer.core.decision import Decision
from dialer.core.events import (
    AgentLeaving,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReady,
    CallAbandoned,
    CallAnswered,
    CallConnected,
    CallEnded,
    CallFailed,
    DialPlaced,
    Event,
    FailReason,
    Outcome,
)
from dialer.core.floor import AgentState, CallInfo, CallState, Floor
from dialer.core.guards import RedialGuard
from dialer.core.ledger import Interval, IntervalState, Ledger, Tally, month_key
from dialer.core.pacers import FixedRatio, Pacer, Plan, PoissonDialing, Power
from dialer.core.picker import Dial, Picks, Skipped, pick_leads
from dialer.core.predictive import Predictive
from dialer.core.stats import DailyStats

__all__ = [
    "Controller",
    "Decision",
    "Event",
    "AgentLoggedIn",
    "AgentReady",
    "AgentPaused",
    "AgentLeaving",
    "AgentLoggedOut",
    "DialPlaced",
    "CallAnswered",
    "CallFailed",
    "CallConnected",
    "CallAbandoned",
    "CallEnded",
    "FailReason",
    "Outcome",
    "AgentState",
    "CallState",
    "Floor",
    "CallInfo",
    "RedialGuard",
    "Interval",
    "IntervalState",
    "Ledger",
    "Tally",
    "month_key",
    "Pacer",
    "Plan",
    "Power",
    "FixedRatio",
    "Predictive",
    "Adaptive",
    "PoissonDialing",
    "DailyStats",
    "pick_leads",
    "Picks",
    "Dial",
    "Skipped",
]
