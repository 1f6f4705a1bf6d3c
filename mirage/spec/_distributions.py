"""The distributions a spec declares, each as an inverse CDF (``ppf``) of uniform numbers and a CDF.

Every draw goes through ``ppf(u)``: a Gaussian copula hands each marginal the normal CDF of its
correlated scores, an independent column hands it uniform numbers, and ``min``/``max`` truncate a
distribution exactly by narrowing ``u`` to ``[F(min), F(max)]``.  The report reads the same objects:
``cdf`` for the KS test of a continuous marginal, ``probabilities`` for the chi-square test of a
discrete one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from mirage.errors import SchemaError

__all__ = [
    "Categorical",
    "Distribution",
    "Empirical",
    "LogNormal",
    "Mixture",
    "Normal",
    "Poisson",
    "Truncated",
    "Uniform",
    "distribution_from_dict",
]

_TAIL = 1e-12  # a discrete distribution's table stops where this much probability is left
_MIXTURE_GRID = 4097  # points of a mixture's tabulated CDF


class Distribution:
    """``ppf(u)`` for ``u`` in (0, 1); ``cdf(x)``; ``discrete`` distributions also list their values."""

    discrete: bool = False

    def ppf(self, u: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def cdf(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def from_normal(self, z: np.ndarray) -> np.ndarray:
        """Values for standard normal scores ``z`` (a copula's draws): ``ppf(Phi(z))``."""
        return self.ppf(special.ndtr(z))

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def numeric(self) -> bool:
        return True


@dataclass(frozen=True)
class Normal(Distribution):
    mean: float
    std: float

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.asarray(self.mean + self.std * special.ndtri(u), dtype="float64")

    def from_normal(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(self.mean + self.std * z, dtype="float64")

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(special.ndtr((np.asarray(x, dtype="float64") - self.mean) / self.std))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "normal", "mean": self.mean, "std": self.std}


@dataclass(frozen=True)
class LogNormal(Distribution):
    """``exp(N(mu, sigma))``: ``mu`` and ``sigma`` are those of the logarithm (median ``exp(mu)``)."""

    mu: float
    sigma: float

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.asarray(np.exp(self.mu + self.sigma * special.ndtri(u)), dtype="float64")

    def from_normal(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(np.exp(self.mu + self.sigma * z), dtype="float64")

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype="float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (np.log(np.where(x > 0, x, np.nan)) - self.mu) / self.sigma
        return np.where(x > 0, special.ndtr(np.nan_to_num(z, nan=-np.inf)), 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "lognormal", "mu": self.mu, "sigma": self.sigma}


@dataclass(frozen=True)
class Uniform(Distribution):
    low: float
    high: float

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.asarray(self.low + (self.high - self.low) * u, dtype="float64")

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return np.clip((np.asarray(x, dtype="float64") - self.low) / (self.high - self.low), 0.0, 1.0)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "uniform", "low": self.low, "high": self.high}


class _Tabled(Distribution):
    """A discrete distribution over ``values`` (sorted when numeric) with cumulative ``table``."""

    discrete = True
    values: np.ndarray
    table: np.ndarray

    def ppf(self, u: np.ndarray) -> np.ndarray:
        index = np.searchsorted(self.table, u, side="left")
        return np.asarray(self.values[np.minimum(index, len(self.values) - 1)])

    def probabilities(self) -> dict[Any, float]:
        mass = np.diff(self.table, prepend=0.0)
        return {v: float(p) for v, p in zip(self.values.tolist(), mass.tolist(), strict=True)}

    def cdf(self, x: np.ndarray) -> np.ndarray:
        index = np.searchsorted(self.values, np.asarray(x, dtype="float64"), side="right")
        padded = np.concatenate([[0.0], self.table])
        return np.asarray(padded[index])


class Poisson(_Tabled):
    def __init__(self, lam: float) -> None:
        self.lam = float(lam)
        top = int(stats.poisson.ppf(1 - _TAIL, self.lam)) + 1
        self.values = np.arange(top + 1, dtype="float64")
        table = stats.poisson.cdf(self.values, self.lam)
        table[-1] = 1.0
        self.table = table

    def to_dict(self) -> dict[str, Any]:
        return {"type": "poisson", "lam": self.lam}


class Categorical(_Tabled):
    """Values with weights (normalised); numeric values are sorted so that ranks follow the numbers."""

    def __init__(self, weights: Mapping[Any, float]) -> None:
        self.weights = dict(weights)
        items = list(self.weights.items())
        self._numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v, _ in items)
        if self._numeric:
            items.sort(key=lambda item: float(item[0]))
        values = [v for v, _ in items]
        self.values = np.array(values, dtype="float64" if self._numeric else object)
        mass = np.array([w for _, w in items], dtype="float64")
        table = np.cumsum(mass / mass.sum())
        table[-1] = 1.0
        self.table = table

    @property
    def numeric(self) -> bool:
        return self._numeric

    def cdf(self, x: np.ndarray) -> np.ndarray:
        if not self._numeric:
            raise SchemaError("a categorical distribution of labels has no CDF")
        return super().cdf(x)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "categorical", "weights": {_label(k): v for k, v in self.weights.items()}}


