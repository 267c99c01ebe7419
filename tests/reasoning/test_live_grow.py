"""Appends grow a tensor like ``torch.cat`` does, without copying it on every append."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from needgraph.reasoning.live_grow import RowBuffers  # noqa: E402


def test_appends_equal_cat_and_reuse_the_spare_rows() -> None:
    grow = RowBuffers(spare=0.5, minimum=4)
    expected = torch.arange(12, dtype=torch.float32).reshape(4, 3)
    got = expected.clone()
    for i in range(40):
        rows = torch.full((1 + i % 3, 3), float(i))
        expected = torch.cat([expected, rows])
        got = grow.append(got, rows)
        assert torch.equal(got, expected), i
    # 40 appends of 1-3 rows (~80 rows onto 4): a few geometric growths, not one per append
    assert grow.allocations <= 6


def test_views_handed_out_before_an_append_keep_their_rows() -> None:
    grow = RowBuffers(minimum=8)
    first = grow.append(torch.zeros(2, 2), torch.ones(1, 2))
    kept = first.clone()
    second = grow.append(first, torch.full((2, 2), 7.0))
    assert second.data_ptr() == first.data_ptr()  # written into the spare rows, no copy
    assert first.shape == (3, 2) and torch.equal(first, kept)
    # appending to the shorter, older view again must not overwrite the longer one's rows
    third = grow.append(first, torch.full((1, 2), 9.0))
    assert torch.equal(second[3:], torch.full((2, 2), 7.0))
    assert torch.equal(third[3:], torch.full((1, 2), 9.0))


def test_a_tensor_it_did_not_allocate_is_copied_never_written_past_its_end() -> None:
    grow = RowBuffers()
    whole = torch.arange(10, dtype=torch.float32)
    prefix = whole[:6]  # memory after its end belongs to `whole`
    grown = grow.append(prefix, torch.tensor([-1.0]))
    assert torch.equal(whole, torch.arange(10, dtype=torch.float32))
    assert grown.tolist() == [0, 1, 2, 3, 4, 5, -1]


def test_rows_of_another_shape_or_dtype_are_refused() -> None:
    grow = RowBuffers()
    with pytest.raises(ValueError, match=r"shape \(1, 3\)"):
        grow.append(torch.zeros(2, 2), torch.zeros(1, 3))
    with pytest.raises(ValueError, match=r"torch\.int64"):
        grow.append(torch.zeros(2, 2), torch.zeros(1, 2, dtype=torch.int64))
