"""Personal data in the live store (issue 18 item 7): the journal and the abandoned numbers keep no phone
number in clear, only keyed hashes (the register secret's, or a key the store keeps), and replay still
rebuilds the redial guard and the calls in flight by the number; a journal written in clear by an
earlier version is hashed when a service first opens it. `dialer stats retain --yes` deletes the
journals a checkpoint covers (a closed campaign's) once older than the retention, and refuses a
`--today` in the future. SQLite and the real PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
import sqlalchemy as sa

from dialer.compliance.store import retention_cutoff
from dialer.errors import ConfigError
from dialer.live.service import Service
from dialer.live.store import Store, archive, journal, redial
from dialer.rules.dnc import Hasher

T = 1764061200.0  # Tuesday 25 November 2025, 10:00 in Oslo
DIGITS = ("91234567", "90000001", "41234567")  # the national numbers the tests dial, in any spelling


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'live.sqlite'}"
    return request.getfixturevalue("postgres_server").new_database()


def ev(i, tp, t, **kw):
    return {"id": f"e{i}", "type": tp, "time": t, **kw}


def stored_text(store: Store) -> str:
    """Every journal body and abandoned number the store holds, as one text."""
    with store.engine.connect() as c:
        bodies = [r[0] for r in c.execute(sa.select(journal.c.body))]
        numbers = [r[0] for r in c.execute(sa.select(redial.c.number))]
    return "\n".join(bodies + numbers).replace(" ", "")  # a number in any spelling is its digits


def dial_a_day(service: Service) -> None:
    sales, _ = service.create("sales", {"mode": "power"})
    sales.submit([ev(1, "AgentLoggedIn", T, agent="ann"), ev(2, "AgentLoggedIn", T, agent="bob"),
                  # abandoned (a power dial's reserved agent did not take it: the dialer broke its promise)
                  ev(3, "DialPlaced", T + 1, call=1, lead="912 34 567", agent="ann"),
                  ev(4, "CallAnswered", T + 2, call=1, human=True), ev(5, "CallAbandoned", T + 3, call=1),
                  # in flight at the restart: an opaque lead with its phone
                  ev(6, "DialPlaced", T + 4, call=2, lead="L7", phone="+47 900 00 001", agent="bob")])
    p = sales.pick(T + 5, ["+4741234567"])  # a decision's picks are journaled too
    assert [d.lead for d in p.dials] == ["+4741234567"]


def test_the_journal_keeps_no_number_in_clear_and_replay_still_knows_each_number(url):
    with Store(url) as store:
        service = Service(store, policy_cache=False)
        dial_a_day(service)
        service.flush_flags()
        service.shutdown()
        text = stored_text(store)
        assert "L7" in text and "DialPlaced" in text  # what is no number stays readable
        assert not [d for d in DIGITS if d in text]
    with Store(url) as store:
        again = Service(store, policy_cache=False)
        sales = again.get("sales")
        # the abandoned number, any spelling, any campaign: only with an agent reserved (norm 4.6.3)
        assert sales.lead_dict("0047 912 34 567", T + 10)["must_reserve"]
        care, _ = again.create("care", {"mode": "power"})
        assert care.lead_dict("91234567", T + 10)["must_reserve"]
        # the call in flight: its number is not offered again, whatever its spelling
        sales.submit([ev(7, "AgentLoggedIn", T + 10, agent="cy")])
        p = sales.pick(T + 11, ["900 00 001", "+4790000009"])
        assert [(s.lead, s.reason) for s in p.skipped] == [("900 00 001", "in_flight")]
        sales.submit([ev(8, "CallFailed", T + 12, call=2, reason="no_answer")])  # known by its id after the restart
        again.shutdown()


def test_a_journal_written_in_clear_is_hashed_when_a_service_first_opens_it(url):
    clear = {"type": "DialPlaced", "time": T + 1, "call": 1, "lead": "912 34 567", "agent": None, "id": "d"}
    with Store(url) as store:  # what an earlier version wrote: the numbers as they came
        store.add_campaign("old", {"mode": "fixed-ratio"})
        store.append("old", 1, [("event", "in", {"type": "AgentLoggedIn", "time": T, "agent": "ann", "id": "in"}),
                                ("event", "d", clear), ("decide", None, {"now": T + 1, "dials": [["+4790000001", None]]})])
        store.put_redial_flags([("+4741234567", T - 100)])
        assert "91234567" in stored_text(store)
    with Store(url) as store:
        service = Service(store, policy_cache=False)
        text = stored_text(store)
        assert not [d for d in DIGITS if d in text]
        old = service.get("old")
        assert old.floor_dict()["ringing_unreserved"] == 1  # the dial replayed from its hashed entry
        assert old.lead_dict("+47 41 23 45 67", T + 2)["must_reserve"]  # the abandoned number, hashed
        p = old.pick(T + 2, ["91234567"])
        assert [(s.lead, s.reason) for s in p.skipped] == [("91234567", "in_flight")]
        service.shutdown()


def test_a_journal_keyed_on_the_register_secret_needs_that_secret(url):
    h = Hasher(b"personal data secret 0123")
    with Store(url) as store:
        service = Service(store, hasher=h, policy_cache=False)
        dial_a_day(service)
        service.shutdown()
        with store.engine.connect() as c:
            bodies = [json.loads(r[0]) for r in c.execute(sa.select(journal.c.body))]
        leads = {b["lead"] for b in bodies if b.get("type") == "DialPlaced"}
        assert h.number("+4791234567") in leads  # the registers' and the dial log's hash: one key
    with Store(url) as store:
        with pytest.raises(ConfigError, match="its journal keeps phone numbers hashed with the register secret: "
                                              r"start with that secret \(DIALER_DNC_SECRET or --secret-file\)"):
            Service(store, policy_cache=False)
        with pytest.raises(ConfigError, match="this is another one"):
            Service(store, hasher=Hasher(b"another secret, 16+ bytes"), policy_cache=False)
        again = Service(store, hasher=h, policy_cache=False)
        assert again.get("sales").lead_dict("912 34 567", T + 10)["must_reserve"]
        again.shutdown()


def retain(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dialer.cli", "stats", "retain", "--store", url, *args],
                          capture_output=True, text=True)


def test_retain_deletes_the_journals_a_close_covers_once_older_than_the_retention(url):
    with Store(url) as store:
        service = Service(store, policy_cache=False)
        for name in ("old", "recent", "open"):
            c, _ = service.create(name, {"mode": "power"})
            c.submit([ev(1, "AgentLoggedIn", T, agent="ann"),
                      ev(2, "DialPlaced", T + 1, call=1, lead="912 34 567", agent="ann")])
        service.close("old")
        service.close("recent")
        service.shutdown()
        with store.engine.begin() as c:  # closed 18 months ago: older than the 12 months kept
            c.execute(archive.update().where(archive.c.key == "old").values(closed_at="2025-06-01T10:00:00+00:00"))

    def counts() -> dict[str, int]:
        with Store(url) as store:
            return {k: sum(1 for _ in store.entries(k)) for k in ("old", "recent", "open")}

    assert counts() == {"old": 2, "recent": 2, "open": 2}
    today = dt.date.today().isoformat()
    p = retain(url, "--today", today)
    assert p.returncode == 0, p.stderr
    assert "2 journal entries of 1 campaigns closed before" in p.stdout and "add --yes" in p.stdout
    assert counts() == {"old": 2, "recent": 2, "open": 2}  # without --yes: only said
    p = retain(url, "--today", today, "--yes")
    assert p.returncode == 0, p.stderr
    cutoff = retention_cutoff(dt.date.today())
    assert "and 2 journal entries of 1 campaigns closed before" in p.stdout
    # the open campaign has no snapshot yet (the service wrote none): its entries stay, said as kept
    assert f"open campaign 'open': deleted 0 of its 2 journal entries before {cutoff} (it has no snapshot yet); " \
           "2 entries kept: no snapshot covers them" in p.stdout
    assert counts() == {"old": 0, "recent": 2, "open": 2}
    with Store(url) as store:  # the service starts again on what is left
        again = Service(store, policy_cache=False)
        assert again.get("open").floor_dict()["ringing_reserved"] == 1
        assert [a["key"] for a in store.archived()] == ["old", "recent"]
        again.shutdown()


def test_retain_refuses_a_today_in_the_future(tmp_path):
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    p = retain(f"sqlite:///{tmp_path / 'live.sqlite'}", "--today", tomorrow, "--yes")
    assert p.returncode == 2
    assert f"--today must be today ({dt.date.today()}) or earlier: a later day would move the retention cut into " \
           f"the future, got '{tomorrow}'" in p.stderr
    assert not (tmp_path / "live.sqlite").exists()  # refused before anything was opened
