"""Training and prediction: early stopping on an inner validation split, bagging, mini-batches.

:func:`fit` trains ``bags`` members. With ``bags >= 2`` the labelled training customers are cut
into ``bags`` folds and member ``b`` is validated (early stopping) on fold ``b`` and trained on the
rest, so every labelled customer trains most members and the average is a cross-validation bag;
with ``bags == 1`` a random ``val_fraction`` is held out. Only labelled (customer, domain) pairs of
the training customers enter the loss; every other customer - unlabelled, or in a test fold - is
still in the graph (its features and edges carry messages) but never in the loss.

Graphs with at most ``full_batch_max_customers`` customers train full-batch (one step per epoch,
fastest for thousands of customers); larger ones train on subgraphs from
:class:`~needgraph.reasoning.sampler.NeighborSampler`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from needgraph.reasoning.features import FeatureSchema
from needgraph.reasoning.heads import (
    HeadOutput,
    class_probs,
    decode,
    head_loss,
    label_features,
    p_dissatisfied,
    split_head,
)
from needgraph.reasoning.model import GraphInputs, ModelConfig, SatisfactionGNN

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from needgraph.reasoning.artifacts import ModelInfo

#: Called after each ensemble member: ``(member index, members in all, best epoch)``.
MemberCallback = Callable[[int, int, int], None]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation hyper-parameters.

    Args:
        lr: AdamW learning rate.
        weight_decay: AdamW weight decay.
        max_epochs: Upper bound on epochs (full passes over the training customers).
        patience: Epochs without validation improvement before stopping.
        bags: Members of the ensemble (>= 2: inner cross-validation bagging).
        val_fraction: Held-out share for early stopping when ``bags == 1``.
        loss_weights: Weights of the ordinal, regression and dissatisfied losses.
        reg_weight: Weight of the regression head in the decoded score (0 = ordinal only).
        seed: Seed of splits, initialisation, dropout and sampling.
        full_batch_max_customers: Largest graph trained full-batch.
        batch_size: Seed customers per mini-batch.
        fanout: Sampled neighbours per relation and hop in mini-batch mode.
        threads: ``torch.set_num_threads`` value (``None`` leaves it).
        compact: In mini-batch mode, shrink the graph in place before training
            (:func:`~needgraph.reasoning.sampler.compact_graph`: edges sorted by destination,
            ``int32`` indices, ``float16`` features; ~2.3x less memory at 1M customers).
    """

    lr: float = 3e-3
    weight_decay: float = 1e-4
    max_epochs: int = 300
    patience: int = 30
    bags: int = 5
    val_fraction: float = 0.15
    loss_weights: tuple[float, float, float] = (1.0, 0.5, 0.5)
    reg_weight: float = 0.0
    seed: int = 0
    full_batch_max_customers: int = 200_000
    batch_size: int = 1024
    fanout: tuple[int, ...] = (64, 16)
    threads: int | None = None
    compact: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary (for logs and artifacts)."""
        return asdict(self)


@dataclass
class Predictions:
    """Per customer and labelled domain.

    Attributes:
        score: Decoded 1-5 score, ``[n, d]``.
        p_dissatisfied: P(score <= 2), ``[n, d]``.
        probs: Class probabilities of scores 1..5, ``[n, d, 5]``.
    """

    score: Tensor
    p_dissatisfied: Tensor
    probs: Tensor


@dataclass
class SatisfactionModel:
    """A trained ensemble with the feature schema it needs.

    Attributes:
        schema: Feature schema of the training graph.
        model_config: Architecture.
        train_config: Optimisation settings.
        members: Trained networks.
        epochs: Best epoch of each member.
        label_index: Labelled training customers (inputs of the label trick), ``[m]``.
        metrics: Per domain ``{"mae", "auc", "macro_f1", "n"}`` of the members' inner
            validation predictions (out-of-fold when ``bags >= 2``).
        info: Provenance, set by :mod:`needgraph.reasoning.artifacts` on save and load.
    """

    schema: FeatureSchema
    model_config: ModelConfig
    train_config: TrainConfig
    members: list[SatisfactionGNN] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)
    label_index: Tensor | None = None
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    info: ModelInfo | None = None

    def predict(self, data: HeteroData, index: Tensor | None = None) -> Predictions:
        """Predict every customer of ``data`` (or those in ``index``, ``[m]``).

        With the label trick, the labels of the training customers (``label_index``) are shown
        as inputs, never those of other customers.
        """
        from needgraph.errors import ModelMismatchError
        from needgraph.reasoning.sampler import NeighborSampler

        exported = getattr(data, "schema_fingerprint", None)
        if exported is not None and exported != self.schema.fingerprint():
            raise ModelMismatchError(
                f"the graph was exported with feature schema {exported}, the model needs "
                f"feature schema {self.schema.fingerprint()}",
                hint="Export with export_graph(store, schema=model.schema), or retrain with "
                "`needgraph train` on this graph.",
            )
        probs: list[Tensor] = []
        dis: list[Tensor] = []
        reg: list[Tensor] = []
        n = int(data["customer"].num_nodes)
        labels = None
        if self.model_config.label_trick and self.label_index is not None:
            y, mask = data["customer"].y, data["customer"].y_mask
            labels = label_features(y, mask, _member_mask(self.label_index, n))
        full = n <= self.train_config.full_batch_max_customers
        sampler = None if full else NeighborSampler(data, self.train_config.fanout)
        for member in self.members:
            out = _infer(member, data, index, self.train_config, sampler, labels=labels)
            probs.append(class_probs(out.cum))
            dis.append(out.dis)
            reg.append(out.reg)
        p = torch.stack(probs).mean(0)
        p_dis = torch.stack([p_dissatisfied(p_i, d_i) for p_i, d_i in zip(probs, dis, strict=True)])
        score = decode(p, torch.stack(reg).mean(0), self.train_config.reg_weight)
        return Predictions(score=score, p_dissatisfied=p_dis.mean(0), probs=p)


def fit(
    data: HeteroData,
    schema: FeatureSchema,
    train_index: Tensor,
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    on_member: MemberCallback | None = None,
) -> SatisfactionModel:
    """Train an ensemble on the labelled pairs of the customers in ``train_index``.

    Args:
        data: Graph from :func:`~needgraph.reasoning.export.export_graph`.
        schema: Its feature schema.
        train_index: Customer indices whose labels may be used, ``[m]`` (unlabelled ones are
            ignored by the loss).
        model_config: Architecture.
        train_config: Optimisation settings.
        on_member: Progress callback after each member.

    Returns:
        The trained :class:`SatisfactionModel`, with inner validation ``metrics``.

    Note:
        In mini-batch mode (more than ``full_batch_max_customers`` customers) with
        ``train_config.compact``, ``data`` is compacted in place first (same graph, edges
        reordered, narrower dtypes; see :func:`~needgraph.reasoning.sampler.compact_graph`).
    """
    mcfg, tcfg = model_config or ModelConfig(), train_config or TrainConfig()
    if not schema.domains:
        raise ValueError("the graph has no RATED labels: nothing to train on")
    if tcfg.threads:
        torch.set_num_threads(tcfg.threads)
    if tcfg.compact and int(data["customer"].num_nodes) > tcfg.full_batch_max_customers:
        from needgraph.reasoning.sampler import compact_graph

        compact_graph(data)
    mask = data["customer"].y_mask
    labelled = train_index[mask[train_index].any(dim=1)]
    if labelled.numel() < 2:
        raise ValueError(f"need at least 2 labelled training customers, got {labelled.numel()}")
    gen = torch.Generator().manual_seed(tcfg.seed)
    perm = labelled[torch.randperm(labelled.numel(), generator=gen)]
    result = SatisfactionModel(schema, mcfg, tcfg, label_index=labelled)
    in_dims = {t: int(data[t].x.shape[1]) for t in schema.node_types if "x" in data[t]}
    oof: list[tuple[Tensor, HeadOutput]] = []
    for b in range(tcfg.bags):
        if tcfg.bags >= 2:
            folds = torch.arange(perm.numel()) % tcfg.bags
            val, tr = perm[folds == b], perm[folds != b]
        else:
            n_val = max(1, round(tcfg.val_fraction * perm.numel()))
            val, tr = perm[:n_val], perm[n_val:]
        torch.manual_seed(tcfg.seed * 1000 + b)
        member = SatisfactionGNN(schema, in_dims, mcfg)
        best_epoch = _train_member(member, data, tr, val, tcfg, seed=tcfg.seed * 1000 + b)
        result.members.append(member)
        result.epochs.append(best_epoch)
        oof.append((val, _validation_output(member, data, tr, val, tcfg)))
        if on_member is not None:
            on_member(b, tcfg.bags, best_epoch)
    result.metrics = _validation_metrics(data, schema, oof, tcfg)
    return result


def _validation_output(
    member: SatisfactionGNN, data: HeteroData, tr: Tensor, val: Tensor, cfg: TrainConfig
) -> HeadOutput:
    """The member's head outputs on its validation customers (labels of ``tr`` shown)."""
    labels = None
    if member.config.label_trick:
        y, mask = data["customer"].y, data["customer"].y_mask
        labels = label_features(y, mask, _member_mask(tr, int(data["customer"].num_nodes)))
    return _infer(member, data, val, cfg, labels=labels)


