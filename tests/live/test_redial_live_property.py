"""Property, in live use: whatever the order of events, the candidates offered (numbers in any spelling,
or lead objects carrying the number as their phone) and the restarts, no number abandoned before goes out
unreserved, whatever its spelling or campaign (norm 4.6.3).

The core's twin (tests/core/test_redial_property.py) drives bare controllers; this one drives two
campaigns of one service on a real store, whose journal keeps only keyed hashes of the numbers, and
restarts the service now and then: what replay rebuilds from the hashes must protect the same numbers.
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.core.solver import PacingSolver
from dialer.live import Rejected
from dialer.live.service import Service
from dialer.live.store import Store
from dialer.rules.phone import normalise

SPELLINGS = {
    "+4791234567": ["91234567", "912 34 567", "+47 912 34 567", "0047-91234567"],
    "+4790000002": ["90000002", "900 00 002", "+4790000002"],
    "+4722334455": ["22334455", "(+47) 22.33.44.55"],
}
ALL = [s for spellings in SPELLINGS.values() for s in spellings]
CONFIG = {"mode": "fixed-ratio", "pacer": {"ratio": 2.0}, "abandon_limit": 0.5}
NAMES = ("sales", "care")

candidate = st.one_of(
    st.sampled_from(ALL),  # the lead is its number
    st.builds(lambda i, s: {"id": f"L{i}", "phone": s}, st.integers(0, 5), st.sampled_from(ALL)),
)


class Floor:
    """The service under test, on its store, restarted on demand; and the model: the numbers abandoned."""

    def __init__(self, path) -> None:
        self.path = path
        self.solver = PacingSolver(wait=True)
        self.store = Store(path, sqlite_sync="normal")
        self.service = Service(self.store, solver=self.solver, policy_cache=False)
        self.ids = itertools.count()
        self.calls: dict[str, tuple[str, str, str | None]] = {}  # call -> (campaign, E.164, its agent)
        self.abandoned: set[str] = set()
        for name in NAMES:
            c, _ = self.service.create(name, CONFIG)
            c.submit([self.ev("AgentLoggedIn", 0.0, agent=f"{name}-{a}") for a in ("ann", "bob", "cid")])

    def ev(self, tp: str, t: float, **kw) -> dict:
        return {"id": next(self.ids), "type": tp, "time": t, **kw}

    def restart(self) -> None:
        self.service.flush_flags()
        self.service.shutdown()
        self.store.close()
        self.store = Store(self.path, sqlite_sync="normal")
        self.service = Service(self.store, solver=self.solver, policy_cache=False)

    def close(self) -> None:
        self.service.shutdown()
        self.store.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_number_abandoned_before_goes_out_unreserved_through_picks_dials_and_restarts(tmp_path_factory, data):
    f = Floor(tmp_path_factory.mktemp("floor") / "live.sqlite")
    try:
        t = 1.0
        for _ in range(data.draw(st.integers(5, 30), label="steps")):
            t += data.draw(st.floats(0.1, 30.0), label="dt")
            name = data.draw(st.sampled_from(NAMES), label="campaign")
            c = f.service.get(name)
            action = data.draw(st.sampled_from(["pick", "own dial", "answer", "fail", "restart"]), label="action")
            if action == "restart":
                f.restart()
            elif action == "pick":
                leads = data.draw(st.lists(candidate, max_size=6), label="candidates")
                phones = {lead["id"]: lead["phone"] for lead in leads if isinstance(lead, dict)}
                picks = c.pick(t, leads)
                chosen = [normalise(phones.get(d.lead, d.lead)) for d in picks.dials]
                assert len(chosen) == len(set(chosen)), "one number picked twice in one answer"
                for d, number in zip(picks.dials, chosen):
                    assert number not in f.abandoned or d.agent is not None, \
                        f"{d.lead} ({number}) abandoned before, picked unreserved"
                    call = f"c{next(f.ids)}"
                    c.submit([f.ev("DialPlaced", t, call=call, lead=d.lead, phone=phones.get(d.lead), agent=d.agent)])
                    f.calls[call] = (name, number, d.agent)
            elif action == "own dial":  # the dialer's own choice, unreserved: refused for an abandoned number
                spelling = data.draw(st.sampled_from(ALL), label="spelling")
                number = normalise(spelling)
                call = f"c{next(f.ids)}"
                try:
                    c.submit([f.ev("DialPlaced", t, call=call, lead=spelling)])
                except Rejected:
                    assert number in f.abandoned or number in {n for _, n, _ in f.calls.values()}
                else:
                    assert number not in f.abandoned, f"{spelling} abandoned before, dialled unreserved"
                    f.calls[call] = (name, number, None)
            else:
                mine = sorted(k for k, (n, _, _) in f.calls.items() if n == name)
                if not mine:
                    continue
                call = data.draw(st.sampled_from(mine), label="call")
                _, number, agent = f.calls.pop(call)
                if action == "fail":
                    c.submit([f.ev("CallFailed", t, call=call, reason="no_answer")])
                elif agent is not None:  # reserved: put through to its agent, never abandoned
                    c.submit([f.ev("CallAnswered", t, call=call, human=True),
                              f.ev("CallConnected", t, call=call, agent=agent), f.ev("CallEnded", t, call=call),
                              f.ev("AgentReady", t, agent=agent)])
                else:  # unreserved and answered: nobody takes it here
                    c.submit([f.ev("CallAnswered", t, call=call, human=True), f.ev("CallAbandoned", t, call=call)])
                    f.abandoned.add(number)
            for other in NAMES:  # every campaign knows every abandoned number, by every spelling
                for n in f.abandoned:
                    for s in SPELLINGS[n]:
                        assert f.service.get(other).lead_dict(s, t)["must_reserve"]
    finally:
        f.close()
