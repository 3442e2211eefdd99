"""Lead picking in live use: `LiveCampaign.pick` in process, `leads` in POST /decide over a real
loopback socket, the reference client, the journal and its replay, and bad input named by field."""

from __future__ import annotations

import pickle

import httpx
import pytest

from dialer import LiveCampaign
from dialer.core.picker import IN_FLIGHT, NEEDS_RESERVED_AGENT, REPEATED, SCREENED, Dial, Skipped
from dialer.errors import ConfigError
from dialer.live import CampaignConfig
from dialer.live.client import Client, RemoteController
from dialer.live.service import Service
from dialer.live.store import Store

from live_auth import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


class ListJournal:
    def __init__(self) -> None:
        self.rows: list[tuple[int, str, object, dict]] = []

    def append(self, campaign, first_seq, entries):
        assert first_seq == len(self.rows) + 1
        for i, (kind, ev_id, body) in enumerate(entries):
            self.rows.append((first_seq + i, kind, ev_id, dict(body)))


def ev(i, tp, t, **kw):
    return {"id": f"e{i}", "type": tp, "time": t, **kw}


def state(c: LiveCampaign) -> bytes:
    return pickle.dumps(c._controller)


class Hopper:
    """A dialer's own lead list: fresh leads in order, abandoned ones offered first, each call resolved
    by a fixed script (a transfer, an abandon, no answer) so that leads come back must-reserve."""

    def __init__(self, n: int) -> None:
        self.fresh = [f"+47900{i:05d}" for i in range(n)]
        self.redial: list[str] = []  # abandoned: the dialer puts them first, they need an agent reserved
        self.calls: dict[int, tuple[str, str | None]] = {}
        self.next_call = 0
        self.next_event = 0

    def candidates(self) -> list[str]:
        return self.redial + self.fresh[:8]

    def place(self, dials, t: float) -> list[dict]:
        events = []
        for d in dials:
            self.next_call += 1
            self.next_event += 1
            self.calls[self.next_call] = (d.lead, d.agent)
            events.append(ev(f"p{self.next_event}", "DialPlaced", t, call=self.next_call, lead=d.lead, agent=d.agent))
            if d.lead in self.redial:
                self.redial.remove(d.lead)
            else:
                self.fresh.remove(d.lead)
        return events

    def resolve(self, t: float) -> list[dict]:
        events, later = [], []
        for call, (lead, agent) in sorted(self.calls.items()):
            self.next_event += 1
            k = f"r{self.next_event}"
            if agent is None and call % 3 == 0:  # a person, no agent in time
                events += [ev(k + "a", "CallAnswered", t, call=call, human=True), ev(k + "b", "CallAbandoned", t, call=call)]
                self.redial.append(lead)
            elif agent is not None and call % 2 == 0:  # put through to its agent, then back to idle
                events += [ev(k + "a", "CallAnswered", t, call=call, human=True),
                           ev(k + "b", "CallConnected", t, call=call, agent=agent)]
                later += [ev(k + "c", "CallEnded", t + 1, call=call), ev(k + "d", "AgentReady", t + 2, agent=agent)]
            else:
                events.append(ev(k, "CallFailed", t, call=call, reason="no_answer"))
        self.calls.clear()
        return events + sorted(later, key=lambda e: e["time"])


def run_dialer(c: LiveCampaign, rounds: int = 12) -> list:
    """Rounds of pick -> place -> resolve, the way a dialer uses the service; returns every `Picks`."""
    c.submit([ev(f"in{i}", "AgentLoggedIn", 0.0, agent=f"a{i}") for i in range(3)])
    hopper = Hopper(200)
    answers = []
    t = 1.0
    pending: list[dict] = []
    for _ in range(rounds):
        p = c.pick(t, hopper.candidates(), pending)
        answers.append(p)
        placed = hopper.place(p.dials, t)
        c.submit(placed)  # every pick is accepted by the controller
        pending = hopper.resolve(t + 5.0)
        t += 10.0
    return answers


def test_pick_in_process_places_what_it_picks_and_must_reserve_leads_go_reserved():
    c = LiveCampaign(mode="fixed-ratio", pacer={"ratio": 2.0}, name="fr")
    answers = run_dialer(c)
    assert sum(len(p.dials) for p in answers) > 20
    redials = [d for p in answers for d in p.dials if d.agent is not None]
    assert redials, "abandoned leads came back and were redialled with an agent reserved (a swap)"
    for p in answers:
        assert len(p.dials) <= p.decision.dials
        assert p.unreserved + sum(1 for d in p.dials if d.agent not in p.decision.reserve and d.agent) <= p.decision.unreserved


