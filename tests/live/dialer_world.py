"""A dialer's call floor for the live property tests: hypothesis draws what the world does, the
dialer keeps its own book (`mirror`, a core Floor that refuses an impossible event before it is
sent) and queues every event it would send in `pending`, with ids e1, e2, ..."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from dialer.core.floor import AgentState, Floor
from dialer.live.wire import event_from_dict


class DialerWorld:
    def __init__(self, data: Any, t: float = 0.0) -> None:
        self.data = data
        self.mirror = Floor()
        self.pending: list[dict] = []
        self.n = 0
        self.calls = 0
        self.ringing: list[int] = []
        self.waiting: list[int] = []  # answered by a person, no agent free yet
        self.talking: list[int] = []
        self.agents = [f"a{i}" for i in range(data.draw(st.integers(1, 4), label="agents"))]
        for a in self.agents:
            self.emit("AgentLoggedIn", t, agent=a)

    def emit(self, tp: str, t: float, **kw: Any) -> None:
        self.n += 1
        e = {"id": f"e{self.n}", "type": tp, "time": t, **kw}
        self.mirror.apply(event_from_dict(e)[1])
        self.pending.append(e)

    def take(self) -> list[dict]:
        """The events queued since the last take (the dialer's next batch)."""
        batch, self.pending = self.pending, []
        return batch

    def place(self, decision: Any, t: float) -> None:
        """Place what a decision says: a dial per reserved agent, then the unreserved ones."""
        for agent in decision.reserve:
            self.dial(t, agent)
        for _ in range(decision.unreserved):
            self.dial(t, None)

    def dial(self, t: float, agent: Any) -> None:
        self.calls += 1
        self.emit("DialPlaced", t, call=self.calls, lead=self.calls, agent=agent)
        self.ringing.append(self.calls)

    def move(self, t: float) -> None:
        """One thing happens at `t` (drawn): a ringing call resolves, a call ends, an agent finishes
        wrapping up (and takes a waiting caller), or a waiting caller hangs up."""
        data, mirror = self.data, self.mirror
        wrapping = [a for a in self.agents if mirror.agent_state(a) is AgentState.WRAP]
        moves = (["ring"] if self.ringing else []) + (["end"] if self.talking else [])
        moves += (["ready"] if wrapping else []) + (["abandon"] if self.waiting else [])
        if not moves:
            return
        move = data.draw(st.sampled_from(moves), label="move")
        if move == "ring":
            call = self.ringing.pop(data.draw(st.integers(0, len(self.ringing) - 1), label="which"))
            outcome = data.draw(st.sampled_from(["human", "machine", "no_answer", "busy"]), label="outcome")
            if outcome in ("no_answer", "busy"):
                self.emit("CallFailed", t, call=call, reason=outcome)
            elif outcome == "machine":
                self.emit("CallAnswered", t, call=call, human=False)
            else:
                self.emit("CallAnswered", t, call=call, human=True)
                info = mirror.call_info(call)
                agent = info.agent if info.reserved else next(mirror.idle_agents(), None)
                if agent is None:
                    self.waiting.append(call)  # abandoned later unless an agent frees up
                else:
                    self.emit("CallConnected", t, call=call, agent=agent)
                    self.talking.append(call)
        elif move == "end":
            self.emit("CallEnded", t, call=self.talking.pop(0))
        elif move == "ready":
            self.emit("AgentReady", t, agent=wrapping[0])
            if self.waiting:
                call = self.waiting.pop(0)
                self.emit("CallConnected", t, call=call, agent=wrapping[0])
                self.talking.append(call)
        else:
            self.emit("CallAbandoned", t, call=self.waiting.pop(0))