def _label(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if not isinstance(value, str) else value


@dataclass(frozen=True)
class Empirical(Distribution):
    """Piecewise-linear inverse CDF through ``quantiles`` at ``probabilities`` (0 to 1, increasing)."""

    quantiles: tuple[float, ...]
    probabilities: tuple[float, ...]

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.interp(u, self.probabilities, self.quantiles)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        q, p = np.asarray(self.quantiles), np.asarray(self.probabilities)
        # flat stretches of the quantiles (an atom) take the highest probability at that value
        keep = np.r_[q[1:] != q[:-1], True]
        return np.interp(np.asarray(x, dtype="float64"), q[keep], p[keep], left=0.0, right=1.0)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "empirical", "quantiles": list(self.quantiles)}
        even = np.linspace(0.0, 1.0, len(self.quantiles))
        if not np.allclose(even, self.probabilities):
            out["probabilities"] = list(self.probabilities)
        return out


class Mixture(Distribution):
    """Weighted continuous components; its inverse CDF is read off a tabulated CDF."""

    def __init__(self, components: Sequence[tuple[float, Distribution]]) -> None:
        self.components = list(components)
        total = sum(w for w, _ in self.components)
        self.weights = np.array([w / total for w, _ in self.components])
        low = min(float(d.ppf(np.array([1e-9]))[0]) for _, d in self.components)
        high = max(float(d.ppf(np.array([1 - 1e-9]))[0]) for _, d in self.components)
        self.grid = np.linspace(low, high, _MIXTURE_GRID)
        self.table = self.cdf(self.grid)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype="float64")
        return np.asarray(sum(w * d.cdf(x) for w, (_, d) in zip(self.weights, self.components, strict=True)))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.interp(u, self.table, self.grid)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "mixture",
            "components": [{"weight": w, **d.to_dict()} for w, d in self.components],
        }


class Truncated(Distribution):
    """``base`` restricted to ``[low, high]``: ``u`` is narrowed to ``[F(low), F(high)]`` (exact)."""

    def __init__(self, base: Distribution, low: float | None, high: float | None, where: str) -> None:
        self.base, self.low, self.high = base, low, high
        self.discrete = base.discrete
        below = -math.inf if low is None else (math.ceil(low) - 1 if base.discrete else low)
        self.f_low = 0.0 if low is None else float(base.cdf(np.array([below]))[0])
        self.f_high = 1.0 if high is None else float(base.cdf(np.array([high]))[0])
        if self.f_high - self.f_low <= 1e-12:
            raise SchemaError(f"{where}: the distribution has no probability between min and max")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        # keep u off the edges so that the base's ppf never returns its infinite ends
        inner = self.f_low + (self.f_high - self.f_low) * np.asarray(u)
        out = self.base.ppf(np.clip(inner, 1e-300, 1 - 1e-16))
        if self.low is not None or self.high is not None:
            out = np.clip(out, self.low, self.high)
        return np.asarray(out)

    def from_normal(self, z: np.ndarray) -> np.ndarray:
        return self.ppf(special.ndtr(z))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        inside = (self.base.cdf(x) - self.f_low) / (self.f_high - self.f_low)
        return np.clip(inside, 0.0, 1.0)

    def probabilities(self) -> dict[Any, float]:
        assert isinstance(self.base, _Tabled)
        probs = self.base.probabilities()
        kept = {
            v: p
            for v, p in probs.items()
            if (self.low is None or v >= self.low) and (self.high is None or v <= self.high)
        }
        total = sum(kept.values())
        return {v: p / total for v, p in kept.items()}

    def to_dict(self) -> dict[str, Any]:
        return self.base.to_dict()

    @property
    def numeric(self) -> bool:
        return self.base.numeric


# parsing -----------------------------------------------------------------------------------------
_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # required, optional
    "normal": (("mean", "std"), ()),
    "lognormal": (("mu", "sigma"), ()),
    "uniform": (("low", "high"), ()),
    "poisson": (("lam",), ()),
    "categorical": (("weights",), ()),
    "bernoulli": (("p",), ()),
    "empirical": (("quantiles",), ("probabilities",)),
    "mixture": (("components",), ()),
}
TYPES = tuple(_FIELDS)


