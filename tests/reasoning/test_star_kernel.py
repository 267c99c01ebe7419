"""The closed-form star pass gives what the modules give, and steps aside where it cannot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from needgraph.reasoning.explain import context, explain  # noqa: E402
from needgraph.reasoning.export import export_graph  # noqa: E402
from needgraph.reasoning.model import ModelConfig  # noqa: E402
from needgraph.reasoning.star import StarScorer  # noqa: E402
from needgraph.reasoning.star_kernel import (  # noqa: E402
    SageStarKernel,
    StarKernelUnsupportedError,
)
from needgraph.reasoning.train import TrainConfig, fit  # noqa: E402
from tests.reasoning.conftest import build_store  # noqa: E402

DOMAIN = "domain.overall"


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    store = build_store(Path(tmp_path_factory.mktemp("kernel")) / "g.db", n=120, unlabelled=20)
    data, schema = export_graph(store)
    yield store, data, schema
    store.close()


def _fit(data: Any, schema: Any, config: ModelConfig, bags: int = 1) -> Any:
    torch.manual_seed(0)
    return fit(data, schema, torch.arange(data["customer"].num_nodes), config,
               TrainConfig(lr=0.02, max_epochs=8, patience=8, threads=1, bags=bags))


def _variants(scorer: StarScorer, c: int, seed: int) -> tuple[Any, dict[Any, Any]]:
    """Customer ``c``'s features with random columns changed, and random soft edge weights."""
    g = torch.Generator().manual_seed(seed)
    v = 6
    x = scorer.x[c].unsqueeze(0).repeat(v, 1).clone()
    cols = torch.randint(0, x.shape[1], (5,), generator=g)
    x[1:, cols] = torch.rand(v - 1, 5, generator=g)
    masks = {et: torch.rand(v, int(scorer.edges_of(c, et)[0].numel()), generator=g)
             for et in scorer.in_types}
    for m in masks.values():
        m[0] = 1.0  # the first variant is the customer as the graph holds it
    return x, masks


@pytest.mark.parametrize(
    "config",
    [
        ModelConfig(hidden=16, layers=2, dropout=0.1),
        ModelConfig(hidden=16, layers=3, dropout=0.1, customer_aggr="mean", norm=True),
        ModelConfig(hidden=16, layers=2, dropout=0.1, label_trick=True),
    ],
    ids=["sum", "mean+norm+3layers", "label-trick"],
)
def test_kernel_outputs_equal_the_modules(graph: Any, config: ModelConfig) -> None:
    _store, data, schema = graph
    model = _fit(data, schema, config, bags=2)
    scorer = StarScorer(model, data)
    assert all(k is not None for k in scorer.kernels())  # every member runs in closed form
    for c in range(0, int(data["customer"].num_nodes), 9):
        x, masks = _variants(scorer, c, seed=c)
        scorer.use_kernels = True
        fast = scorer.head_outputs(c, x, masks)
        scorer.use_kernels = False
        slow = scorer.head_outputs(c, x, masks)
        for a, b in zip(fast, slow, strict=True):
            for name in ("cum", "reg", "dis"):
                torch.testing.assert_close(getattr(a, name), getattr(b, name),
                                           rtol=1e-5, atol=1e-5)
    scorer.use_kernels = True
    pred = model.predict(data).p_dissatisfied
    for c in (0, 5, 50):  # and the full star still reproduces the model's own prediction
        p, _ = scorer.score(c, [[]])
        assert float(p[0, 0]) == pytest.approx(float(pred[c, 0]), abs=1e-4)


def test_explanations_are_the_same_either_way(graph: Any) -> None:
    store, data, schema = graph
    model = _fit(data, schema, ModelConfig(hidden=16, layers=2, dropout=0.1))
    ctx = context(store, model, data)
    for customer in list(data["customer"].node_key)[:40:4]:
        ctx.scorer.use_kernels = True
        fast = explain(store, model, data, customer, DOMAIN)
        ctx.scorer.use_kernels = False
        slow = explain(store, model, data, customer, DOMAIN)
        assert [p.cause for p in fast.paths] == [p.cause for p in slow.paths]
        assert fast.p_dissatisfied == pytest.approx(slow.p_dissatisfied, abs=1e-5)
        assert fast.attribution.keys() == slow.attribution.keys()
        for key, value in fast.attribution.items():
            assert value == pytest.approx(slow.attribution[key], abs=1e-4)
    ctx.scorer.use_kernels = True


def test_other_architectures_keep_the_module_path(graph: Any) -> None:
    _store, data, schema = graph
    model = _fit(data, schema, ModelConfig(arch="rgcn", hidden=16, bases=2, dropout=0.1))
    with pytest.raises(StarKernelUnsupportedError, match="'rgcn'"):
        SageStarKernel(model.members[0], [])
    scorer = StarScorer(model, data)
    assert scorer.kernels() == [None]
    pred = model.predict(data).p_dissatisfied
    p, _ = scorer.score(3, [[]])
    assert float(p[0, 0]) == pytest.approx(float(pred[3, 0]), abs=1e-4)
