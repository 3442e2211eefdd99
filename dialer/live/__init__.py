"""The controller for live use: the in-process API, the HTTP service, its store, the reference client.

Owns: everything a real dialer needs around the sans-IO core: `LiveCampaign`
(thread-safe, idempotent event ids, events as dicts, journaled), the
configuration a dialer sends (`CampaignConfig`), the wire form of events,
the durable store, the FastAPI service (`dialer serve`) and the reference
client that drives it from the simulator (`dialer emulate`).

Rule: dialer.core never imports this package. This `__init__` imports only
the light, dependency-free modules; the service, store and client are
imported where they are used, so `from dialer import LiveCampaign` needs
neither FastAPI nor a database.
"""

from dialer.live.campaign import Batch, Closed, IdConflict, Journal, LiveCampaign, Rejected, StoreError
from dialer.live.config import CampaignConfig

__all__ = ["LiveCampaign", "CampaignConfig", "Batch", "Rejected", "IdConflict", "StoreError", "Closed", "Journal"]
