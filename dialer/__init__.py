"""dialer: a predictive-dialer pacing controller and the discrete-event simulator that proves it.

The controller (`dialer.core`) is sans-IO: the simulator (`dialer.sim`) and a
live dialer feed it the very same events.

For a dialer written in Python, `LiveCampaign` is the stable entry point: one
per campaign, thread-safe, fed events (core events or plain dicts with ids,
applied once each) at the caller's timestamps, asked `decide(now)`. See
docs/integration.md; `dialer serve` offers the same over HTTP.
"""

from dialer._version import __version__
from dialer.core import Adaptive, Controller, Decision, FixedRatio, PoissonDialing, Power, Predictive
from dialer.errors import ConfigError, DialerError, ProtocolError
from dialer.live import CampaignConfig, LiveCampaign  # imports neither HTTP nor a database

__all__ = [
    "__version__",
    "Controller",
    "Decision",
    "Power",
    "FixedRatio",
    "Predictive",
    "Adaptive",
    "PoissonDialing",
    "LiveCampaign",
    "CampaignConfig",
    "DialerError",
    "ConfigError",
    "ProtocolError",
]
