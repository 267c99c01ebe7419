"""Outcomes of offered strategies, recorded like an offers file row (``docs/events.md``).

``offered`` creates an ``Offer``; ``accepted`` / ``declined`` update the customer's open offer of
the strategy; a follow-up score is stored on the offer (and, with a domain, as the customer's
latest ``RATED``). At most once per outcome id (store metadata ``outcome.<id>``), in one
transaction. No torch.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from needgraph.errors import EventValidationError
from needgraph.graph.base import GraphStore
from needgraph.graph.batch import WriteBatch
from needgraph.graph.records import Node, NodeRef
from needgraph.ingest.batch import BatchBuilder
from needgraph.ingest.change_log import change_log
from needgraph.ingest.event_checks import (
    DATASET,
    bad,
    concept_id,
    customer_id,
    derive_id,
    score_value,
    store_ontology,
    when,
)
from needgraph.ingest.records import CustomerRecord, OfferObs
from needgraph.ingest.writers import RatingEdge

__all__ = ["OUTCOME_META_PREFIX", "Outcome", "OutcomeStatus", "RecordedOutcome",
           "record_outcome"]

OUTCOME_META_PREFIX = "outcome."


class OutcomeStatus(StrEnum):
    """What happened to an offered strategy."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"


@dataclass(frozen=True)
class Outcome:
    """What happened to an action offered to a customer.

    Attributes:
        customer: Customer id.
        strategy: Strategy id of the ontology.
        status: offered, accepted or declined.
        outcome_id: Idempotency key; derived from the content when ``None``. A new Offer is
            keyed ``<customer>:<strategy>:<outcome_id or time>``.
        satisfaction_after: Follow-up score 1-5.
        domain: The domain the follow-up score rates (also written as the customer's latest
            ``RATED`` of that domain, a label for the next training run).
        occurred_at: When it happened (naive = UTC); ``None`` = now.
    """

    customer: str
    strategy: str
    status: OutcomeStatus
    outcome_id: str | None = None
    satisfaction_after: int | None = None
    domain: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class RecordedOutcome:
    """What :func:`record_outcome` stored.

    Attributes:
        outcome_id: The idempotency key (given or derived).
        created: ``False`` for a duplicate (nothing written).
        offer: Key of the Offer node written or updated.
        updated_existing: An open offer of the strategy was updated (no new Offer).
        customer: Customer id.
        strategy: Strategy id.
        status: The outcome.
        nodes: Node records written.
        relationships: Relationship records written.
    """

    outcome_id: str
    created: bool
    offer: str
    updated_existing: bool
    customer: str
    strategy: str
    status: OutcomeStatus
    nodes: int
    relationships: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        out = asdict(self)
        out["status"] = str(self.status)
        return out


def record_outcome(store: GraphStore, outcome: Outcome) -> RecordedOutcome:
    """Store what happened to an offered strategy, at most once per ``outcome_id``.

    ``offered`` creates an Offer (``RECEIVED`` + ``OF_STRATEGY``, as an offers file row does).
    ``accepted`` / ``declined`` update the customer's latest still-open offer of the strategy
    (or the latest one with the same status, e.g. a late follow-up score), else create one.
    Cached acceptance rates of :mod:`needgraph.reasoning.recommend` are dropped at once.

    Raises:
        EventValidationError: Unknown strategy or domain, bad status or score.
    """
    customer = customer_id(outcome.customer)
    try:
        status = OutcomeStatus(outcome.status)
    except ValueError:
        raise bad("status", outcome.status, "unknown outcome",
                   f"use one of {', '.join(s.value for s in OutcomeStatus)}") from None
    ontology, _version = store_ontology(store)
    strategy = concept_id(ontology, "strategy", outcome.strategy, ("Strategy",))
    after = score_value("satisfaction_after", outcome.satisfaction_after, required=False)
    domain = (concept_id(ontology, "domain", outcome.domain, ("Domain",))
              if outcome.domain is not None else None)
    if domain is not None and after is None:
        raise bad("domain", domain, "a domain without satisfaction_after",
                   "give satisfaction_after (1-5) with the domain, or leave the domain out")
    observed = when(outcome.occurred_at)
    outcome_id = outcome.outcome_id or derive_id(
        "outcome", customer, strategy, status, after, domain, outcome.occurred_at and observed)
    meta_key = OUTCOME_META_PREFIX + outcome_id
    saved = store.get_meta(meta_key)
    if saved is not None:
        first = json.loads(saved)
        return RecordedOutcome(outcome_id, False, str(first.get("offer", "")),
                               bool(first.get("updated_existing")), customer, strategy, status,
                               int(first.get("nodes", 0)), int(first.get("relationships", 0)))
    existing = _open_offer(store, customer, strategy, status)
    if existing is not None:
        props: dict[str, Any] = {"outcome": str(status)}
        if after is not None:
            props["satisfaction_after"] = float(after)
        write = WriteBatch(nodes=[Node("Offer", existing, props)])
        offer = existing
    else:
        record = CustomerRecord(1, customer)
        record.offers.append(OfferObs(strategy, str(status),
                                      float(after) if after is not None else None, observed,
                                      outcome.outcome_id or observed))
        batch, _stats, problems = BatchBuilder(DATASET, ontology, store).build([record])
        if problems:
            raise EventValidationError(f"{problems[0].field}={problems[0].value!r}: "
                                       f"{problems[0].reason}", hint=problems[0].hint)
        if store.get_node(NodeRef("Customer", customer)) is not None:
            batch.nodes = [Node(n.label, n.key, {}) if n.label == "Customer" else n
                           for n in batch.nodes]
        write = batch.to_write_batch()
        offer = next(n.key for n in write.nodes if n.label == "Offer")
    if domain is not None and after is not None:
        write.latest.append(RatingEdge(customer, domain, float(after), observed))
    result = RecordedOutcome(outcome_id, True, offer, existing is not None, customer, strategy,
                             status, len(write.nodes),
                             len(write.relationships) + len(write.latest))
    write.meta[meta_key] = json.dumps(result.to_dict(), sort_keys=True)
    with change_log(store).logging(write.meta, customer, "outcome"):  # other servers' rates
        store.write_batch(write)
    _drop_offer_caches(store)
    return result


def _open_offer(store: GraphStore, customer: str, strategy: str,
                status: OutcomeStatus) -> str | None:
    """Key of the offer an accepted/declined outcome updates, or ``None`` (create one)."""
    if status == OutcomeStatus.OFFERED or store.get_node(NodeRef("Customer", customer)) is None:
        return None
    sub = store.neighbourhood(NodeRef("Customer", customer), 2,
                              rel_types=["RECEIVED", "OF_STRATEGY"], direction="out")
    keys = {r.start.key for r in sub.relationships
            if r.type == "OF_STRATEGY" and r.end.key == strategy}
    offers = [n for n in sub.nodes if n.label == "Offer" and n.key in keys]
    offers.sort(key=lambda n: (str(n.props.get("observed_at") or ""), n.key), reverse=True)
    for wanted in ("offered", str(status)):
        for node in offers:
            if node.props.get("outcome", "offered") == wanted:
                return node.key
    return None


def _drop_offer_caches(store: GraphStore) -> None:
    """Make :func:`needgraph.reasoning.recommend.recommend` re-read offers (if it is loaded)."""
    module = sys.modules.get("needgraph.reasoning.recommend")
    if module is None:
        return
    module.invalidate_offers(store)
