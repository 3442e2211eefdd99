"""The engine's retry queue pops leads in exactly the order a heap of (due, seq, lead) would."""

import heapq

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.sim.engine import _Retries

DELAYS = (7200.0, 900.0, 10800.0, 3600.0)

# a script of steps: advance the clock by a gap, then queue a lead with one of the delays, or pop
steps = st.lists(
    st.tuples(st.sampled_from([0.0, 0.5, 60.0, 900.0, 3600.0]), st.sampled_from(DELAYS + (None,))),
    max_size=200,
)


@given(steps)
@settings(max_examples=200, deadline=None)
def test_retries_pop_in_heap_order(script):
    q, heap = _Retries(), []
    now, seq = 0.0, 0
    for gap, delay in script:
        now += gap
        if delay is not None:
            seq += 1
            q.push(delay, now + delay, seq, seq)
            heapq.heappush(heap, (now + delay, seq, seq))
        elif heap and heap[0][0] <= now:
            assert q.due == heap[0][0]
            assert q.pop() == heapq.heappop(heap)[2]
        assert q.due == (heap[0][0] if heap else float("inf"))
        assert len(q) == len(heap)
    while heap:
        assert q.pop() == heapq.heappop(heap)[2]
    assert q.due == float("inf") and len(q) == 0