def test_picking_changes_nothing_a_decide_would_not():
    a = LiveCampaign(mode="adaptive", name="a")  # a pacer that learns from being asked
    b = LiveCampaign(mode="adaptive", name="b")
    events = [ev(i, "AgentLoggedIn", 0.0, agent=f"a{i}") for i in range(4)]
    da = a.decide(1.0, events)
    pb = b.pick(1.0, ["L1", "L2"], events)
    assert pb.decision == da and state(a) == state(b)
    assert b.pick(2.0, ["L1"]).dials == (Dial("L1", None),) and b.seq == a.seq + 1


def test_the_picks_are_journaled_with_the_decision_and_a_restore_rebuilds_the_same_state(tmp_path):
    j = ListJournal()
    cfg = CampaignConfig(mode="predictive", pacer={"target": 0.04}, lines=6, wait_for_solves=True)  # decisions compared
    c = LiveCampaign(cfg, name="x", journal=j)
    answers = run_dialer(c, rounds=10)
    decides = [body for _, kind, _, body in j.rows if kind == "decide"]
    assert [b["dials"] for b in decides] == [[[d.lead, d.agent] for d in p.dials] for p in answers]
    r = LiveCampaign.restore("x", cfg, j.rows)
    assert state(r) == state(c) and r.seq == c.seq
    again = ["+4790000150", "+4790000151"]
    assert r.pick(500.0, again) == c.pick(500.0, again)

    # and through the real store: a service restarted on the same file goes on exactly as an
    # in-memory twin fed the same requests (pickles differ there only in which equal strings are shared)
    path = tmp_path / "live.sqlite"
    with Store(path, sqlite_sync="normal") as store:
        service = Service(store)
        live, _ = service.create("y", cfg.to_dict())
        run_dialer(live, rounds=10)
        live.pick(500.0, again)
    # the twin keys numbers as the store does (their keyed hash: the journal keeps no number in clear)
    twin = LiveCampaign(cfg, name="twin", number_key=service.number_key)
    run_dialer(twin, rounds=10)
    twin.pick(500.0, again)
    with Store(path, sqlite_sync="normal") as store:
        back = Service(store).get("y")
        assert back.seq == twin.seq and back.floor_dict() == twin.floor_dict() and back.stats() == twin.stats()
        assert back.ledger_dict(600.0) == twin.ledger_dict(600.0)
        assert back._controller.floor.guard.numbers == twin._controller.floor.guard.numbers
        more = set(twin._controller.floor.guard.numbers) | {"+4790000190"}
        assert back.pick(600.0, sorted(more)) == twin.pick(600.0, sorted(more))
        stored = [body for _, kind, _, body in store.entries("y") if kind == "decide"]
        assert all("dials" in b for b in stored)


def test_a_screen_skips_leads_in_process_and_a_failing_screen_still_journals_the_decision():
    j = ListJournal()
    c = LiveCampaign(mode="power", name="s", journal=j)
    c.submit([ev(1, "AgentLoggedIn", 0.0, agent="ann"), ev(2, "AgentLoggedIn", 0.0, agent="bob")])
    p = c.pick(1.0, ["L1", "L2", "L3"], screen=lambda lead: "internal register" if lead == "L1" else None)
    assert p.dials == (Dial("L2", "ann"), Dial("L3", "bob"))
    assert p.skipped == (Skipped("L1", SCREENED, "internal register"),)

    def broken(lead):
        raise RuntimeError("register unavailable")

    with pytest.raises(RuntimeError, match="register unavailable"):
        c.pick(2.0, ["L1"], [ev(3, "AgentPaused", 1.5, agent="bob")], screen=broken)
    assert j.rows[-1][1:] == ("decide", None, {"now": 2.0}) and c.seq == len(j.rows)
    assert state(LiveCampaign.restore("s", c.config, j.rows)) == state(c)


