"""Property: whatever the order of events and the candidates offered, no number abandoned before goes out
unreserved again, whatever its spelling and whichever campaign of the call centre dials it (norm 4.6.3).

Two campaigns share one memory of abandoned numbers, as a store's campaigns do. Hypothesis draws what
happens: a campaign picks from candidates spelt in any of a number's spellings and places what it picked,
or places a dial of its own choosing (the dialer's mistake: refused if unreserved and flagged), and calls
are answered and abandoned or put through, or fail. After every step the rule is checked against a model
that knows only which numbers were ever abandoned.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.core import Controller, FailReason, events
from dialer.core.guards import AbandonedNumbers, RedialGuard
from dialer.errors import ProtocolError
from dialer.rules.phone import number_key

from core_helpers import Wants

NUMBERS = ["+4791234567", "+4790000002", "+4722334455", "+4741000004"]
SPELLINGS = {
    "+4791234567": ["91234567", "912 34 567", "+47 912 34 567", "0047-91234567", "+4791234567"],
    "+4790000002": ["90000002", "900 00 002", "+4790000002", "004790000002"],
    "+4722334455": ["22334455", "(+47) 22.33.44.55", "+4722334455"],
    "+4741000004": ["41000004", "410 00 004", "+4741000004"],
}


class Campaign:
    def __init__(self, name: str, numbers: AbandonedNumbers) -> None:
        self.c = Controller(Wants(reserved=1, unreserved=2), abandon_limit=Fraction(1, 2), after_break="count",
                            guard=RedialGuard(numbers=numbers, key=number_key()))
        self.name = name
        self.calls: dict[str, str] = {}  # call -> number (E.164) for the model
        self.n = 0
        for a in ("ann", "bob", "cid"):
            self.c.handle(events.AgentLoggedIn(time=0.0, agent=f"{name}-{a}"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_number_abandoned_before_goes_out_unreserved_whatever_its_spelling_or_campaign(data):
    numbers = AbandonedNumbers()
    campaigns = [Campaign("sales", numbers), Campaign("care", numbers)]
    abandoned: set[str] = set()  # the model: every number whose call was ever abandoned
    t = 1.0
    for _ in range(data.draw(st.integers(5, 40), label="steps")):
        t += data.draw(st.floats(0.1, 30.0), label="dt")
        camp = data.draw(st.sampled_from(campaigns), label="campaign")
        c = camp.c
        action = data.draw(st.sampled_from(["pick", "own dial", "answer", "fail"]), label="action")
        if action == "pick":
            candidates = data.draw(st.lists(st.sampled_from([s for n in NUMBERS for s in SPELLINGS[n]]),
                                            max_size=8), label="candidates")
            picks = c.pick(t, c.decide(t), candidates)
            key = number_key()
            chosen = [key(d.lead) for d in picks.dials]
            assert len(chosen) == len(set(chosen)), "one number picked twice in one answer"
            for d in picks.dials:
                n = key(d.lead)
                assert n not in abandoned or d.agent is not None, f"{d.lead} ({n}) abandoned before, picked unreserved"
                camp.n += 1
                call = f"{camp.name}{camp.n}"
                c.handle(events.DialPlaced(time=t, call=call, lead=d.lead, agent=d.agent))
                camp.calls[call] = n
        elif action == "own dial":
            number = data.draw(st.sampled_from(NUMBERS), label="number")
            spelling = data.draw(st.sampled_from(SPELLINGS[number]), label="spelling")
            camp.n += 1
            call = f"{camp.name}{camp.n}"
            try:
                c.handle(events.DialPlaced(time=t, call=call, lead=spelling))
            except ProtocolError:
                assert number in abandoned or number in camp.calls.values()  # flagged, or already in flight
            else:
                assert number not in abandoned, f"{spelling} abandoned before, dialled unreserved"
                camp.calls[call] = number
        elif camp.calls:
            call = data.draw(st.sampled_from(sorted(camp.calls)), label="call")
            number = camp.calls.pop(call)
            if action == "fail":
                c.handle(events.CallFailed(time=t, call=call, reason=FailReason.NO_ANSWER))
            else:
                c.handle(events.CallAnswered(time=t, call=call, human=True))
                if data.draw(st.booleans(), label="abandoned"):
                    c.handle(events.CallAbandoned(time=t, call=call))
                    abandoned.add(number)
                else:  # put through: to its reserved agent, else to an idle one; with none idle, abandoned
                    info = c.floor.call_info(call)
                    agent = info.agent if info.reserved else next(iter(c.floor.idle_agents()), None)
                    if agent is None:
                        c.handle(events.CallAbandoned(time=t, call=call))
                        abandoned.add(number)
                    else:
                        c.handle(events.CallConnected(time=t, call=call, agent=agent))
                        c.handle(events.CallEnded(time=t, call=call))
                        c.handle(events.AgentReady(time=t, agent=agent))
        for other in campaigns:  # every campaign sees every abandon, by every spelling
            for n in abandoned:
                for s in SPELLINGS[n]:
                    assert other.c.floor.must_reserve_lead(t, s)
