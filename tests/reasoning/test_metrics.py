"""Q1 metrics against hand-computed values (and scikit-learn where it is installed)."""

from __future__ import annotations

import math

import pytest

from needgraph.reasoning.metrics import bands, macro_f1, mae, q1_metrics, roc_auc


def test_mae_by_hand():
    assert mae([1, 3, 5], [2, 3, 3]) == pytest.approx((1 + 0 + 2) / 3)


def test_auc_by_hand_with_ties():
    # positives score 0.9 and 0.4, negatives 0.4 and 0.1: pairs (0.9>0.4), (0.9>0.1),
    # (0.4=0.4 -> 1/2), (0.4>0.1) -> 3.5 / 4
    assert roc_auc([1, 1, 0, 0], [0.9, 0.4, 0.4, 0.1]) == pytest.approx(0.875)
    assert roc_auc([1, 0], [0.0, 1.0]) == 0.0
    assert math.isnan(roc_auc([1, 1], [0.2, 0.3]))


def test_bands_and_macro_f1_by_hand():
    assert bands([1, 2, 2.49, 2.5, 3, 3.49, 3.5, 5]).tolist() == [0, 0, 0, 1, 1, 1, 2, 2]
    # truth bands: [0, 0, 1, 2]; predicted: [0, 1, 1, 1]
    # band 0: tp 1, fp 0, fn 1 -> 2/3; band 1: tp 1, fp 2, fn 0 -> 1/2; band 2: tp 0 -> 0
    assert macro_f1([1, 2, 3, 5], [2, 3, 3, 3]) == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)


def test_q1_metrics_keys_and_dissatisfied_threshold():
    out = q1_metrics([1, 2, 3, 4], [1, 2, 3, 4], [0.9, 0.8, 0.1, 0.0])
    assert out == {"mae": 0.0, "auc": 1.0, "macro_f1": 1.0}


def test_agrees_with_sklearn():
    sk = pytest.importorskip("sklearn.metrics")
    import numpy as np

    rng = np.random.default_rng(0)
    y = rng.integers(1, 6, 500).astype(float)
    s = np.clip(y + rng.normal(0, 1.2, 500), 1, 5).round(1)
    p = rng.random(500)
    assert roc_auc(y <= 2, p) == pytest.approx(sk.roc_auc_score(y <= 2, p))
    assert macro_f1(y, s) == pytest.approx(
        sk.f1_score(bands(y), bands(s), average="macro")
    )
    assert mae(y, s) == pytest.approx(sk.mean_absolute_error(y, s))
