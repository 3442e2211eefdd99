"""Event ids are remembered for `id_memory` seconds of event time: a long-running campaign does not
keep every id it ever saw, and a retry older than that is refused, never applied twice."""

from __future__ import annotations

import pytest

from dialer import LiveCampaign
from dialer.errors import ConfigError
from dialer.live.campaign import Rejected


def day_of_events(c: LiveCampaign, hours: int, *, start: float = 0.0) -> list[dict]:
    """One agent; every minute a dial that fails unanswered; returns the events sent (with ids)."""
    sent = [{"id": "login", "type": "AgentLoggedIn", "time": start, "agent": "ann"}]
    c.submit(sent)
    for n in range(hours * 60):
        t = start + 60.0 * (n + 1)
        batch = [{"id": f"d{n}", "type": "DialPlaced", "time": t, "call": n, "lead": n, "agent": "ann"},
                 {"id": f"f{n}", "type": "CallFailed", "time": t + 20.0, "call": n, "reason": "no_answer"}]
        c.submit(batch)
        sent += batch
    return sent


def test_ids_older_than_the_memory_are_forgotten_and_their_retries_refused():
    c = LiveCampaign(mode="power", id_memory=3600.0)
    sent = day_of_events(c, hours=3)
    last = c.floor_dict()
    assert c.knows("f179") and c.knows("d121")  # within the last hour of event time
    assert not c.knows("d0") and not c.knows("login")  # hours before: forgotten
    assert len(c._ids) <= 2 * 61 + 2  # about an hour of ids, not three
    stats = c.stats()
    with pytest.raises(Rejected, match=r"older than the ids this campaign remembers \(3600 s"):
        c.submit([sent[5]])  # a late retry of an early event
    assert c.stats() == stats and c.floor_dict() == last  # refused, changing nothing
    # a retry within the memory is a duplicate, applied once
    batch = c.submit(sent[-4:])
    assert batch.applied == 0 and batch.duplicates == tuple(e["id"] for e in sent[-4:])
    assert c.stats() == stats


def test_a_restore_remembers_the_same_ids():
    journal = []

    class Memory:
        def append(self, campaign, first_seq, entries):
            journal.extend((first_seq + i, *e) for i, e in enumerate(entries))

    c = LiveCampaign(mode="power", id_memory=1800.0, journal=Memory())
    sent = day_of_events(c, hours=2)
    back = LiveCampaign.restore("campaign", c.initial, journal, id_memory=1800.0)
    assert {e["id"]: back.knows(e["id"]) for e in sent} == {e["id"]: c.knows(e["id"]) for e in sent}
    assert not back.knows("d0") and back.knows(sent[-1]["id"])
    assert back.stats() == c.stats() and back.floor_dict() == c.floor_dict()


@pytest.mark.parametrize("bad", [0, -1.0, "1h", True, None])
def test_a_bad_id_memory_is_named(bad):
    with pytest.raises(ConfigError, match="id_memory"):
        LiveCampaign(mode="power", id_memory=bad)
