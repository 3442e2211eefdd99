"""Bad arguments raise ConfigError naming the argument and the value, before any computation."""

from __future__ import annotations

import math
import re

import pytest

from dialer.errors import ConfigError
from dialer.theory import (
    campaign_picture,
    erlang_a,
    erlang_b,
    erlang_c,
    erlang_table,
    largest_safe_ratio,
    optimal_pacing,
    poisson_dialing,
    progressive,
    ratio_dialing,
    required_agents,
    service_level_a,
    service_level_c,
)

GOOD = {
    erlang_b: dict(servers=10, offered_load=5.0),
    erlang_c: dict(servers=10, offered_load=8.0),
    erlang_a: dict(arrival_rate=0.05, service_rate=1 / 180, servers=10, patience_rate=1 / 60),
    poisson_dialing: dict(agents=10, dial_rate=0.2, live_prob=0.25, handle_time=200.0, grace=2.0),
    progressive: dict(handle_time=200.0, ring_time=17.0, live_prob=0.25, failed_ring_time=25.0),
    ratio_dialing: dict(agents=3, handle_time=200.0, ring_time=17.0, live_prob=0.25, ratio=2.0),
    optimal_pacing: dict(agents=3, handle_time=200.0, ring_time=17.0, live_prob=0.25, abandon_limit=0.05),
    service_level_c: dict(servers=10, arrival_rate=0.04, service_rate=1 / 180, t=20.0),
    service_level_a: dict(servers=10, arrival_rate=0.04, service_rate=1 / 180, patience_rate=0.01, t=20.0),
    required_agents: dict(arrival_rate=0.03, handle_time=180.0, target_sl=0.8, within=20.0, patience_rate=0.0),
    largest_safe_ratio: dict(agents=3, handle_time=200.0, ring_time=17.0, live_prob=0.25, abandon_limit=0.05),
    erlang_table: dict(arrival_rate=0.03, handle_time=180.0, within=20.0, agents=[6, 7]),
    campaign_picture: dict(agents=3, handle_time=200.0, ring_time=17.0, live_prob=0.25, abandon_limit=0.05),
}

INTEGERS = {"servers", "agents"}
PROBABILITIES = {"live_prob", "abandon_limit", "target_sl"}
POSITIVE = {"handle_time", "ring_time", "failed_ring_time", "service_rate"}


def bad_values(name):
    common = [math.nan, math.inf, "7", None, True]
    if name in INTEGERS:
        return [0, -3, 2.5] + common
    if name in PROBABILITIES:
        return [-0.1, 1.5] + common
    if name in POSITIVE:
        return [0.0, -1.0] + common
    return [-1.0] + common


# Values that look bad but are allowed: Erlang B with 0 servers (blocks everything),
# failed_ring_time=None (defaults to ring_time). erlang_table's agents is a range (tested below).
ALLOWED = {(erlang_b, "servers", 0), (progressive, "failed_ring_time", None)}
CASES = [
    (fn, name, value)
    for fn, kwargs in GOOD.items()
    for name in kwargs
    if name != "agents" or fn is not erlang_table
    for value in bad_values(name)
    if (fn, name, value) not in ALLOWED
]


def test_the_good_arguments_are_good():
    for fn, kwargs in GOOD.items():
        fn(**kwargs)


@pytest.mark.parametrize("fn, name, value", CASES, ids=[f"{fn.__name__}-{name}-{value!r}" for fn, name, value in CASES])
def test_bad_argument_is_named_with_its_value(fn, name, value):
    kwargs = dict(GOOD[fn], **{name: value})
    with pytest.raises(ConfigError, match=rf"^{name} must be .*, got {re.escape(repr(value))}$"):
        fn(**kwargs)


def test_config_error_is_a_value_error():
    with pytest.raises(ValueError):
        erlang_b(-1, 2.0)


def test_unstable_erlang_c_names_the_load():
    with pytest.raises(ConfigError, match=r"^offered_load must be below servers=10 .*got 10\.0$"):
        erlang_c(10, 10.0)
    with pytest.raises(ConfigError, match=r"^offered_load .*got 12\.5$"):
        erlang_c(10, 12.5)
    with pytest.raises(ConfigError, match=r"^arrival_rate must be below .*got 0\.1$"):
        erlang_a(0.1, 0.01, 10, 0.0)
    with pytest.raises(ConfigError, match=r"^arrival_rate .*got 0\.1$"):
        service_level_c(10, 0.1, 0.01, 5.0)


def test_special_values():
    with pytest.raises(ConfigError, match=r"^abandon_limit must be below 1 .*got 1\.0$"):
        optimal_pacing(3, 200.0, 17.0, 0.25, 1.0)
    with pytest.raises(ConfigError, match=r"^target_sl must be a fraction strictly between 0 and 1, got 1\.0$"):
        required_agents(0.03, 180.0, 1.0, 20.0)
    with pytest.raises(ConfigError, match=r"^t must be a non-negative number, got -1\.0$"):
        erlang_a(0.05, 0.01, 10, 0.01).service_level(-1.0)
    with pytest.raises(ConfigError, match=r"^agents must be an integer >= 1, got 0$"):
        erlang_table(0.03, 180.0, 20.0, [0, 1])
    with pytest.raises(ConfigError, match=r"^ratio must be a non-negative number, got -2$"):
        campaign_picture(3, 200.0, 17.0, 0.25, 0.05, ratio=-2)
    # an integral float is an integer
    assert erlang_b(10.0, 5.0) == erlang_b(10, 5.0)
