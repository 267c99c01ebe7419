"""LightGBM baseline on the same inputs as the GNN (the Q1 reference recipe).

Inputs per customer, read from the exported ``HeteroData`` (so both models see the same data):
one-hot tag bins (``has_tag``), raw numeric tag values (monotone in the exported z-scores; NaN
when missing), one-hot received strategies, customer degrees and, when the graph has text,
TF-IDF of the customer's utterances (fitted on the training customers only). Per labelled domain a
``LGBMRegressor`` gives the score (MAE, macro-F1) and a ``LGBMClassifier`` P(score <= 2) (AUC),
400 trees, learning rate 0.03, other parameters at LightGBM's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from needgraph.reasoning.features import FeatureSchema

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from torch import Tensor
    from torch_geometric.data import HeteroData


@dataclass(frozen=True)
class BaselineConfig:
    """LightGBM settings (defaults: the Q1 reference).

    Args:
        n_estimators: Trees.
        learning_rate: Shrinkage.
        seed: ``random_state``.
        text: Use TF-IDF of utterance texts when the graph has them.
        threads: LightGBM ``n_jobs``.
    """

    n_estimators: int = 400
    learning_rate: float = 0.03
    seed: int = 0
    text: bool = True
    threads: int = 2


def tabular_features(data: HeteroData, schema: FeatureSchema) -> tuple[Any, list[str]]:
    """Sparse one-hot + numeric customer matrix ``[n_customers, f]`` (CSR) and column names."""
    import numpy as np

    sp = _scipy_sparse()
    n = int(data["customer"].num_nodes)
    names = schema.customer_feature_names()
    x = data["customer"].x.numpy().astype(np.float64)
    keep = [i for i, name in enumerate(names) if name.endswith(":z") or name.startswith("deg:")]
    dense = x[:, keep].copy()
    for j, i in enumerate(keep):
        if names[i].endswith(":z"):
            missing = x[:, names.index(names[i][:-2] + ":missing")] > 0.5
            dense[missing, j] = np.nan
    blocks = [sp.csr_matrix(dense)]
    cols = [names[i] for i in keep]
    for rel, other in (("has_tag", "tag_bin"), ("received", "strategy")):
        et = ("customer", rel, other)
        if et not in data.edge_types:
            continue
        ei = data[et].edge_index.numpy()
        width = int(data[other].num_nodes)
        onehot = sp.csr_matrix(
            (np.ones(ei.shape[1]), (ei[0], ei[1])), shape=(n, width), dtype=np.float64
        )
        onehot.data[:] = 1.0
        blocks.append(onehot)
        cols += [f"{rel}:{k}" for k in data[other].node_key]
    return sp.hstack(blocks).tocsr(), cols


def _scipy_sparse() -> Any:
    """``scipy.sparse`` (untyped; imported lazily)."""
    import importlib

    return importlib.import_module("scipy.sparse")


def customer_texts(data: HeteroData) -> list[str]:
    """All utterance texts of each customer, joined by newlines (empty when none)."""
    n = int(data["customer"].num_nodes)
    texts: list[list[str]] = [[] for _ in range(n)]
    et = ("customer", "said", "utterance")
    if et in data.edge_types:
        utt = data["utterance"].text
        for c, u in data[et].edge_index.t().tolist():
            texts[c].append(utt[u])
    return ["\n".join(t) for t in texts]


def fit_predict_lightgbm(
    data: HeteroData,
    schema: FeatureSchema,
    train_index: Tensor,
    predict_index: Tensor,
    config: BaselineConfig | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Train on the labelled training customers, predict ``predict_index``.

    Args:
        data: Exported graph.
        schema: Its feature schema.
        train_index: Customer indices whose labels may be used, ``[m]``.
        predict_index: Customers to score, ``[k]``.
        config: LightGBM settings.

    Returns:
        ``(score, p_dissatisfied)``, each ``[k, n_domains]`` (NaN for a domain with no training
        label).
    """
    import lightgbm as lgb
    import numpy as np

    sp = _scipy_sparse()
    cfg = config or BaselineConfig()
    matrix, _ = tabular_features(data, schema)
    tr, te = train_index.numpy(), predict_index.numpy()
    if cfg.text and ("customer", "said", "utterance") in data.edge_types:
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = np.array(customer_texts(data), dtype=object)
        vec = TfidfVectorizer().fit(texts[tr])
        if vec.vocabulary_:
            matrix = sp.hstack([matrix, vec.transform(texts)]).tocsr()
    y = np.asarray(data["customer"].y.numpy(), dtype=np.float64)
    mask = np.asarray(data["customer"].y_mask.numpy(), dtype=bool)
    kw: dict[str, Any] = {
        "n_estimators": cfg.n_estimators,
        "learning_rate": cfg.learning_rate,
        "random_state": cfg.seed,
        "n_jobs": cfg.threads,
        "verbose": -1,
    }
    score = np.full((te.size, y.shape[1]), np.nan)
    p_dis = np.full((te.size, y.shape[1]), np.nan)
    for j in range(y.shape[1]):
        rows = tr[mask[tr, j]]
        if rows.size == 0:
            continue
        reg = lgb.LGBMRegressor(**kw).fit(matrix[rows], y[rows, j])
        score[:, j] = np.clip(reg.predict(matrix[te]), 1.0, 5.0)
        target = (y[rows, j] <= 2).astype(int)
        if target.min() == target.max():
            p_dis[:, j] = float(target[0])
            continue
        clf = lgb.LGBMClassifier(**kw).fit(matrix[rows], target)
        p_dis[:, j] = np.asarray(clf.predict_proba(matrix[te]))[:, 1]
    return score, p_dis