def _validation_metrics(
    data: HeteroData,
    schema: FeatureSchema,
    oof: list[tuple[Tensor, HeadOutput]],
    cfg: TrainConfig,
) -> dict[str, dict[str, float]]:
    """Q1 metrics per domain over the pooled validation predictions of all members."""
    from needgraph.reasoning.metrics import q1_metrics

    idx = torch.cat([v for v, _ in oof])
    probs = torch.cat([class_probs(o.cum) for _, o in oof])
    reg = torch.cat([o.reg for _, o in oof])
    dis = torch.cat([o.dis for _, o in oof])
    score = decode(probs, reg, cfg.reg_weight)
    p_dis = p_dissatisfied(probs, dis)
    y, mask = data["customer"].y[idx], data["customer"].y_mask[idx]
    out: dict[str, dict[str, float]] = {}
    for j, domain in enumerate(schema.domains):
        m = mask[:, j]
        if not bool(m.any()):
            continue
        found = q1_metrics(y[m, j].numpy(), score[m, j].numpy(), p_dis[m, j].numpy())
        kept = {k: v for k, v in found.items() if v == v}  # NaN: e.g. AUC with one class only
        out[domain] = {**kept, "n": float(int(m.sum()))}
    return out


def _train_member(
    model: SatisfactionGNN, data: HeteroData, tr: Tensor, val: Tensor, cfg: TrainConfig, seed: int
) -> int:
    from needgraph.reasoning.sampler import NeighborSampler

    y, mask = data["customer"].y, data["customer"].y_mask
    n = int(data["customer"].num_nodes)
    trick = model.config.label_trick
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    full = n <= cfg.full_batch_max_customers
    sampler = None if full else NeighborSampler(data, cfg.fanout)
    inputs = model.prepare(data) if full else None
    val_labels = label_features(y, mask, _member_mask(tr, n)) if trick else None
    gen = torch.Generator().manual_seed(seed)
    best_loss, best_state, best_epoch, bad = float("inf"), copy.deepcopy(model.state_dict()), 0, 0
    for epoch in range(cfg.max_epochs):
        model.train()
        target, labels = tr, None
        if trick:  # show a random half of the training labels, learn on the other half
            order = tr[torch.randperm(tr.numel(), generator=gen)]
            shown, target = order[: order.numel() // 2], order[order.numel() // 2 :]
            labels = label_features(y, mask, _member_mask(shown, n))
        if inputs is not None:
            inputs.labels = labels
            opt.zero_grad()
            out = split_head(model(inputs)[target], model.n_domains)
            _backward(head_loss(out, y[target], mask[target], cfg.loss_weights))
            opt.step()
        elif sampler is not None:
            order = target[torch.randperm(target.numel(), generator=gen)]
            for batch in torch.split(order, cfg.batch_size):
                sub = sampler.sample(batch, gen)
                opt.zero_grad()
                raw = model(_sub_inputs(model, sub, labels))[: batch.numel()]
                out = split_head(raw, model.n_domains)
                _backward(head_loss(out, y[batch], mask[batch], cfg.loss_weights))
                opt.step()
        val_out = _infer(model, data, val, cfg, sampler, gen, inputs, val_labels)
        val_loss = float(head_loss(val_out, y[val], mask[val], cfg.loss_weights))
        if val_loss < best_loss - 1e-5:
            best_loss, best_epoch, bad = val_loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad += 1
            if bad > cfg.patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    return best_epoch


def _member_mask(index: Tensor, n: int) -> Tensor:
    out = torch.zeros(n, dtype=torch.bool)
    out[index] = True
    return out


def _sub_inputs(model: SatisfactionGNN, sub: HeteroData, labels: Tensor | None) -> GraphInputs:
    inputs = model.prepare(sub)
    if labels is not None:
        inputs.labels = labels[sub["customer"].n_id]
    return inputs


def _backward(loss: Tensor) -> None:
    loss.backward()  # type: ignore[no-untyped-call]


@torch.no_grad()
def _infer(
    model: SatisfactionGNN,
    data: HeteroData,
    index: Tensor | None,
    cfg: TrainConfig,
    sampler: Any = None,
    gen: torch.Generator | None = None,
    inputs: GraphInputs | None = None,
    labels: Tensor | None = None,
) -> HeadOutput:
    """Head outputs for ``index`` (all customers when ``None``), full-batch or by sampling."""
    from needgraph.reasoning.sampler import NeighborSampler

    model.eval()
    n = int(data["customer"].num_nodes)
    idx = torch.arange(n) if index is None else index
    if n <= cfg.full_batch_max_customers:
        inputs = inputs if inputs is not None else model.prepare(data)
        inputs.labels = labels
        return split_head(model(inputs)[idx], model.n_domains)
    sampler = sampler or NeighborSampler(data, cfg.fanout)
    gen = gen or torch.Generator().manual_seed(cfg.seed)
    raws = [
        model(_sub_inputs(model, sampler.sample(batch, gen), labels))[: batch.numel()]
        for batch in torch.split(idx, cfg.batch_size)
    ]
    return split_head(torch.cat(raws), model.n_domains)
