"""The discrete-event simulator: SimPy call floor, scenarios, distributions, results.

Owns simulated time. Feeds the very same `dialer.core.Controller` a live dialer uses.
"""

from dialer.sim.results import CampaignResult, DayResult, SimulationResult, conservation_errors, simulate
from dialer.sim.scenario import Scenario, default, load, loads

__all__ = [
    "simulate",
    "SimulationResult",
    "CampaignResult",
    "DayResult",
    "conservation_errors",
    "Scenario",
    "load",
    "loads",
    "default",
]
