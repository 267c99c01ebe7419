"""The Q1 protocol: satisfaction prediction, GNN against LightGBM on the same split.

* Every customer labelled for the domain: 5-fold cross-validation,
  ``KFold(5, shuffle=True, random_state=0)`` over the labelled customers (ordered by key); the
  metrics are computed on the pooled out-of-fold predictions. Test-fold customers stay in the
  graph with their features and edges (their labels are masked), as ingested customers would.
* Otherwise: train on all labelled customers, score the unlabelled ones; metrics are computed
  when ``truth`` (customer key -> score) is given for some of them.

``run_q1(...).metrics`` is ``{"gnn": {"mae", "auc", "macro_f1"}, "lightgbm": {...}}``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from needgraph.graph.base import GraphStore
from needgraph.reasoning.features import FeatureSchema

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from needgraph.reasoning.baseline import BaselineConfig
    from needgraph.reasoning.model import ModelConfig
    from needgraph.reasoning.train import TrainConfig


@dataclass
class Q1Result:
    """Outcome of :func:`run_q1`.

    Attributes:
        mode: ``"cv"`` (cross-validation) or ``"holdout"`` (train on labelled, score unlabelled).
        domain: The evaluated domain.
        metrics: ``{"gnn": {...}, "lightgbm": {...}}`` (empty inner dicts when nothing to score).
        customer_keys: Keys of the scored customers.
        predictions: Per model ``{"score": [...], "p_dissatisfied": [...]}``, aligned with
            ``customer_keys``.
        seconds: Wall time per model.
        fold_metrics: Per model, the metrics of each fold (``cv`` only).
    """

    mode: Literal["cv", "holdout"]
    domain: str
    metrics: dict[str, dict[str, float]]
    customer_keys: list[str]
    predictions: dict[str, dict[str, list[float]]]
    seconds: dict[str, float]
    fold_metrics: dict[str, list[dict[str, float]]] = field(default_factory=dict)


def run_q1(
    source: GraphStore | HeteroData,
    *,
    schema: FeatureSchema | None = None,
    domain: str | None = None,
    truth: Mapping[str, float] | None = None,
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    baseline_config: BaselineConfig | None = None,
    folds: int = 5,
    seed: int = 0,
    include_text: bool = True,
    baseline: bool = True,
) -> Q1Result:
    """Run Q1 on a store (exported here) or on an exported graph.

    Args:
        source: A graph store, or ``HeteroData`` from :func:`export_graph` (then give ``schema``).
        schema: Feature schema of ``source`` when it is ``HeteroData``.
        domain: Domain to evaluate; default: the only labelled domain, else ``domain.overall``.
        truth: Hold-out scores by customer key, used in ``holdout`` mode.
        model_config: GNN architecture (default :class:`ModelConfig`: 2-layer GraphSAGE).
        train_config: GNN training (default :class:`TrainConfig`: 5 bagged members).
        baseline_config: LightGBM settings.
        folds: Cross-validation folds.
        seed: ``KFold`` random state.
        include_text: Export utterances (setting B) or not (setting A).
        baseline: Also run LightGBM.

    Returns:
        The :class:`Q1Result`.
    """
    import numpy as np
    import torch

    from needgraph.reasoning.export import ExportOptions, export_graph

    if isinstance(source, GraphStore):
        data, schema = export_graph(source, options=ExportOptions(include_text=include_text))
    elif schema is None:
        raise ValueError("give the FeatureSchema together with a HeteroData source")
    else:
        data = source
    col = _domain_column(schema, domain)
    labelled = data["customer"].y_mask[:, col].numpy()
    n = labelled.size
    keys: list[str] = list(data["customer"].node_key)
    y = data["customer"].y[:, col].numpy().astype(np.float64)
    if labelled.all():
        from sklearn.model_selection import KFold

        splits = [
            (torch.from_numpy(tr), torch.from_numpy(te))
            for tr, te in KFold(folds, shuffle=True, random_state=seed).split(np.arange(n))
        ]
        scored, mode = np.arange(n), "cv"
        truth_arr = y
    else:
        unl = np.flatnonzero(~labelled)
        splits = [(torch.arange(n), torch.from_numpy(unl))]
        scored, mode = unl, "holdout"
        truth_arr = np.array([(truth or {}).get(keys[i], np.nan) for i in unl], dtype=np.float64)
    position = {int(c): i for i, c in enumerate(scored)}
    models = ["gnn", "lightgbm"] if baseline else ["gnn"]
    preds = {m: {"score": np.full(scored.size, np.nan), "p": np.full(scored.size, np.nan)}
             for m in models}
    seconds = dict.fromkeys(models, 0.0)
    fold_metrics: dict[str, list[dict[str, float]]] = {m: [] for m in models}
    for tr, te in splits:
        rows = np.array([position[int(c)] for c in te.tolist()], dtype=np.int64)
        for m in models:
            start = time.perf_counter()
            s, p = _fit_predict(m, data, schema, tr, te, col, model_config, train_config,
                                baseline_config)
            seconds[m] += time.perf_counter() - start
            preds[m]["score"][rows], preds[m]["p"][rows] = s, p
            if mode == "cv":
                fold_metrics[m].append(_metrics(y[te.numpy()], s, p))
    has_truth = ~np.isnan(truth_arr)
    metrics = {
        m: _metrics(truth_arr[has_truth], preds[m]["score"][has_truth], preds[m]["p"][has_truth])
        if has_truth.any() else {}
        for m in models
    }
    return Q1Result(
        mode=mode,  # type: ignore[arg-type]
        domain=schema.domains[col],
        metrics=metrics,
        customer_keys=[keys[i] for i in scored],
        predictions={m: {"score": preds[m]["score"].tolist(),
                         "p_dissatisfied": preds[m]["p"].tolist()} for m in models},
        seconds=seconds,
        fold_metrics=fold_metrics if mode == "cv" else {},
    )


def _fit_predict(
    model: str,
    data: HeteroData,
    schema: FeatureSchema,
    tr: Any,
    te: Any,
    col: int,
    model_config: ModelConfig | None,
    train_config: TrainConfig | None,
    baseline_config: BaselineConfig | None,
) -> tuple[Any, Any]:
    if model == "lightgbm":
        from needgraph.reasoning.baseline import fit_predict_lightgbm

        score, p = fit_predict_lightgbm(data, schema, tr, te, baseline_config)
        return score[:, col], p[:, col]
    from needgraph.reasoning.train import TrainConfig, fit

    trained = fit(data, schema, tr, model_config, train_config or TrainConfig())
    out = trained.predict(data, te)
    return out.score[:, col].numpy(), out.p_dissatisfied[:, col].numpy()


def _metrics(y: Any, score: Any, p: Any) -> dict[str, float]:
    from needgraph.reasoning.metrics import q1_metrics

    return q1_metrics(y, score, p)


def _domain_column(schema: FeatureSchema, domain: str | None) -> int:
    if not schema.domains:
        raise ValueError("no domain has labels (RATED relationships): nothing to evaluate")
    if domain is None:
        if len(schema.domains) == 1:
            return 0
        domain = "domain.overall"
    if domain not in schema.domains:
        raise ValueError(
            f"domain {domain!r} has no labels; labelled domains: {', '.join(schema.domains)}"
        )
    return schema.domains.index(domain)
