"""What several core tests share: a greedy test pacer, a script of calls put through, a snapshot of the state.

    c = Controller(Greedy())
    t = put_through(c, 0.0, 20, "ann", "h")   # 20 calls answered and put through to ann, one after another
    before = snapshot(c)
    ...                                       # an event that must be refused
    assert snapshot(c) == before              # refused: nothing changed
"""

from __future__ import annotations

import copy
from typing import Any

from dialer.core import Controller, Floor, Pacer, Plan, events


class Greedy(Pacer):
    """Test-only: always wants far more unreserved dials than any floor could take, and `reserved` reserved ones."""

    mode = "greedy-test"
    uses_envelope = True

    def __init__(self, *, reserved: int = 0) -> None:
        self.reserved = reserved

    def plan(self, now, floor):
        return Plan(reserved=self.reserved, unreserved=10**9)


class Wants(Pacer):
    """Test-only: asks for `reserved` reserved and `unreserved` unreserved dials (and `wake_at`), inside the envelope."""

    mode = "wants-test"
    uses_envelope = True

    def __init__(self, *, reserved: int = 0, unreserved: int = 0, wake_at: float | None = None) -> None:
        self.reserved = reserved
        self.unreserved = unreserved
        self.wake_at = wake_at

    def plan(self, now, floor):
        return Plan(reserved=self.reserved, unreserved=self.unreserved, wake_at=self.wake_at)


def put_through(c: Controller, t: float, n: int, agent: str, tag: str, *, reserved: bool = False,
                answer: float = 10.0, end: float = 100.0, ready: float = 120.0) -> float:
    """`n` calls to `agent`, one after another, each `answer` s after its dial answered by a person and
    put through, ended at `end` s and the agent ready at `ready` s; the next dial 1 s later.

    Calls and leads are named `tag` + a number; `reserved`: dialled with `agent`
    reserved. Returns the time of the next dial.
    """
    for i in range(n):
        call = f"{tag}{i}"
        c.handle(events.DialPlaced(time=t, call=call, lead=call, agent=agent if reserved else None))
        c.handle(events.CallAnswered(time=t + answer, call=call, human=True))
        c.handle(events.CallConnected(time=t + answer, call=call, agent=agent))
        c.handle(events.CallEnded(time=t + end, call=call))
        c.handle(events.AgentReady(time=t + ready, agent=agent))
        t += ready + 1.0
    return t


def snapshot(c: Controller | Floor) -> Any:
    """A deep copy of everything a floor and its redial guard hold (and a controller's ledger), to compare."""
    f = c.floor if isinstance(c, Controller) else c
    parts: tuple[Any, ...] = ({k: v for k, v in vars(f).items() if k not in ("day_of", "guard")}, vars(f.guard))
    if isinstance(c, Controller) and c.ledger is not None:
        parts += (vars(c.ledger),)
    return copy.deepcopy(parts)
