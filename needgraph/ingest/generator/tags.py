"""Tag value models: base distributions over an ontology tag's bins, and vectorised sampling.

Numeric tags draw a bin from skewed, unimodal bin probabilities and a value inside it (uniform in
closed bins, an exponential tail in open ones), so the histogram is lognormal-ish and every value
lands in a bin. Categorical and boolean tags draw a bin and one of its accepted raw spellings.
Two latent customer factors drive a Gaussian copula, so tags loading on the same factor correlate
(e.g. a value tier and the monthly spend).
"""

from __future__ import annotations

import math
from typing import TypeAlias

import numpy as np

from needgraph.ingest.generator.world import TagModel
from needgraph.ontology.model import Bin, Concept

Bounds: TypeAlias = tuple[float, float, int, float]

#: Decimals used for numeric values per unit (units not listed: by the bin edges).
UNIT_DECIMALS = {
    "cny": 2,
    "yuan": 2,
    "currency": 2,
    "usd": 2,
    "gb": 2,
    "mbps": 1,
    "%": 1,
    "percent": 1,
    "ratio": 3,
}
_EPS = 1e-9


def _r(x: float) -> float:
    return round(float(x), 6)


def _width(b: Bin | None) -> float | None:
    if b is None or b.min is None or b.max is None:
        return None
    return b.max - b.min


def _bin_bounds(bins: tuple[Bin, ...], i: int, non_negative: bool, default: float) -> Bounds:
    """Sampling bounds of bin ``i``: ``(low, high, tail, scale)``."""
    b = bins[i]
    lo, hi = b.min, b.max
    if lo is not None and hi is not None:
        return lo, hi, 0, hi - lo
    if hi is not None:
        if non_negative and hi > 0:
            return 0.0, hi, 0, hi
        nxt = bins[i + 1] if i + 1 < len(bins) else None
        width = _width(nxt) or max(default, abs(hi) * 0.25, 1.0)
        return hi - width, hi, -1, width
    if lo is not None:
        prev = bins[i - 1] if i > 0 else None
        width = max(_width(prev) or max(default, abs(lo) * 0.5, 1.0), abs(lo) * 0.15, 1e-3)
        return lo, lo + width, 1, width
    return 0.0, 100.0, 0, 100.0


def _numeric_bounds(concept: Concept) -> list[Bounds]:
    """Sampling bounds of every bin of a numeric tag."""
    bins = concept.bins
    edges = [e for b in bins for e in (b.min, b.max) if e is not None]
    widths = [w for w in (_width(b) for b in bins) if w is not None]
    default = float(np.median(widths)) if widths else 10.0
    non_negative = not edges or min(edges) >= 0
    return [_bin_bounds(bins, i, non_negative, default) for i in range(len(bins))]


def _edge_decimals(value: float) -> int:
    for places in range(5):
        if abs(round(value, places) - value) < 1e-9:
            return places
    return 4


def _decimals(concept: Concept) -> int:
    """Decimals of raw values: by unit, at least as many as the bin edges need."""
    edges = [e for b in concept.bins for e in (b.min, b.max) if e is not None]
    needed = max((_edge_decimals(e) for e in edges), default=0)
    unit = (concept.unit or "").strip().lower()
    if unit in UNIT_DECIMALS:
        return max(UNIT_DECIMALS[unit], needed)
    if edges and needed == 0:
        return 0
    return max(2, needed)


def base_mass(weight: float, rng: np.random.Generator) -> float:
    """Base probability of a bin that indicates a cause with ``weight``.

    Strong evidence sits in rare bins, weak evidence in common ones (a weak indicator is weak
    because many customers without the cause are there too).
    """
    if weight >= 0.6:
        return float(rng.uniform(0.02, 0.07))
    if weight >= 0.3:
        return float(rng.uniform(0.05, 0.2))
    return float(rng.uniform(0.25, 0.7))


def _bin_probabilities(
    usable: list[bool], weights: list[float], rng: np.random.Generator
) -> list[float]:
    """Skewed unimodal mass on ordinary bins; indicating bins get :func:`base_mass`."""
    n = len(usable)
    probs = np.zeros(n)
    ordinary = [i for i in range(n) if usable[i] and not weights[i]]
    flagged = [i for i in range(n) if usable[i] and weights[i]]
    masses = {i: base_mass(weights[i], rng) for i in flagged}
    total = sum(masses.values())
    if ordinary and total < 0.9:
        mode = ordinary[int(rng.integers(len(ordinary)))]
        decay = rng.uniform(0.4, 1.1)
        for i in ordinary:
            probs[i] = math.exp(-decay * abs(i - mode)) * rng.gamma(3.0, 1.0)
        probs *= (1.0 - total) / probs.sum()
    for i, mass in masses.items():
        probs[i] = mass
    probs[[i for i in range(n) if usable[i]]] += 0.004
    probs /= probs.sum()
    return [_r(p) for p in probs]