@pytest.mark.parametrize("leads, message", [
    ("L1", "leads must be a list of lead ids (strings or whole numbers) or lead objects, got 'L1'"),
    ([{"phone": "+4791234567"}], "leads[0].id must be given (the dialer's id of the lead, a string or a whole "
                                 "number), got None"),
    ([{"id": "L1", "number": "+4791234567"}], "leads[0] field must be one of id, phone, existing_customer, "
                                              "express_request, got 'number'"),
    ([{"id": 1.5}], "leads[0].id must be a string or a whole number, got 1.5"),
    ([{"id": "L1", "phone": ""}], "leads[0].phone must be a phone number as text (or null: the id is the number), "
                                  "got ''"),
    ([{"id": "L1", "existing_customer": "yes"}], "leads[0].existing_customer must be true or false, got 'yes'"),
    (["L1", 1.5], "leads[1] must be a string or a whole number, got 1.5"),
    ([True], "leads[0] must be a string or a whole number, got True"),
    ([""], "leads[0] must be a string of 1 to 200 characters, got ''"),
    ([2**70], "leads[0] must be a whole number that fits in 64 bits, got 1180591620717411303424"),
])
def test_bad_leads_are_named_and_nothing_of_the_request_is_applied(leads, message):
    c = LiveCampaign(mode="power", name="b")
    with pytest.raises(ConfigError) as err:
        c.pick(1.0, leads, [ev(1, "AgentLoggedIn", 0.0, agent="ann")])
    assert str(err.value) == message
    assert c.seq == 0 and not c.knows("e1")
    with pytest.raises(ConfigError, match="leads: candidate leads go with a decision"):
        c.submit([], releasable_at=1.0, leads=["L1"])


# --- over HTTP ---------------------------------------------------------------------------------------


@pytest.fixture
def http(live_server):
    with httpx.Client(base_url=live_server.url, headers=AUTH, timeout=30) as c:
        yield c


def test_decide_with_leads_over_http(http):
    assert http.put("/campaigns/pick1", json={"mode": "fixed-ratio", "pacer": {"ratio": 2.0}}).status_code == 201
    setup = [ev(1, "AgentLoggedIn", 0.0, agent="ann"), ev(2, "AgentLoggedIn", 0.0, agent="bob"),
             ev(3, "DialPlaced", 0.5, call=1, lead="A", agent=None), ev(4, "CallAnswered", 0.6, call=1, human=True),
             ev(5, "CallAbandoned", 0.7, call=1), ev(6, "DialPlaced", 0.8, call=2, lead="R", agent=None)]
    r = http.post("/campaigns/pick1/decide", json={"now": 1.0, "events": setup,
                                                    "leads": ["R", "A", "F1", "F1", "F2", "F3", "F4"]})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["decision"] == {"reserve": [], "unreserved": 3, "dials": 3, "wake_at": None}
    assert out["dials"] == [{"lead": "A", "agent": "ann"}, {"lead": "F1", "agent": None}, {"lead": "F2", "agent": None}]
    assert [(s["lead"], s["reason"]) for s in out["skipped"]] == [("R", IN_FLIGHT), ("F1", REPEATED)]
    assert http.get("/campaigns/pick1/leads/A").json()["must_reserve"] is True
    placed = [ev(10 + i, "DialPlaced", 1.0, call=10 + i, lead=d["lead"], agent=d["agent"]) for i, d in enumerate(out["dials"])]
    r = http.post("/campaigns/pick1/decide", json={"now": 1.0, "events": placed})
    assert r.status_code == 200 and "dials" not in r.json() and r.json()["applied"] == 3  # no leads: counts only
    r = http.post("/campaigns/pick1/decide", json={"now": 2.0, "leads": []})
    assert r.json()["dials"] == [] and r.json()["skipped"] == []


