"""Probability distributions of uncertain stress-test parameters (Monte Carlo).

Each distribution is a small pydantic model tagged by ``dist`` and written in a scenario file as
``{dist: uniform, low: 0.05, high: 0.2}`` or on the command line as ``uniform:0.05,0.2``:

- ``uniform``: ``low``, ``high``;
- ``triangular``: ``low``, ``mode``, ``high``;
- ``normal``: ``mean``, ``sd``, truncated to [``low``, ``high``] (rejection sampling; the interval
  must hold at least 1 % of the untruncated mass);
- ``choice``: discrete ``values`` with optional ``weights`` (normalised).

``sample(rng, n)`` draws ``n`` values from a :class:`numpy.random.Generator`.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import TYPE_CHECKING, Annotated, Literal, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

__all__ = ["DIST_ARGS", "Choice", "Distribution", "Normal", "Triangular", "Uniform", "dist_adapter"]

_MIN_MASS = 0.01


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    """A distribution of one parameter (pydantic's model metaclass is an ABCMeta)."""

    @abstractmethod
    def support(self) -> tuple[float, float]:
        """Smallest and largest value a draw can take."""

    @abstractmethod
    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws from ``rng``."""

    @abstractmethod
    def describe(self) -> str:
        """Short text, e.g. ``uniform(0.05, 0.2)``."""


class _Interval(_Dist):
    """A distribution whose draws lie in [``low``, ``high``], with ``low`` below ``high``.

    Each subclass declares ``low`` and ``high`` itself, at their place among its own fields:
    pydantic puts a base class's fields first, and the field order is that of the dumped JSON
    and of the schema. The annotations here only tell the type checker they exist.
    """

    if TYPE_CHECKING:
        low: float
        high: float

    @model_validator(mode="after")
    def _low_below_high(self) -> Self:
        if not self.low < self.high:
            raise ValueError("low must be smaller than high")
        return self

    def support(self) -> tuple[float, float]:
        return self.low, self.high


class Uniform(_Interval):
    dist: Literal["uniform"]
    low: float
    high: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)

    def describe(self) -> str:
        return f"uniform({self.low:g}, {self.high:g})"


class Triangular(_Interval):
    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _mode_inside(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError("mode must lie between low and high")
        return self

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.triangular(self.low, self.mode, self.high, n)

    def describe(self) -> str:
        return f"triangular({self.low:g}, {self.mode:g}, {self.high:g})"


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


class Normal(_Interval):
    """Normal(mean, sd) truncated to [low, high]."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(gt=0.0)
    low: float
    high: float

    @model_validator(mode="after")
    def _enough_mass(self) -> Normal:
        if self.mass() < _MIN_MASS:
            raise ValueError(
                f"[low, high] holds only {self.mass():.2%} of normal({self.mean:g}, {self.sd:g}); "
                f"at least {_MIN_MASS:.0%} needed"
            )
        return self

    def mass(self) -> float:
        return _phi((self.high - self.mean) / self.sd) - _phi((self.low - self.mean) / self.sd)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        out = np.empty(n)
        filled = 0
        while filled < n:
            want = math.ceil((n - filled) / self.mass() * 1.2) + 16
            draws = rng.normal(self.mean, self.sd, want)
            keep = draws[(draws >= self.low) & (draws <= self.high)][: n - filled]
            out[filled : filled + keep.size] = keep
            filled += keep.size
        return out

    def describe(self) -> str:
        return f"normal({self.mean:g}, {self.sd:g}) in [{self.low:g}, {self.high:g}]"


class Choice(_Dist):
    dist: Literal["choice"]
    values: tuple[float, ...] = Field(min_length=1)
    weights: tuple[float, ...] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("weights must have one entry per value")
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be non-negative and not all zero")
        return self

    def support(self) -> tuple[float, float]:
        return min(self.values), max(self.values)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        p = None
        if self.weights is not None:
            w = np.asarray(self.weights, dtype=float)
            p = w / w.sum()
        return rng.choice(np.asarray(self.values, dtype=float), size=n, p=p)

    def describe(self) -> str:
        text = "choice(" + ", ".join(f"{v:g}" for v in self.values) + ")"
        if self.weights is not None:
            text += " weights (" + ", ".join(f"{w:g}" for w in self.weights) + ")"
        return text


Distribution = Annotated[Uniform | Triangular | Normal | Choice, Field(discriminator="dist")]
dist_adapter: TypeAdapter[Uniform | Triangular | Normal | Choice] = TypeAdapter(Distribution)

# positional arguments of the command-line form ``KIND:a,b,...`` (choice: all values)
DIST_ARGS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "normal": ("mean", "sd", "low", "high"),
    "choice": (),
}
