"""The reasoning runtime: one trained model bound to a store, shared by the CLI and the API.

:class:`Reasoner` opens a versioned artifact (:mod:`needgraph.reasoning.artifacts`), checks it
against the store (ontology version), exports the store's graph with the model's feature schema
and answers ``predict`` / ``explain`` / ``recommend`` / ``drivers`` for single customers in
milliseconds: every answer reuses one cached full-graph pass (:func:`needgraph.reasoning.explain.
context`) and re-runs only the customer's star. :func:`train_from_store` is the library side of
``needgraph train``. Importing this module is cheap (torch loads when a model is opened).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from needgraph.errors import (
    CustomerNotFoundError,
    ModelMismatchError,
    NodeNotFoundError,
    UnknownDomainError,
)
from needgraph.reasoning.artifacts import ModelInfo, build_info, latest_model

if TYPE_CHECKING:
    from torch import Tensor
    from torch_geometric.data import HeteroData

    from needgraph.graph.base import GraphStore
    from needgraph.ontology.core import Ontology
    from needgraph.reasoning.drivers import Driver
    from needgraph.reasoning.explain import Context, Explanation
    from needgraph.reasoning.model import ModelConfig
    from needgraph.reasoning.recommend import Action
    from needgraph.reasoning.star import StarScorer
    from needgraph.reasoning.train import MemberCallback, SatisfactionModel, TrainConfig

__all__ = [
    "CustomerPrediction",
    "DomainPrediction",
    "Reasoner",
    "resolve_model_path",
    "train_from_store",
]


@dataclass
class DomainPrediction:
    """One customer's prediction for one domain.

    Attributes:
        domain: Domain id.
        score: Predicted 1-5 score (band-constrained median of ``probs``, as evaluated in Q1).
        p_dissatisfied: P(score <= 2).
        probs: Probabilities of the scores 1..5 (5 floats).
        label: The customer's observed score for the domain, if the store holds one.
    """

    domain: str
    score: float
    p_dissatisfied: float
    probs: list[float]
    label: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return asdict(self)


@dataclass
class CustomerPrediction:
    """Predictions of one customer, one entry per requested domain."""

    customer: str
    domains: list[DomainPrediction]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {"customer": self.customer, "domains": [d.to_dict() for d in self.domains]}


def resolve_model_path(model_path: str | Path | None = None) -> Path:
    """The artifact to open.

    ``model_path``, else ``$NEEDGRAPH_MODEL``, else the newest one in ``$NEEDGRAPH_MODEL_DIR``
    (its ``latest`` pointer).

    Raises:
        ModelNotFoundError: Nothing found.
    """
    from needgraph.config import get_settings

    if model_path:
        return Path(model_path)
    settings = get_settings()
    if settings.model_path:  # an empty NEEDGRAPH_MODEL= counts as unset
        return Path(settings.model_path)
    return latest_model(settings.model_dir)


class Reasoner:
    """A trained model bound to a store and the graph exported from it with the model's schema.

    The one object the CLI and the API share (no logic lives in either face). Readers and
    :meth:`refresh_customer` serialise on :attr:`lock`.

    Attributes:
        store: The open graph store.
        model: The trained ensemble.
        data: The store's graph, exported with ``model.schema``.
        info: The artifact's provenance.
        lock: Held while ``data`` or the cached context is read or mutated.
    """

    def __init__(
        self, store: GraphStore, model: SatisfactionModel, data: HeteroData, info: ModelInfo
    ) -> None:
        self.store = store
        self.model = model
        self.data = data
        self.info = info
        self.lock = threading.RLock()
        self._ontology: Ontology | None = None
        self._context: Context | None = None  # held: never rebuilt while this reasoner lives

    @classmethod
    def open(cls, store: GraphStore, model_path: str | Path | None = None) -> Reasoner:
        """Load an artifact and export ``store``'s graph with its feature schema.

        Args:
            store: Open store.
            model_path: Artifact (``None``: ``$NEEDGRAPH_MODEL``, else the newest artifact of
                the model directory).

        Raises:
            ModelNotFoundError: No artifact.
            ModelMismatchError: Another ontology version, or a graph the schema cannot encode.
        """
        from needgraph.reasoning.artifacts import load_model
        from needgraph.reasoning.export import export_graph

        path = resolve_model_path(model_path)
        model = load_model(path, store)
        info = model.info or build_info(model)
        try:
            data, _ = export_graph(store, model.schema)
        except ValueError as exc:
            raise ModelMismatchError(
                f"model {info.model_id} cannot encode this store's graph with its feature "
                f"schema {info.schema_fingerprint}: {exc}",
                hint="Retrain on this store with `needgraph train`.",
            ) from exc
        return cls(store, model, data, info)

    def warm_up(self) -> None:
        """Build now what the first answers would otherwise build.

        The full-graph pass, the offers and outcomes recommendations calibrate with, and the
        index of customers with evidence per cause, where each customer's edges sit (for
        events) - seconds at 100k customers; a server calls this before it says it is ready.
        """
        from needgraph.reasoning.live_graph import place_customer_edges
        from needgraph.reasoning.recommend import warm_up

        with self.lock:
            ctx = self.context()
            warm_up(self.store, ctx)
            place_customer_edges(ctx.scorer, self.data)

    # -- lookups --------------------------------------------------------------------------
    @property
    def domains(self) -> list[str]:
        """Domains the model predicts (those labelled at training time), in label order."""
        return list(self.model.schema.domains)

    def context(self) -> Context:
        """The cached explanation context (full-graph pass; built on first use)."""
        from needgraph.reasoning.explain import context

        with self.lock:
            self._context = context(self.store, self.model, self.data)
            return self._context

    def check_domain(self, domain: str) -> int:
        """Column of ``domain`` in the model's outputs.

        Raises:
            UnknownDomainError: The model does not predict it (listing those it does).
        """
        if domain not in self.model.schema.domains:
            raise UnknownDomainError(
                f"the model does not predict domain {domain!r}; it predicts "
                f"{', '.join(self.domains) or 'no domain'} (only domains with satisfaction "
                "labels at training time are predicted)",
                domain=domain,
                domains=self.domains,
            )
        return self.model.schema.domains.index(domain)

    def customer_index(self, customer: str) -> int:
        """Row of ``customer`` in the graph.

        Raises:
            CustomerNotFoundError: No such customer (naming the key).
        """
        c = self.context().scorer.index.get(customer)
        if c is None:
            raise CustomerNotFoundError(
                f"customer {customer!r} is not in the graph", customer=customer
            )
        return c

    # -- answers --------------------------------------------------------------------------
    def predict(
        self, customers: Sequence[str], domain: str | None = None
    ) -> list[CustomerPrediction]:
        """Predicted satisfaction of each customer for ``domain`` (``None``: every domain).

        Raises:
            CustomerNotFoundError: A key not in the graph.
            UnknownDomainError: A domain the model does not predict.
        """
        cols = [self.check_domain(domain)] if domain else list(range(len(self.domains)))
        out: list[CustomerPrediction] = []
        with self.lock:
            scorer = self.context().scorer
            y, mask = self.data["customer"].y, self.data["customer"].y_mask
            for key in customers:
                c = self.customer_index(key)
                probs, p_dis, score = star_prediction(scorer, c)
                rows = [
                    DomainPrediction(
                        domain=self.domains[j],
                        score=float(score[j]),
                        p_dissatisfied=float(p_dis[j]),
                        probs=[float(v) for v in probs[j].tolist()],
                        label=float(y[c, j]) if c < mask.shape[0] and bool(mask[c, j]) else None,
                    )
                    for j in cols
                ]
                out.append(CustomerPrediction(key, rows))
        return out

    def explain(self, customer: str, domain: str, k: int = 3, lang: str = "en",
                min_confidence: float | None = None) -> Explanation:
        """Top-k cause paths of the customer's predicted dissatisfaction (``reasoning.explain``).

        Args:
            customer: Customer key.
            domain: Domain id.
            k: Paths to return.
            lang: ``zh`` or ``en``.
            min_confidence: Smallest reported cause confidence in [0, 1] (``None``: the
                default, 0.5).

        Raises:
            CustomerNotFoundError: A key not in the graph.
            UnknownDomainError: A domain the model does not predict.
            ReasoningArgumentError: ``min_confidence`` outside [0, 1].
        """
        from needgraph.reasoning.explain import MIN_CONFIDENCE, explain

        bar = MIN_CONFIDENCE if min_confidence is None else min_confidence
        self.check_domain(domain)
        with self.lock:
            self.customer_index(customer)
            return explain(self.store, self.model, self.data, customer, domain, k=k, lang=lang,
                           min_confidence=bar)

    def recommend(
        self,
        customer: str,
        domain: str,
        k: int = 3,
        cost_aware: bool = False,
        lang: str = "en",
    ) -> list[Action]:
        """Top-k eligible strategies by expected change (``reasoning.recommend``)."""
        from needgraph.reasoning.recommend import recommend

        self.check_domain(domain)
        with self.lock:
            self.customer_index(customer)
            return recommend(
                self.store,
                self.model,
                self.data,
                customer,
                domain,
                k=k,
                ontology=self.ontology(),
                cost_aware=cost_aware,
                lang=lang,
            )

    def drivers(self, domain: str, segment: str | None = None, k: int = 10) -> list[Driver]:
        """Causes driving predicted dissatisfaction over a segment (``reasoning.drivers``).

        Raises:
            UnknownDomainError: A domain the model does not predict.
            NodeNotFoundError: An unknown segment id (or one without a rule).
        """
        from needgraph.reasoning.drivers import drivers

        self.check_domain(domain)
        with self.lock:
            self.context()  # held by this reasoner
            try:
                return drivers(
                    self.store, self.model, self.data, domain, segment,
                    ontology=self.ontology() if segment else None, k=k,
                )
            except KeyError as exc:
                raise NodeNotFoundError(
                    f"unknown segment {segment!r} (or it has no rule)",
                    hint="Use a Segment concept id of the ontology (`needgraph ontology show`).",
                    segment=segment,
                ) from exc

    def refresh_customer(self, customer: str) -> None:
        """Re-read one customer's star from the store (after an event), without retraining.

        Delegates to :func:`needgraph.reasoning.live.refresh_customer`.
        """
        from needgraph.reasoning import live  # type: ignore[attr-defined,unused-ignore]

        with self.lock:
            live.refresh_customer(self, customer)

    def ontology(self) -> Ontology:
        """The ontology the store holds (the configured files when it holds none), cached."""
        if self._ontology is None:
            from needgraph.ontology.versioning import stored_ontology

            found = stored_ontology(self.store)
            if found is None:
                from needgraph.ontology.files import read_ontology

                found = read_ontology()
            self._ontology = found
        return self._ontology


def star_prediction(scorer: StarScorer, c: int) -> tuple[Tensor, Tensor, Tensor]:
    """Ensemble prediction of customer ``c`` from its star over the cached full-graph pass.

    Exactly the full-graph :meth:`SatisfactionModel.predict` of that customer (same inputs,
    neighbour states from the same pass), at the cost of one star forward per member.

    Returns:
        ``(probs [d, 5], p_dissatisfied [d], score [d])``.
    """
    import torch

    from needgraph.reasoning.heads import class_probs, decode, p_dissatisfied

    probs, dis, reg = [], [], []
    with torch.no_grad():
        for out in scorer.head_outputs(c, scorer.x[c].unsqueeze(0)):
            p = class_probs(out.cum)
            probs.append(p)
            dis.append(p_dissatisfied(p, out.dis))
            reg.append(out.reg)
    mean_p = torch.stack(probs).mean(0)
    score = decode(mean_p, torch.stack(reg).mean(0), scorer.model.train_config.reg_weight)
    return mean_p[0], torch.stack(dis).mean(0)[0], score[0]


def train_from_store(
    store: GraphStore,
    domains: Sequence[str] | None = None,
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    on_member: MemberCallback | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> tuple[SatisfactionModel, ModelInfo]:
    """Export ``store``, train on its labelled customers and describe the result.

    Unlabelled customers stay in the graph (their features and edges carry messages) but never
    enter the loss; only domains with labels are predicted.

    Args:
        store: Open store.
        domains: Restrict to these labelled domains (``None``: every labelled domain).
        model_config: Architecture.
        train_config: Optimisation settings.
        on_member: Progress after each ensemble member.
        on_stage: Called with a stage name (``export``, ``train``) as it starts.

    Returns:
        ``(model, info)``; save with :func:`needgraph.reasoning.artifacts.save_versioned`.

    Raises:
        UnknownDomainError: A requested domain has no labels.
    """
    import torch

    from needgraph.reasoning.export import export_graph, restrict_domains
    from needgraph.reasoning.train import fit

    if on_stage:
        on_stage("export")
    data, schema = export_graph(store)
    if not schema.domains:
        raise UnknownDomainError(
            "the store holds no satisfaction labels (RATED relationships): nothing to train on",
            hint="Ingest data with survey scores first (`needgraph ingest`).",
        )
    if domains:
        data, schema = restrict_domains(data, schema, domains)
    if on_stage:
        on_stage("train")
    everyone = torch.arange(int(data["customer"].num_nodes))
    model = fit(data, schema, everyone, model_config, train_config, on_member=on_member)
    return model, build_info(model, store, data)
