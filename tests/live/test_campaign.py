"""LiveCampaign, the in-process API: ids, dicts, refusals that change nothing, the journal, threads."""

from __future__ import annotations

import pickle
import threading

import pytest

from dialer import LiveCampaign
from dialer.core.decision import Decision
from dialer.core.events import AgentLoggedIn, AgentPaused, DialPlaced
from dialer.errors import ConfigError
from dialer.live import CampaignConfig, IdConflict, Rejected, StoreError


class ListJournal:
    """A journal in a list; can be told to fail."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, str, object, dict]] = []
        self.fail = False

    def append(self, campaign, first_seq, entries):
        if self.fail:
            raise OSError("disk full")
        assert first_seq == len(self.rows) + 1
        for i, (kind, ev_id, body) in enumerate(entries):
            self.rows.append((first_seq + i, kind, ev_id, body))


def ev(i, tp, t, **kw):
    return {"id": f"e{i}", "type": tp, "time": t, **kw}


def state(c: LiveCampaign) -> bytes:
    return pickle.dumps(c._controller)


def test_dict_events_and_decisions():
    c = LiveCampaign(mode="power")
    c.submit([ev(1, "AgentLoggedIn", 0.0, agent="ann"), ev(2, "AgentLoggedIn", 0.0, agent="bob")])
    assert c.decide(1.0) == Decision(reserve=("ann", "bob"), unreserved=0)
    b = c.submit([ev(3, "DialPlaced", 1.0, call=1, lead="+47 1", agent="ann")], decide_at=1.0)
    assert b.applied == 1 and b.decision == Decision(reserve=("bob",))
    assert c.floor_dict()["reserved_agents"] == 1
    assert c.stats()[0].attempted == 1


def test_a_repeated_id_is_applied_once():
    c = LiveCampaign(mode="power")
    batch = [ev(1, "AgentLoggedIn", 0.0, agent="ann"), ev(2, "DialPlaced", 0.0, call=1, lead=7, agent="ann")]
    assert c.submit(batch).applied == 2
    again = c.submit(batch + [ev(3, "CallFailed", 5.0, call=1, reason="busy")])
    assert (again.applied, again.duplicates) == (1, ("e1", "e2"))
    s = c.stats()[0]
    assert (s.attempted, s.busy) == (1, 1)


def test_a_reused_id_with_other_content_is_a_conflict_and_changes_nothing():
    c = LiveCampaign(mode="power")
    c.handle(ev(1, "AgentLoggedIn", 0.0, agent="ann"))
    before = state(c)
    with pytest.raises(Rejected, match=r"events\[0\] \(id 'e1'\): event id 'e1' was applied before") as err:
        c.handle(ev(1, "AgentLoggedIn", 0.0, agent="bob"))
    assert isinstance(err.value.cause, IdConflict)
    assert state(c) == before


@pytest.mark.parametrize(
    "bad, message",
    [
        (ev(9, "CallAnswered", 11.0, call=99, human=True), r"CallAnswered: unknown call 99"),
        (ev(9, "AgentReady", 11.0, agent="ann"), r"AgentReady does not fit agent 'ann' in state 'idle'"),
        (ev(9, "AgentLoggedIn", 11.0, agent="ann"), r"AgentLoggedIn does not fit agent 'ann'"),
        (ev(9, "AgentPaused", 5.0, agent="ann"), r"earlier than the last event"),
        (ev(9, "DialPlaced", 11.0, call=1, lead=2, agent="nobody"), r"agent 'nobody' is not logged in"),
        # issue 19: implausible times (Rule 5 of dialer.live.campaign)
        (ev(9, "AgentPaused", -5.0, agent="ann"), r"time must be at least 0 \(seconds since the campaign's origin\), got -5.0$"),
        (ev(9, "AgentPaused", 10_500_000.0, agent="ann"),  # 10,500 s in milliseconds
         r"time must be at most 7,776,000 s ahead of the campaign's clock \(its last event or decision, at "
         r"10.5; a time in milliseconds\?\), got 10500000.0$"),
        (AgentPaused(time=90 * 86400 + 11.0, agent="ann"), r"^events\[0\]: time must be at most 7,776,000 s ahead"),
        (AgentPaused(time=-0.5, agent="ann"), r"^events\[0\]: time must be at least 0"),
    ],
)
def test_an_impossible_event_is_refused_and_changes_nothing(bad, message):
    c = LiveCampaign(mode="predictive")
    c.submit([ev(1, "AgentLoggedIn", 10.0, agent="ann")], decide_at=10.5)
    before = state(c)
    with pytest.raises(Rejected, match=message) as err:
        c.handle(bad)
    assert err.value.applied == 0 and err.value.index == 0
    assert state(c) == before
    assert not c.knows("e9")  # and it can be sent again once it fits


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"id": "x", "type": "Dial", "time": 0}, r"events\[1\]\.type must be one of AgentLoggedIn, "),
        ({"id": "x", "type": "AgentReady", "time": "noon", "agent": "a"}, r"events\[1\]\.time must be a finite number"),
        ({"id": "x", "type": "AgentReady", "time": 1, "agent": "a", "agnet": 1}, r"events\[1\]\.agnet: unknown field"),
        ({"id": "x", "type": "AgentReady", "time": 1}, r"events\[1\]\.agent: missing"),
        ({"id": [1], "type": "AgentReady", "time": 1, "agent": "a"}, r"events\[1\]\.id must be a string or a whole number"),
        ({"id": "x", "type": "CallFailed", "time": 1, "call": 1, "reason": "gone"}, r"reason must be one of no_answer, busy, invalid, got 'gone'"),
        ({"id": "x", "type": "CallAnswered", "time": 1, "call": 1, "human": "yes"}, r"human must be true"),
        ({"id": "x", "type": "AgentReady", "time": 10**400, "agent": "a"}, r"time must be a finite number"),
        ("AgentReady", r"events\[1\] must be an object"),
    ],
)
def test_a_malformed_event_names_field_and_value_and_the_batch_prefix_stays(bad, message):
    c = LiveCampaign(mode="power")
    with pytest.raises(Rejected, match=message) as err:
        c.submit([ev(1, "AgentLoggedIn", 0.0, agent="a"), bad, ev(3, "AgentLoggedIn", 0.0, agent="b")])
    assert isinstance(err.value.cause, ConfigError)
    assert (err.value.applied, err.value.index) == (1, 1)
    assert c.floor_dict()["logged_in"] == 1  # the event before it applied, the one after it not


def test_decide_time_may_not_go_back():
    c = LiveCampaign(mode="power")
    c.handle(ev(1, "AgentLoggedIn", 10.0, agent="a"))
    with pytest.raises(Rejected, match=r"decide_at must be at or after the last event or decision \(10\.0\), got 9\.0"):
        c.decide(9.0)
    c.decide(12.0)
    with pytest.raises(Rejected, match=r"got 11\.0"):
        c.decide(11.0)


def test_configuration_errors_name_the_field():
    with pytest.raises(ConfigError, match=r"mode must be one of power, .*got 'turbo'"):
        LiveCampaign(mode="turbo")
    with pytest.raises(ConfigError, match=r"pacer\.ratio must be a positive number"):
        LiveCampaign(mode="fixed-ratio", pacer={"ratio": -1})
    with pytest.raises(ConfigError, match=r"abandon_limit must be a rate between 0 and 1"):
        LiveCampaign(abandon_limit=2)
    with pytest.raises(ConfigError, match=r"linez: unknown field"):
        LiveCampaign(linez=3)
    with pytest.raises(ConfigError, match=r"timezone must be an IANA time zone name"):
        LiveCampaign(timezone="Mars/Olympus")
    with pytest.raises(ConfigError, match=r"intervals\[0\]\.window must be a positive number"):
        LiveCampaign(intervals=[{"kind": "rolling", "limit": 0.05}])


def test_timezone_days_are_local_dates():
    c = LiveCampaign(mode="power", timezone="Europe/Oslo")
    t = 1764024000.0  # 2025-11-24 22:40 UTC = 23:40 in Oslo
    c.submit([ev(1, "AgentLoggedIn", t, agent="a"), ev(2, "DialPlaced", t + 1800, call=1, lead=1, agent="a")])
    assert list(c.stats()) == ["2025-11-24", "2025-11-25"]


def test_journal_replay_rebuilds_the_controller_exactly():
    j = ListJournal()
    cfg = CampaignConfig(mode="adaptive", lines=5)  # the adaptive pacer learns from being asked: decisions are journaled
    c = LiveCampaign(cfg, name="x", journal=j)
    c.submit([ev(i, "AgentLoggedIn", 0.0, agent=f"a{i}") for i in range(3)])
    t = 0.0
    call = 0
    for step in range(40):
        t += 1.5
        d = c.decide(t)
        events = []
        for agent in d.reserve:
            call += 1
            events.append(ev(f"d{call}", "DialPlaced", t, call=call, lead=call, agent=agent))
        for _ in range(d.unreserved):
            call += 1
            events.append(ev(f"d{call}", "DialPlaced", t, call=call, lead=call))
        c.submit(events)
        if step == 20:
            c.configure(mode="fixed-ratio", pacer={"ratio": 1.2})
    r = LiveCampaign.restore("x", cfg, j.rows)
    assert state(r) == state(c)
    assert r.config == c.config and r.config.mode == "fixed-ratio"
    assert r.seq == c.seq == len(j.rows)
    first = next(body for _, _, ev_id, body in j.rows if ev_id == "ed1")
    assert r.knows("ed1") and r.submit([first]).duplicates == ("ed1",)


def test_a_failed_journal_write_acknowledges_nothing_and_the_campaign_refuses_until_reloaded():
    j = ListJournal()
    c = LiveCampaign(CampaignConfig(), name="x", journal=j)
    c.handle(ev(1, "AgentLoggedIn", 0.0, agent="a"))
    j.fail = True
    with pytest.raises(StoreError, match=r"the store refused the batch \(OSError: disk full\); nothing of it was acknowledged"):
        c.handle(ev(2, "AgentLoggedIn", 0.0, agent="b"))
    j.fail = False
    with pytest.raises(StoreError, match="out of step with its store"):
        c.decide(1.0)
    r = LiveCampaign.restore("x", CampaignConfig(), j.rows, journal=j)
    assert r.floor_dict()["logged_in"] == 1 and not r.knows("e2")


def test_replay_of_a_journal_with_a_gap_is_refused():
    with pytest.raises(StoreError, match=r"journal entry 3 follows 1 \(a gap\)"):
        LiveCampaign.restore("x", CampaignConfig(), [(1, "decide", None, {"now": 0.0}), (3, "decide", None, {"now": 1.0})])


def test_core_events_work_too():
    c = LiveCampaign(mode="power")
    c.handle(AgentLoggedIn(time=0.0, agent="a"))
    c.handle(DialPlaced(time=0.0, call=1, lead=1, agent="a"))
    assert c.floor_dict()["ringing_reserved"] == 1


def test_threads_feeding_one_campaign_lose_nothing_and_apply_each_id_once():
    c = LiveCampaign(mode="power")
    threads = 8
    per_thread = 60
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                agent = f"t{k}-{i}"
                # every thread also resends the ids of the thread before it: duplicates race with originals
                for kk in (k, (k + 1) % threads):
                    c.submit([{"id": f"{kk}-{i}-in", "type": "AgentLoggedIn", "time": 0.0, "agent": f"t{kk}-{i}"}])
                c.submit([{"id": f"{k}-{i}-out", "type": "AgentLoggedOut", "time": 0.0, "agent": agent}])
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    # a thread may log an agent out before its neighbour's resend of the log-in arrives: then
    # the resend is a duplicate id (skipped), never a second log-in
    assert not errors, errors[:3]
    assert c.counters.events == 2 * threads * per_thread
    assert c.counters.duplicates == threads * per_thread
    assert c.floor_dict()["logged_in"] == 0
