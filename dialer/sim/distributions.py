"""Probability distributions for durations in scenarios: ring, talk, wrap-up, patience, ...

Owns: the distribution types a scenario may name, each with its exact `mean`
and `variance` (so tests and theory can use them), and a fast `Sampler` that
draws from a `numpy.random.Generator` in batches.

Must not know about: SimPy, the controller, scenario files (parsing lives in
`dialer.sim.scenario`). Every draw comes from a Generator passed in: a seed
reproduces every draw.

    d = LogNormal(mean=180.0, sd=120.0)
    s = d.sampler(np.random.default_rng(7))
    s()            # one draw, seconds
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from dialer.checks import check, non_negative, positive
from dialer.errors import bad

_BATCH = 1024


class Distribution:
    """A non-negative random duration in seconds."""

    name = ""

    # every subclass provides `mean` and `variance` (a field or a property)
    mean: float
    variance: float

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def sampler(self, rng: np.random.Generator) -> Callable[[], float]:
        """A zero-argument callable returning one draw; draws are made `_BATCH` at a time."""
        return Sampler(self, rng)

    def to_spec(self) -> dict[str, object]:
        """The scenario-file table that builds this distribution again."""
        spec: dict[str, object] = {"dist": self.name}
        for name in self.__dataclass_fields__:  # type: ignore[attr-defined]
            value = getattr(self, name)
            spec[name] = list(value) if isinstance(value, tuple) else value
        return spec


class Sampler:
    """Hands out draws one at a time from batches (numpy scalar calls are slow)."""

    __slots__ = ("_dist", "_rng", "_buf", "_i")

    def __init__(self, dist: Distribution, rng: np.random.Generator) -> None:
        self._dist = dist
        self._rng = rng
        self._buf: list[float] = []
        self._i = 0

    def __call__(self) -> float:
        i = self._i
        if i >= len(self._buf):
            self._buf = self._dist.draw(self._rng, _BATCH).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]


_NON_NEGATIVE = non_negative("number of seconds")
_POSITIVE = positive("number of seconds")


def _check_nonneg(field: str, x: float) -> None:
    check(field, x, _NON_NEGATIVE)


def _check_pos(field: str, x: float) -> None:
    check(field, x, _POSITIVE)


@dataclass(frozen=True)
class Constant(Distribution):
    value: float
    name = "constant"

    def __post_init__(self) -> None:
        _check_nonneg("value", self.value)

    @property
    def mean(self) -> float:
        return float(self.value)

    @property
    def variance(self) -> float:
        return 0.0

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, float(self.value))

    def sampler(self, rng: np.random.Generator) -> Callable[[], float]:
        v = float(self.value)
        return lambda: v


@dataclass(frozen=True)
class Exponential(Distribution):
    mean: float
    name = "exponential"

    def __post_init__(self) -> None:
        _check_pos("mean", self.mean)

    @property
    def variance(self) -> float:
        return float(self.mean) ** 2

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean, size)


@dataclass(frozen=True)
class _MeanSd(Distribution):
    """A distribution given by its own mean and standard deviation, both positive."""

    mean: float
    sd: float

    def __post_init__(self) -> None:
        _check_pos("mean", self.mean)
        _check_pos("sd", self.sd)

    @property
    def variance(self) -> float:
        return float(self.sd) ** 2


@dataclass(frozen=True)
class LogNormal(_MeanSd):
    """Log-normal given its own mean and standard deviation (not those of the log)."""

    name = "lognormal"

    def _params(self) -> tuple[float, float]:
        s2 = math.log1p((self.sd / self.mean) ** 2)
        return math.log(self.mean) - s2 / 2.0, math.sqrt(s2)

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        mu, sigma = self._params()
        return rng.lognormal(mu, sigma, size)


@dataclass(frozen=True)
class Gamma(_MeanSd):
    """Gamma given its mean and standard deviation (shape = (mean/sd)^2)."""

    name = "gamma"

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape = (self.mean / self.sd) ** 2
        return rng.gamma(shape, self.mean / shape, size)


@dataclass(frozen=True)
class Uniform(Distribution):
    low: float
    high: float
    name = "uniform"

    def __post_init__(self) -> None:
        _check_nonneg("low", self.low)
        _check_nonneg("high", self.high)
        if self.high < self.low:
            raise bad("high", self.high, f"at least low ({self.low!r})")

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2.0

    @property
    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12.0

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size)


@dataclass(frozen=True)
class Empirical(Distribution):
    """Resamples, with equal weights, a list of observed durations."""

    samples: tuple[float, ...]
    name = "empirical"

    def __post_init__(self) -> None:
        if len(self.samples) == 0:
            raise bad("samples", list(self.samples), "a non-empty list of durations")
        for i, x in enumerate(self.samples):
            _check_nonneg(f"samples[{i}]", x)

    @property
    def mean(self) -> float:
        return float(np.mean(self.samples))

    @property
    def variance(self) -> float:
        return float(np.var(self.samples))

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(np.asarray(self.samples, dtype=float), size)


#: The distributions a scenario may name, by their `dist` key.
DISTRIBUTIONS: dict[str, type[Distribution]] = {
    cls.name: cls for cls in (Constant, Exponential, LogNormal, Gamma, Uniform, Empirical)
}
