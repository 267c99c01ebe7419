"""The live refresh's one-row feature encoder equals the export's encoder, bit for bit."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")

from needgraph.reasoning.artifacts import load_model  # noqa: E402
from needgraph.reasoning.encode import customer_matrix  # noqa: E402
from needgraph.reasoning.live_star import customer_row  # noqa: E402
from tests.reasoning.test_live import Trained, trained  # noqa: E402

__all__ = ["trained"]  # the module fixture, shared with test_live


def test_one_row_encoder_equals_the_exports_encoder(trained: Trained) -> None:
    schema = load_model(Path(trained[1])).schema
    assert schema.numeric and any(len(t.knots) >= 2 for t in schema.numeric)
    rng = np.random.default_rng(0)
    width = len(schema.numeric)
    for i in range(300):
        # around each tag's knots and mean, far outside them, exactly on knots, and missing
        values = np.array([[rng.normal(t.mean, 3 * t.std) if i % 3 else
                            (t.knots[int(rng.integers(len(t.knots)))] if t.knots else t.mean)
                            for t in schema.numeric]])
        values[0, rng.random(width) < 0.3] = np.nan
        if i % 50 == 0:
            values[0, :] = np.nan if i % 100 == 0 else 1e12
        degrees = rng.integers(0, 200, size=(1, len(schema.degree_relations))).astype(float)
        expected = torch.from_numpy(customer_matrix(schema, values, degrees))[0]
        got = customer_row(schema, values, degrees)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert torch.equal(got, expected), i
