"""Q1 metrics (numpy only): MAE, ROC-AUC for "dissatisfied" (score <= 2), macro-F1 over bands.

Bands: 1-2 (dissatisfied), 3 (neutral), 4-5 (satisfied); a predicted score is banded at 2.5 and
3.5. Macro-F1 averages over the bands present in the truth or the predictions (as scikit-learn
does); AUC treats ties by average ranks (Mann-Whitney U).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray

DISSATISFIED_MAX = 2.0
BAND_EDGES = (2.5, 3.5)


def _arr(values: ArrayLike) -> NDArray[np.float64]:
    import numpy as np

    return np.asarray(values, dtype=np.float64).ravel()


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error."""
    import numpy as np

    t, p = _arr(y_true), _arr(y_pred)
    return float(np.mean(np.abs(t - p)))


def roc_auc(positive: ArrayLike, score: ArrayLike) -> float:
    """Area under the ROC curve of ``score`` for the boolean ``positive``; NaN if one class only."""
    import numpy as np

    pos = _arr(positive) > 0.5
    s = _arr(score)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(s.size)
    sorted_s = s[order]
    # average ranks over ties
    boundaries = np.flatnonzero(np.diff(sorted_s)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [s.size]])
    avg = (starts + ends + 1) / 2.0  # 1-based average rank of each tie group
    ranks[order] = np.repeat(avg, ends - starts)
    u = ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def bands(scores: ArrayLike) -> NDArray[np.int64]:
    """Band index per score: 0 for 1-2, 1 for 3, 2 for 4-5 (edges 2.5 and 3.5)."""
    import numpy as np

    return np.digitize(_arr(scores), BAND_EDGES).astype(np.int64)


def macro_f1(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Macro-F1 over the bands of true and predicted scores."""
    import numpy as np

    t, p = bands(y_true), bands(y_pred)
    f1s = []
    for c in np.union1d(t, p):
        tp = float(np.sum((t == c) & (p == c)))
        fp = float(np.sum((t != c) & (p == c)))
        fn = float(np.sum((t == c) & (p != c)))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s)) if f1s else float("nan")


def q1_metrics(
    y_true: ArrayLike, score: ArrayLike, p_dissatisfied: ArrayLike
) -> dict[str, float]:
    """The three Q1 metrics.

    Args:
        y_true: True 1-5 scores, ``[n]``.
        score: Predicted scores, ``[n]`` (MAE and macro-F1).
        p_dissatisfied: Predicted P(score <= 2), ``[n]`` (AUC).

    Returns:
        ``{"mae", "auc", "macro_f1"}``.
    """
    t = _arr(y_true)
    return {
        "mae": mae(t, score),
        "auc": roc_auc(t <= DISSATISFIED_MAX, p_dissatisfied),
        "macro_f1": macro_f1(t, score),
    }

