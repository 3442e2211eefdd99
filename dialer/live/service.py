"""The campaigns a service process holds, and their store: everything the HTTP layer calls.

Owns: `Service`, a registry of `LiveCampaign`s by name; creating a campaign
(recorded in the store first), finding one (an unknown name is
`UnknownCampaign`), and rebuilding every campaign from the store when the
process starts, or a single one whose journal write failed.

Must not know about: HTTP (status codes, requests), clocks. The FastAPI app
(`dialer.live.app`) maps the errors raised here onto status codes.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Mapping

from dialer.core.solver import PacingSolver, shared
from dialer.errors import ConfigError, DialerError, ProtocolError, bad
from dialer.live.campaign import LiveCampaign, StoreError
from dialer.live.config import CampaignConfig
from dialer.live.store import Store
from dialer import policy_cache as policies

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class UnknownCampaign(DialerError):
    """No campaign by that name."""


class CampaignExists(ProtocolError):
    """A campaign by that name exists with another configuration."""


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise bad("campaign", name, "1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return name


class Service:
    """Campaigns by name, each journaled to `store` (None: in memory only, nothing survives a restart)."""

    def __init__(self, store: Store | None = None, *, policy_cache: bool = True,
                 solver: PacingSolver | None = None) -> None:
        self.store = store
        self.solver = shared() if solver is None else solver  # every campaign's Predictive pacer solves with it
        self._lock = threading.Lock()
        self._campaigns: dict[str, LiveCampaign] = {}
        self._policy_cache = policy_cache
        if policy_cache:
            # the Predictive pacer's solved policies from earlier runs (dialer.policy_cache): a
            # restore replays every decision of the day, and each new lattice point costs a solve
            # (up to a second at 100 agents); the cache changes how long that takes, never a decision
            policies.load(self.solver)
        if store is not None:
            for name, config in store.campaigns():
                self._campaigns[name] = self._restore(name, config)
            self.save_policies()

    def save_policies(self) -> int:
        """Merge the policies solved in this process into the disk cache (`dialer serve` calls it
        now and then and on shutdown); returns how many the file holds (0 with the cache off)."""
        return policies.save(self.solver) if self._policy_cache else 0

    def _restore(self, name: str, config: Mapping[str, Any]) -> LiveCampaign:
        assert self.store is not None
        try:
            cfg = CampaignConfig.from_dict(config)
        except ConfigError as err:
            raise StoreError(f"campaign {name!r}: stored configuration no longer valid: {err}") from None
        return LiveCampaign.restore(name, cfg, self.store.entries(name), journal=self.store, solver=self.solver)

    def create(self, name: str, config: Mapping[str, Any]) -> tuple[LiveCampaign, bool]:
        """Create a campaign (True) or return the existing one if its configuration is the same (False)."""
        check_name(name)
        cfg = CampaignConfig.from_dict(config)
        with self._lock:
            have = self._campaigns.get(name)
            if have is not None:
                if have.initial.to_dict() != cfg.to_dict():
                    raise CampaignExists(
                        f"campaign {name!r} exists with another configuration; change its mode, pacer or lines "
                        "with PATCH, or use another name"
                    )
                return have, False
            if self.store is not None:
                self.store.add_campaign(name, cfg.to_dict())
            c = LiveCampaign(cfg, name=name, journal=self.store, solver=self.solver)
            self._campaigns[name] = c
            return c, True

    def get(self, name: str) -> LiveCampaign:
        with self._lock:
            c = self._campaigns.get(name)
            if c is None:
                raise UnknownCampaign(f"campaign {name!r} does not exist")  # never the other campaigns' names
            if c.stale and self.store is not None:  # its last journal write failed: rebuild from what is stored
                c = self._restore(name, c.initial.to_dict())
                self._campaigns[name] = c
            return c

    def names(self) -> list[str]:
        with self._lock:
            return list(self._campaigns)

    def all(self) -> list[LiveCampaign]:
        with self._lock:
            return list(self._campaigns.values())