def build_tag_model(
    concept: Concept, indicating: dict[str, float], rng: np.random.Generator
) -> TagModel | None:
    """Return the value model of a leaf tag, or ``None`` when it carries no values.

    Args:
        concept: A Tag concept.
        indicating: Strongest weight with which each of its bins indicates some cause.
        rng: The world's random generator.
    """
    if concept.value_type not in ("numeric", "categorical", "boolean") or not concept.bins:
        return None
    bins = tuple(b.id for b in concept.bins)
    weights = [indicating.get(b, 0.0) for b in bins]
    l1 = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 0.7)) if rng.random() < 0.5 else 0.0
    l2 = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 0.6)) if rng.random() < 0.3 else 0.0
    column = concept.id.split(".", 1)[-1].upper()
    if concept.value_type == "numeric":
        lows, highs, tails, scales = zip(*_numeric_bounds(concept), strict=True)
        return TagModel(
            id=concept.id,
            column=column,
            value_type="numeric",
            layout="wide",
            bins=bins,
            probs=tuple(_bin_probabilities([True] * len(bins), weights, rng)),
            lows=tuple(_r(x) for x in lows),
            highs=tuple(_r(x) for x in highs),
            tails=tuple(tails),
            scales=tuple(_r(x) for x in scales),
            decimals=_decimals(concept),
            loadings=(_r(l1), _r(l2)),
            missing=_r(rng.uniform(0.005, 0.04)) if rng.random() < 0.4 else 0.0,
        )
    spellings = tuple(tuple(b.values) for b in concept.bins)
    usable = [bool(s) for s in spellings]
    if not any(usable):
        return None
    return TagModel(
        id=concept.id,
        column=column,
        value_type=concept.value_type,
        layout="wide",
        bins=bins,
        probs=tuple(_bin_probabilities(usable, weights, rng)),
        spellings=spellings,
        loadings=(_r(l1 * 0.8), _r(l2 * 0.8)),
        missing=_r(rng.uniform(0.005, 0.02)) if rng.random() < 0.2 else 0.0,
    )


def sample_bins(
    tag: TagModel, latent: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw each customer's bin index and position inside the bin (0-1) for ``tag``.

    Args:
        tag: The tag model.
        latent: ``(n, 2)`` latent factors of the customers.
        rng: The chunk's generator.
    """
    l1, l2 = tag.loadings
    resid = math.sqrt(max(0.0, 1.0 - l1 * l1 - l2 * l2))
    x = l1 * latent[:, 0] + l2 * latent[:, 1] + resid * rng.standard_normal(latent.shape[0])
    u = 1.0 / (1.0 + np.exp(-1.702 * x))
    probs = np.asarray(tag.probs, dtype=float)
    probs = probs / probs.sum()
    cum = np.cumsum(probs)
    idx = np.minimum(np.searchsorted(cum, u, side="right"), len(probs) - 1)
    idx = _skip_empty(idx, probs)
    start = np.concatenate([[0.0], cum[:-1]])[idx]
    pos = np.clip((u - start) / np.maximum(probs[idx], _EPS), 0.0, 1.0 - _EPS)
    return idx.astype(np.int16), pos


def _skip_empty(idx: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Move draws that hit a zero-probability bin (float edge cases) to the nearest usable one."""
    empty = probs[idx] <= 0
    if empty.any():
        usable = np.flatnonzero(probs > 0)
        nearest = usable[np.abs(usable[None, :] - idx[empty][:, None]).argmin(axis=1)]
        idx = idx.copy()
        idx[empty] = nearest
    return idx


def numeric_values(tag: TagModel, idx: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Return raw values for bin indices and in-bin positions, rounded yet in their bins."""
    lows = np.asarray(tag.lows)[idx]
    highs = np.asarray(tag.highs)[idx]
    tails = np.asarray(tag.tails)[idx]
    scales = np.asarray(tag.scales)[idx]
    p = np.clip(pos, _EPS, 1.0 - _EPS)
    value = np.where(
        tails == 0,
        lows + p * (highs - lows),
        np.where(tails > 0, lows - scales * np.log1p(-p), highs + scales * np.log(p)),
    )
    lower = np.where(tails < 0, -np.inf, lows)
    upper = np.where(tails > 0, np.inf, highs)
    value = np.clip(value, lower, np.nextafter(upper, -np.inf))
    scale = 10.0**tag.decimals
    rounded = np.rint(value * scale) / scale  # exactly the double of the decimal text written
    ok = (rounded >= lower) & (rounded < upper)
    if not ok.all() and tag.decimals == 0:
        floored = np.floor(value)
        rounded = np.where(ok, rounded, floored)
        ok = (rounded >= lower) & (rounded < upper)
    result: np.ndarray = np.where(ok, rounded, value)
    return result


def spell_values(tag: TagModel, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return raw categorical values: mostly a bin's first spelling, else another or odd case."""
    n = idx.shape[0]
    out = np.empty(n, dtype=object)
    r = rng.random(n)
    k = np.asarray(rng.integers(0, 1 << 30, size=n))
    for b, spellings in enumerate(tag.spellings):
        mask = idx == b
        if not mask.any() or not spellings:
            continue
        primary = spellings[0]
        out[mask] = primary
        if len(spellings) > 1:
            alt = mask & (r >= 0.85) & (r < 0.97)
            choices = np.array(spellings[1:], dtype=object)
            out[alt] = choices[k[alt] % len(choices)]
        odd = mask & (r >= 0.97)
        variants = np.array([primary.upper(), primary.lower(), f" {primary} "], dtype=object)
        out[odd] = variants[k[odd] % 3]
    return out
