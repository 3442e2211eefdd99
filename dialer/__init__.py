"""dialer: a predictive-dialer pacing controller and the discrete-event simulator that proves it.

The controller (`dialer.core`) is sans-IO: the simulator (`dialer.sim`) and a
live dialer feed it the very same events.
"""

from dialer.core import Controller, Decision, FixedRatio, Power
from dialer.errors import ConfigError, DialerError, ProtocolError

__version__ = "0.1.0"

__all__ = ["Controller", "Decision", "Power", "FixedRatio", "DialerError", "ConfigError", "ProtocolError"]
