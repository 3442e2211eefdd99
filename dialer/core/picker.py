"""Which leads to dial now, and how: a decision's dials matched to the dialer's candidate leads.

Owns: `pick_leads` (a `Decision`, the dialer's candidate leads in its order
of preference, the floor -> `Picks`: each chosen lead with the agent reserved
for it or None, and the candidates refused with a reason) and the types of
its answer (`Dial`, `Skipped`, `Picks`).
Rule 1: picking changes nothing. It reads the floor and returns a value; the
dials count only when the dialer reports them (`DialPlaced`). Asking twice
gives the same answer twice, and a pick is not a lease.
Rule 2: it knows leads and agents, not pacers, the ledger, clocks or I/O. It
keeps no lead list (the dialer owns its hopper) and no calendar or registers
(the caller passes `screen(lead) -> None | reason`).

    d = controller.decide(now)
    picks = controller.pick(now, d, ["+4790000001", "+4790000002"])   # pick_leads with the envelope's room
    for dial in picks.dials:          # Dial(lead=..., agent=... or None)
        ...                           # originate, then report DialPlaced(lead=dial.lead, agent=dial.agent)

The rules (order, skips, swaps): docs/design.md, "Picking leads".
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Callable, Hashable, Iterable, Sequence

from dialer.core.decision import Decision
from dialer.core.floor import Floor
from dialer.errors import bad

#: reasons a candidate is skipped
IN_FLIGHT = "in_flight"
REPEATED = "repeated"
NEEDS_RESERVED_AGENT = "needs_reserved_agent"
SCREENED = "screened"
REASONS = (IN_FLIGHT, REPEATED, NEEDS_RESERVED_AGENT, SCREENED)

Screen = Callable[[Hashable], "str | None"]
#: swapped agents -> the most unreserved dials allowed beside their reserved dials (negative: none, and
#: those swaps are not allowed)
Room = Callable[[Sequence[Hashable]], int]


@dataclass(frozen=True, slots=True)
class Dial:
    """One dial to place now: `lead`, with `agent` reserved for it (None: unreserved)."""

    lead: Hashable
    agent: Hashable | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A candidate the campaign refused now: `reason` is one of `REASONS`, `detail` says it in words."""

    lead: Hashable
    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Picks:
    """A decision and the leads it is spent on.

    `dials`: in the candidates' order; place these (`len(dials)` may be less
    than `decision.dials`). `skipped`: candidates refused, in order.
    """

    decision: Decision
    dials: tuple[Dial, ...] = ()
    skipped: tuple[Skipped, ...] = ()

    @property
    def reserved(self) -> int:
        return sum(1 for d in self.dials if d.agent is not None)

    @property
    def unreserved(self) -> int:
        return sum(1 for d in self.dials if d.agent is None)


def pick_leads(now: float, decision: Decision, leads: Iterable[Hashable], floor: Floor, *,
               screen: Screen | None = None, room: Room | None = None,
               number_of: Callable[[Hashable], Hashable] | None = None) -> Picks:
    """Spend `decision` (just given by the controller that owns `floor`) on `leads`, in their order.

    Reads the floor's redial guard (`must_reserve_lead`, `lead_in_flight`) at
    `now` and its idle agents; changes nothing. The guard's questions are
    about each lead's number: `number_of(lead)` (default: the lead is its
    number), compared on the guard's key, so every spelling of one number is
    one lead (a second is skipped as `repeated`). The rules: docs/design.md,
    "Picking leads".
    """
    reserve = decision.reserve
    n_reserve = len(reserve)
    n_unreserved = decision.unreserved
    total = n_reserve + n_unreserved
    if total == 0:
        return Picks(decision)
    # idle agents a must-reserve lead may take in place of an unreserved dial (longest idle first)
    taken = set(reserve)
    spare = (list(islice((a for a in floor.idle_agents() if a not in taken), n_unreserved))
             if n_unreserved and room is not None else [])
    caps = [total]

    def cap(s: int) -> int:
        """The most dials in all with `s` swaps (-1: not possible)."""
        while len(caps) <= s:
            n = len(caps)
            r = min(n_unreserved - n, room(spare[:n]))  # type: ignore[misc]
            caps.append(n_reserve + n + r if r >= 0 else -1)
        return caps[s]

    chosen: list[tuple[Hashable, bool]] = []  # (lead, must reserve), in order
    skipped: list[Skipped] = []
    seen: dict[Hashable, Hashable] = {}  # number key -> the first lead listed with it
    key = floor.guard.key
    musts = 0
    swaps = 0
    for i, lead in enumerate(leads):
        if len(chosen) >= cap(swaps):
            break
        number = lead if number_of is None else number_of(lead)
        try:
            k = key(number)
            repeated = k in seen
        except TypeError:
            raise bad(f"leads[{i}]", lead, "a lead id (a string or a whole number)") from None
        if repeated:
            skipped.append(Skipped(lead, REPEATED, f"the same number as {seen[k]!r}, listed before"
                                   if seen[k] != lead else "listed before"))
            continue
        seen[k] = lead
        if floor.lead_in_flight(number):
            skipped.append(Skipped(lead, IN_FLIGHT, "a dial of this number is in progress"))
            continue
        if screen is not None:
            why = screen(lead)
            if why is not None:
                skipped.append(Skipped(lead, SCREENED, str(why)))
                continue
        if floor.must_reserve_lead(now, number):
            s = max(0, musts + 1 - n_reserve)
            if s > len(spare) or cap(s) < len(chosen) + 1:
                skipped.append(Skipped(
                    lead, NEEDS_RESERVED_AGENT,
                    "abandoned before: may only be dialled with an agent reserved (norm 4.6.3), "
                    "and no agent is left to reserve for it now",
                ))
                continue
            musts += 1
            swaps = s
            chosen.append((lead, True))
        else:
            chosen.append((lead, False))

    # who gets a reserved agent: musts first on the decision's agents, then on spare ones;
    # the others take the decision's agents the musts leave, earliest candidates first
    must_on_reserve = min(musts, n_reserve)
    others_on_reserve = min(len(chosen) - musts, n_reserve - must_on_reserve)
    agents = iter(reserve)
    swapped = iter(spare)
    dials: list[Dial] = []
    for lead, must in chosen:
        if must:
            if must_on_reserve:
                must_on_reserve -= 1
                dials.append(Dial(lead, next(agents)))
            else:
                dials.append(Dial(lead, next(swapped)))
        elif others_on_reserve:
            others_on_reserve -= 1
            dials.append(Dial(lead, next(agents)))
        else:
            dials.append(Dial(lead, None))
    return Picks(decision, tuple(dials), tuple(skipped))


__all__ = ["pick_leads", "Picks", "Dial", "Skipped", "Room", "REASONS", "IN_FLIGHT", "REPEATED",
           "NEEDS_RESERVED_AGENT", "SCREENED"]
