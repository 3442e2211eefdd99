"""The project's exceptions: one family, messages that name the field and the value.

Owns: the exception types every layer raises for errors a user can cause
(bad scenario, bad argument, an event that does not fit the state).
Must not know about: anything else in the project. It is a leaf module so
that even `dialer.theory` may import it.
"""

from __future__ import annotations


class DialerError(Exception):
    """Base class of every error a user of the project can cause."""


class ConfigError(DialerError, ValueError):
    """A bad argument or scenario field; the message names the field and the bad value."""


class ProtocolError(DialerError):
    """An event that does not fit the controller's state (unknown call, agent idle twice, ...).

    The controller is left exactly as it was before the event was offered.
    """


def bad(field: str, value: object, requirement: str) -> ConfigError:
    """Build the project's one message shape: "{field} must be {requirement}, got {value!r}"."""
    return ConfigError(f"{field} must be {requirement}, got {value!r}")
