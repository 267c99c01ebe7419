"""Numeric encodings of customer features (numpy only): statistics, z-scores, piecewise-linear.

Piecewise-linear encoding (Gorishniy et al., 2022, "On Embeddings for Numerical Features in Tabular
Deep Learning") lets a small network fit thresholds the way trees do: a value becomes one entry per
quantile segment, 0 below the segment, 1 above it and linear inside.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from needgraph.reasoning.features import FeatureSchema, NumericTag

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


def numeric_stats(tag: str, values: NDArray[np.float64], segments: int) -> NumericTag:
    """Mean, standard deviation and quantile knots of one tag's observed values.

    Args:
        tag: Tag id.
        values: Observed (non-missing) values, shape ``[n]``.
        segments: Number of quantile segments for the piecewise-linear encoding (0 = none).

    Returns:
        The tag's :class:`NumericTag`; knots are de-duplicated, so heavily tied tags get fewer.
    """
    import numpy as np

    if values.size == 0:
        return NumericTag(tag, 0.0, 1.0, ())
    mean = float(values.mean())
    std = float(values.std())
    if not np.isfinite(std) or std < 1e-12:
        std = 1.0
    knots: tuple[float, ...] = ()
    if segments > 0:
        qs = np.quantile(values, np.linspace(0.0, 1.0, segments + 1))
        unique = np.unique(np.round(qs, 12))
        knots = tuple(float(k) for k in unique) if unique.size >= 2 else ()
    return NumericTag(tag, mean, std, knots)


def customer_matrix(
    schema: FeatureSchema, values: NDArray[np.float64], degrees: NDArray[np.float64]
) -> NDArray[np.float32]:
    """Customer input features in the order of :meth:`FeatureSchema.customer_feature_names`.

    Args:
        schema: The feature schema.
        values: Raw numeric tag values, shape ``[n_customers, len(schema.numeric)]``, NaN = missing.
        degrees: Customer degrees per ``schema.degree_relations``, shape
            ``[n_customers, len(schema.degree_relations)]``.

    Returns:
        Features, shape ``[n_customers, len(schema.customer_feature_names())]``, float32.
    """
    import numpy as np

    n = values.shape[0]
    blocks: list[NDArray[np.float64]] = []
    for col, tag in enumerate(schema.numeric):
        v = values[:, col]
        missing = np.isnan(v)
        z = np.where(missing, 0.0, (np.nan_to_num(v) - tag.mean) / tag.std)
        blocks.append(np.clip(z, -10.0, 10.0)[:, None])
        blocks.append(missing.astype(np.float64)[:, None])
        k = np.asarray(tag.knots, dtype=np.float64)
        if k.size >= 2:
            width = np.maximum(np.diff(k), 1e-12)
            seg = (np.nan_to_num(v)[:, None] - k[None, :-1]) / width[None, :]
            seg = np.clip(seg, 0.0, 1.0)
            seg[missing] = 0.0
            blocks.append(seg)
    blocks.append(np.log1p(degrees.reshape(n, len(schema.degree_relations))))
    out = np.concatenate(blocks, axis=1) if blocks else np.zeros((n, 0))
    expected = len(schema.customer_feature_names())
    if out.shape[1] != expected:  # pragma: no cover - guards the schema contract
        raise AssertionError(f"customer features: built {out.shape[1]}, schema says {expected}")
    return out.astype(np.float32)
