"""Duration distributions: every type's `mean` and `variance` agree with its draws.

The bands are sized from the sample: the standard error of the sample mean is
s / sqrt(n), that of the sample variance sqrt((m4 - s^4) / n) with m4 the
sample's fourth central moment; z is Bonferroni-corrected over every check in
this file, so the whole file fails by chance with probability about 0.001.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from dialer.errors import ConfigError
from dialer.sim.distributions import (
    DISTRIBUTIONS,
    Constant,
    Empirical,
    Exponential,
    Gamma,
    LogNormal,
    Uniform,
)
from dialer.sim.scenario import from_dict

N = 200_000

RANDOM_CASES = [
    pytest.param(Exponential(mean=120.0), id="exponential"),
    pytest.param(LogNormal(mean=170.0, sd=120.0), id="lognormal-170-120"),
    pytest.param(LogNormal(mean=4.0, sd=3.0), id="lognormal-4-3"),
    pytest.param(Gamma(mean=30.0, sd=15.0), id="gamma-30-15"),
    pytest.param(Gamma(mean=10.0, sd=20.0), id="gamma-shape-below-1"),
    pytest.param(Uniform(low=3.0, high=8.0), id="uniform"),
    pytest.param(Empirical(samples=(5.0, 10.0, 10.0, 42.0, 300.0)), id="empirical"),
]

# two checks (mean, variance) per case, overall false-alarm probability 0.001
Z = stats.norm.ppf(1 - 0.001 / (2 * 2 * len(RANDOM_CASES)))


def _bands(x: np.ndarray) -> tuple[float, float, float, float]:
    n = len(x)
    m = x.mean()
    s2 = x.var(ddof=1)
    m4 = np.mean((x - m) ** 4)
    return m, math.sqrt(s2 / n), s2, math.sqrt(max(m4 - s2**2, 0.0) / n)


@pytest.mark.parametrize("dist", RANDOM_CASES)
def test_sample_mean_and_variance_match_the_properties(dist):
    x = dist.draw(np.random.default_rng(20261124), N)
    assert x.shape == (N,)
    assert np.all(x >= 0.0)
    m, se_m, s2, se_v = _bands(x)
    assert abs(m - dist.mean) <= Z * se_m, (m, dist.mean, se_m)
    assert abs(s2 - dist.variance) <= Z * se_v, (s2, dist.variance, se_v)


@pytest.mark.parametrize("dist", RANDOM_CASES)
def test_sampler_hands_out_the_batches_in_order(dist):
    """The one-at-a-time sampler gives exactly the draws of `draw`, batch after batch."""
    seed = 99
    s = dist.sampler(np.random.default_rng(seed))
    one_by_one = np.array([s() for _ in range(3000)])
    rng = np.random.default_rng(seed)
    batches = np.concatenate([dist.draw(rng, 1024) for _ in range(3)])[:3000]
    np.testing.assert_array_equal(one_by_one, batches)


def test_sampler_is_reproducible_and_seed_dependent():
    d = LogNormal(mean=170.0, sd=120.0)
    a = d.sampler(np.random.default_rng(1))
    b = d.sampler(np.random.default_rng(1))
    c = d.sampler(np.random.default_rng(2))
    xa = [a() for _ in range(100)]
    assert xa == [b() for _ in range(100)]
    assert xa != [c() for _ in range(100)]


def test_constant_is_exact():
    d = Constant(value=30.0)
    assert d.mean == 30.0 and d.variance == 0.0
    assert np.all(d.draw(np.random.default_rng(0), 100) == 30.0)
    s = d.sampler(np.random.default_rng(0))
    assert [s() for _ in range(5)] == [30.0] * 5


def test_lognormal_given_mean_and_sd_reproduces_them():
    """The parameters are the distribution's own mean and sd, not those of its log."""
    mean, sd = 170.0, 120.0
    x = LogNormal(mean=mean, sd=sd).draw(np.random.default_rng(7), N)
    m, se_m, s2, se_v = _bands(x)
    assert abs(m - mean) <= Z * se_m
    # sd from the variance band by the delta method: se(s) = se(s^2) / (2 s)
    assert abs(math.sqrt(s2) - sd) <= Z * se_v / (2 * math.sqrt(s2))
    # and the log is normal: a KS test against N(mu, sigma) with the implied parameters
    sigma2 = math.log1p((sd / mean) ** 2)
    mu = math.log(mean) - sigma2 / 2
    p = stats.kstest(np.log(x[:20_000]), "norm", args=(mu, math.sqrt(sigma2))).pvalue
    assert p > 0.001


def test_gamma_given_mean_and_sd_has_the_right_shape():
    mean, sd = 30.0, 15.0
    x = Gamma(mean=mean, sd=sd).draw(np.random.default_rng(8), 20_000)
    shape = (mean / sd) ** 2
    p = stats.kstest(x, "gamma", args=(shape, 0.0, mean / shape)).pvalue
    assert p > 0.001


def test_empirical_resamples_only_the_given_values_with_equal_weights():
    values = (5.0, 10.0, 42.0)
    x = Empirical(samples=values).draw(np.random.default_rng(3), 30_000)
    got, counts = np.unique(x, return_counts=True)
    assert tuple(got) == values
    p = stats.chisquare(counts).pvalue
    assert p > 0.001


def test_every_named_distribution_is_covered_here():
    covered = {p.values[0].name for p in RANDOM_CASES} | {"constant"}
    assert covered == set(DISTRIBUTIONS)


@pytest.mark.parametrize(
    ("make", "field", "value"),
    [
        (lambda: Constant(value=-1.0), "value", "-1.0"),
        (lambda: Exponential(mean=0.0), "mean", "0.0"),
        (lambda: LogNormal(mean=10.0, sd=-2.0), "sd", "-2.0"),
        (lambda: Gamma(mean=float("nan"), sd=1.0), "mean", "nan"),
        (lambda: Uniform(low=5.0, high=2.0), "high", "2.0"),
        (lambda: Empirical(samples=()), "samples", "[]"),
        (lambda: Empirical(samples=(1.0, -4.0)), "samples[1]", "-4.0"),
    ],
)
def test_bad_parameters_name_the_field_and_the_value(make, field, value):
    with pytest.raises(ConfigError) as info:
        make()
    msg = str(info.value)
    assert msg.startswith(f"{field} must be"), msg
    assert msg.endswith(f"got {value}"), msg


@pytest.mark.parametrize("dist", [p.values[0] for p in RANDOM_CASES] + [Constant(value=12.5)])
def test_to_spec_builds_the_same_distribution_in_a_scenario(dist):
    data = {
        "agents": [{"count": 1}],
        "campaigns": [{"name": "c", "durations": {"talk": dist.to_spec()}}],
    }
    assert from_dict(data).campaigns[0].durations.talk == dist