def _number(data: Mapping[str, Any], name: str, where: str, convert: Any = None) -> float:
    value = data[name]
    if convert is not None:
        value = convert(value, f"{where}.{name}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SchemaError(f"{where}.{name}: expected a number, got {value!r}")
    return float(value)


def _positive(data: Mapping[str, Any], name: str, where: str) -> float:
    value = _number(data, name, where)
    if value <= 0:
        raise SchemaError(f"{where}.{name}: must be above 0, got {value:g}")
    return value


def distribution_from_dict(
    data: Any, where: str, *, value_of: Any = None, convert: Any = None, allow_mixture: bool = True
) -> Distribution:
    """A distribution from its spec object (``{"type": "normal", "mean": 0, "std": 1}``).

    ``value_of(label, where)`` turns a categorical weight's key into the column's value (a number for a
    numeric column); ``convert(value, where)`` turns a parameter into a number (dates of a datetime
    column).  Errors name ``where`` and the field.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("type"), str):
        raise SchemaError(f"{where}: expected an object with a 'type' ({', '.join(TYPES)})")
    kind = data["type"]
    if kind not in _FIELDS:
        raise SchemaError(f"{where}.type: unknown distribution {kind!r} (known: {', '.join(TYPES)})")
    required, optional = _FIELDS[kind]
    unknown = sorted(set(data) - {"type", *required, *optional})
    if unknown:
        raise SchemaError(f"{where}.{unknown[0]}: unknown field for a {kind} distribution")
    for name in required:
        if name not in data:
            raise SchemaError(f"{where}: a {kind} distribution needs {name!r}")
    if kind == "normal":
        return Normal(_number(data, "mean", where, convert), _positive(data, "std", where))
    if kind == "lognormal":
        return LogNormal(_number(data, "mu", where), _positive(data, "sigma", where))
    if kind == "uniform":
        low, high = _number(data, "low", where, convert), _number(data, "high", where, convert)
        if high <= low:
            raise SchemaError(f"{where}.high: must be above low ({high:g} <= {low:g})")
        return Uniform(low, high)
    if kind == "poisson":
        return Poisson(_positive(data, "lam", where))
    if kind == "bernoulli":
        p = _number(data, "p", where)
        if not 0 <= p <= 1:
            raise SchemaError(f"{where}.p: a probability between 0 and 1, got {p:g}")
        return Categorical({True: p, False: 1 - p})
    if kind == "categorical":
        return _categorical(data["weights"], f"{where}.weights", value_of)
    if kind == "empirical":
        return _empirical(data, where, convert)
    if not allow_mixture:
        raise SchemaError(f"{where}: a mixture cannot be a component of a mixture")
    return _mixture(data["components"], f"{where}.components", convert)


def _categorical(weights: Any, where: str, value_of: Any) -> Categorical:
    if not isinstance(weights, Mapping) or not weights:
        raise SchemaError(f"{where}: expected an object of value: weight")
    parsed: dict[Any, float] = {}
    for label, weight in weights.items():
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
            raise SchemaError(f"{where}.{label}: a weight is a number >= 0, got {weight!r}")
        value = value_of(label, f"{where}.{label}") if value_of is not None else label
        if value in parsed:
            raise SchemaError(f"{where}.{label}: the value appears twice")
        parsed[value] = float(weight)
    if sum(parsed.values()) <= 0:
        raise SchemaError(f"{where}: the weights sum to 0")
    return Categorical(parsed)


def _empirical(data: Mapping[str, Any], where: str, convert: Any) -> Empirical:
    raw = data["quantiles"]
    if not isinstance(raw, list) or len(raw) < 2:
        raise SchemaError(f"{where}.quantiles: expected a list of two or more numbers")
    quantiles = [_number({"q": q}, "q", f"{where}.quantiles[{i}]", convert) for i, q in enumerate(raw)]
    if any(b < a for a, b in itertools.pairwise(quantiles)):
        raise SchemaError(f"{where}.quantiles: must not decrease")
    if "probabilities" in data:
        probs_raw = data["probabilities"]
        if not isinstance(probs_raw, list) or len(probs_raw) != len(quantiles):
            raise SchemaError(f"{where}.probabilities: expected one probability per quantile")
        probs = [_number({"p": p}, "p", f"{where}.probabilities[{i}]") for i, p in enumerate(probs_raw)]
        if probs[0] != 0 or probs[-1] != 1 or any(b <= a for a, b in itertools.pairwise(probs)):
            raise SchemaError(f"{where}.probabilities: must increase from 0 to 1")
    else:
        probs = np.linspace(0.0, 1.0, len(quantiles)).tolist()
    return Empirical(tuple(quantiles), tuple(probs))


def _mixture(raw: Any, where: str, convert: Any) -> Mixture:
    if not isinstance(raw, list) or not raw:
        raise SchemaError(f"{where}: expected a list of components, each a distribution with a weight")
    parts: list[tuple[float, Distribution]] = []
    for i, item in enumerate(raw):
        here = f"{where}[{i}]"
        if not isinstance(item, Mapping) or "weight" not in item:
            raise SchemaError(f"{here}: a component is a distribution with a 'weight'")
        weight = _number(item, "weight", here)
        if weight <= 0:
            raise SchemaError(f"{here}.weight: must be above 0")
        body = {k: v for k, v in item.items() if k != "weight"}
        component = distribution_from_dict(body, here, convert=convert, allow_mixture=False)
        if component.discrete:
            raise SchemaError(f"{here}: a mixture's components are continuous (normal, lognormal, ...)")
        parts.append((weight, component))
    return Mixture(parts)