def test_a_must_reserve_lead_without_an_agent_is_skipped_over_http(http):
    http.put("/campaigns/pick2", json={"mode": "power"})
    setup = [ev(1, "AgentLoggedIn", 0.0, agent="ann"), ev(2, "DialPlaced", 0.5, call=1, lead="Q1"),
             ev(3, "CallAnswered", 0.6, call=1, human=True), ev(4, "CallAbandoned", 0.7, call=1),
             ev(5, "DialPlaced", 0.8, call=2, lead="Q2"), ev(6, "CallAnswered", 0.9, call=2, human=True),
             ev(7, "CallAbandoned", 0.9, call=2)]
    out = http.post("/campaigns/pick2/decide", json={"now": 1.0, "events": setup, "leads": ["Q1", "Q2"]}).json()
    assert out["dials"] == [{"lead": "Q1", "agent": "ann"}] and out["skipped"] == []  # Q2: not needed now
    http.post("/campaigns/pick2/events", json={"events": [ev(8, "DialPlaced", 1.0, call=3, lead="Q1", agent="ann")]})
    # (the leads are this test's own: the service is shared by this module's tests, and its memory of
    # abandoned numbers by all their campaigns)
    # another campaign of the same call centre: Q1 and Q2 were abandoned under pick2, so they come back here
    # as numbers to be dialled reserved too (norm 4.6.3 across campaigns); dialling them unreserved is refused
    http.put("/campaigns/pick2b", json={"mode": "fixed-ratio", "pacer": {"ratio": 2.0}})
    r = http.post("/campaigns/pick2b/events", json={"events": [setup[0], ev(2, "DialPlaced", 0.5, call=1, lead="Q2")]})
    assert r.status_code == 409 and "may only be dialled with an agent reserved (norm 4.6.3)" in r.json()["detail"]
    out = http.post("/campaigns/pick2b/decide", json={"now": 1.0, "leads": ["Q1", "Q2", "F"]}).json()
    assert out["decision"] == {"reserve": [], "unreserved": 2, "dials": 2, "wake_at": None}
    assert out["dials"] == [{"lead": "Q1", "agent": "ann"}, {"lead": "F", "agent": None}]  # Q1: a swap
    (skip,) = out["skipped"]
    assert (skip["lead"], skip["reason"]) == ("Q2", NEEDS_RESERVED_AGENT) and "norm 4.6.3" in skip["detail"]


@pytest.mark.parametrize("leads, detail", [
    ("L1", "leads: Input should be a valid list, got 'L1'"),
    (["L1", 1.5], "leads[1] must be a string or a whole number, got 1.5"),
    ([True], "leads[0] must be a string or a whole number, got True"),
    ([None], "leads[0] must be a string or a whole number, got None"),
    ([""], "leads[0] must be a string of 1 to 200 characters, got ''"),
    (["x" * 201], "leads[0] must be a string of 1 to 200 characters, got '" + "x" * 201 + "'"),
    ([2**70], "leads[0] must be a whole number that fits in 64 bits, got 1180591620717411303424"),
    ([{"id": "L1", "express_request": 1}], "leads[0].express_request must be true or false, got 1"),
])
def test_bad_leads_over_http_are_422_naming_the_field_and_apply_nothing(http, leads, detail):
    http.put("/campaigns/pick3", json={"mode": "power"})
    seq = http.get("/campaigns/pick3").json()["seq"]
    r = http.post("/campaigns/pick3/decide", json={"now": 1.0, "leads": leads,
                                                    "events": [ev(f"bad{seq}", "AgentLoggedIn", 0.0, agent="zed")]})
    assert r.status_code == 422
    assert r.json()["detail"] == detail
    assert http.get("/campaigns/pick3").json()["seq"] == seq
    r = http.post("/campaigns/pick3/releasable", json={"now": 1.0, "leads": ["L1"]})
    assert r.status_code == 422 and r.json()["detail"].startswith("leads: Extra inputs are not permitted")


def test_the_schema_describes_leads_and_the_dials(http):
    schema = http.get("/openapi.json").json()
    comps = schema["components"]["schemas"]
    assert "leads" in comps["DecideIn"]["properties"]
    assert "candidate lead ids" in comps["DecideIn"]["properties"]["leads"]["description"]
    assert {"dials", "skipped"} <= set(comps["DecideOut"]["properties"])
    assert set(comps["DialOut"]["properties"]) == {"lead", "agent"}


def test_the_client_picks_through_the_service(live_server):
    with Client(live_server.url, TOKEN) as client:
        rc = RemoteController(client, "pick4", CampaignConfig(mode="power"), id_prefix="c")
        from dialer.core.events import AgentLoggedIn

        rc.handle(AgentLoggedIn(time=0.0, agent="ann"))
        rc.handle(AgentLoggedIn(time=0.0, agent="bob"))
        p = rc.pick(1.0, [7, 8, 9])
        assert p.dials == (Dial(7, "ann"), Dial(8, "bob")) and p.skipped == ()
        assert rc.decisions == [p.decision] and p.decision.reserve == ("ann", "bob")
        local = LiveCampaign(mode="power")
        local.submit([AgentLoggedIn(time=0.0, agent=a) for a in ("ann", "bob")])  # core events: no id needed
        assert local.pick(1.0, [7, 8, 9]) == p  # the same answer in process
