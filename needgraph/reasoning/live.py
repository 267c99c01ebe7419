"""Real-time updates: re-read one customer's star after an event and predict again, no retraining.

:func:`refresh_customer` reads the customer's star from the store (``HAS_TAG`` bins and values,
``SAID`` utterances with their ``MENTIONS``, ``RECEIVED`` offers folded onto strategies, ``RATED``
labels) and rebuilds exactly what :func:`~needgraph.reasoning.export.export_graph` would have
built for it - the customer's feature row (same :func:`~needgraph.reasoning.encode.
customer_matrix`), its edges in both directions, its label row - in ``reasoner.data`` and in the
cached :class:`~needgraph.reasoning.explain.Context` (the star scorer's incoming-edge index and
layer states). New utterances (and a new customer) are appended; their cached layer states are
computed from their neighbours' cached states, layer by layer, exactly as the full-graph pass
computes them. Other nodes keep their cached states: a tag bin's state still holds this customer's
old contribution (the star's 1/degree approximation, see :mod:`needgraph.reasoning.explain`).
Nothing changes for a customer whose star is unchanged, so its prediction stays bit-identical.

:func:`apply_event` = :func:`~needgraph.ingest.events.record_event` -> refresh -> predict ->
recommend for every domain the model predicts, timed step by step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from needgraph.ingest.events import (
    Event,
    Outcome,
    RecordedEvent,
    RecordedOutcome,
    record_event,
    record_outcome,
)
from needgraph.reasoning.live_graph import (
    append_customer,
    append_utterances,
    recompute_states,
    replace_customer_edges,
    update_cause_customers,
)
from needgraph.reasoning.live_star import (
    Star,
    customer_inputs,
    customer_row,
    edge_lists,
    key_index,
    read_star,
    set_labels,
)

if TYPE_CHECKING:
    from needgraph.ingest.text_port import TextAnalyser, TextPipeline
    from needgraph.reasoning.recommend import Action
    from needgraph.reasoning.runtime import CustomerPrediction, Reasoner

__all__ = ["EventResult", "OutcomeResult", "Star", "StepClock", "apply_event", "apply_outcome",
           "read_star", "refresh_customer"]


# --------------------------------------------------------------------------- refresh
def refresh_customer(reasoner: Reasoner, customer: str) -> None:
    """Re-read ``customer``'s star from the store into ``reasoner.data`` and its cached context.

    A customer new to the graph is appended. Holds ``reasoner.lock``.

    Raises:
        CustomerNotFoundError: The store has no such customer.
        ModelMismatchError: A new utterance's embedding width differs from the model's.
    """
    import torch

    with reasoner.lock:
        ctx = reasoner.context()
        star = read_star(reasoner.store, customer)
        scorer, data, schema = ctx.scorer, reasoner.data, reasoner.model.schema
        keys = key_index(ctx)
        c = scorer.index.get(customer)
        new_customer = c is None
        with torch.no_grad():
            if c is None:
                c = append_customer(scorer, data, customer, keys.rows)
            new_utts = append_utterances(ctx, data, schema, keys, star, c)
            lists = edge_lists(schema, keys, star)
            changed = new_customer or bool(new_utts)
            for rel, edges in lists.items():
                changed |= replace_customer_edges(scorer, data, c, rel, edges)
            values, degrees = customer_inputs(schema, keys, star, lists)
            signature = values.tobytes() + degrees.tobytes()
            if new_customer or keys.row_inputs.get(c) != signature:
                x = customer_row(schema, values, degrees)
                keys.row_inputs[c] = signature
                if new_customer or not torch.equal(scorer.x[c], x):
                    scorer.x[c] = x
                    changed = True
            set_labels(data, schema, c, star.ratings)
            if new_customer or new_utts:
                recompute_states(scorer, data, c, new_utts)
            if changed:
                update_cause_customers(ctx, data, customer, c)


# --------------------------------------------------------------------------- events
@dataclass
class EventResult:
    """An event's effect: what was stored, the new prediction and the new top actions.

    Attributes:
        event: What :func:`~needgraph.ingest.events.record_event` stored.
        prediction: The customer's prediction after the event, every domain.
        actions: Domain -> top-k actions after the event.
        ms: Milliseconds per step: ``record``, ``refresh``, ``predict``, ``recommend``, ``total``.
    """

    event: RecordedEvent
    prediction: CustomerPrediction
    actions: dict[str, list[Action]]
    ms: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {"event": self.event.to_dict(), "prediction": self.prediction.to_dict(),
                "actions": {d: [a.to_dict() for a in acts] for d, acts in self.actions.items()},
                "ms": dict(self.ms)}


@dataclass
class OutcomeResult:
    """An outcome's effect: what was stored and the customer's actions afterwards."""

    outcome: RecordedOutcome
    actions: dict[str, list[Action]]
    ms: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {"outcome": self.outcome.to_dict(),
                "actions": {d: [a.to_dict() for a in acts] for d, acts in self.actions.items()},
                "ms": dict(self.ms)}


def apply_event(reasoner: Reasoner, event: Event, *, k: int = 3, lang: str = "en",
                linker: TextAnalyser | TextPipeline | None = None,
                all_domains: bool = False, clock: StepClock | None = None) -> EventResult:
    """Record ``event``, refresh its customer, then predict and recommend, without retraining.

    Actions are ranked for the event's own domain when it names one the model predicts (a
    survey answer, a fault ticket), otherwise for the domain the customer is now most likely
    dissatisfied with; ``all_domains`` ranks them for every predicted domain (about one
    recommendation's cost per domain).

    Args:
        reasoner: The serving model and graph.
        event: The event (a duplicate ``event_id`` writes nothing but still answers).
        k: Actions per domain.
        lang: Sentence language of the actions.
        linker: Text analyser or pipeline (default: the project's linker, loaded once).
        all_domains: Rank actions for every domain the model predicts.
        clock: A clock already running, whose laps so far are kept in ``ms`` (the API's: ``wait``,
            the time the event was queued for the model's answer thread); default: a new one.

    Returns:
        The :class:`EventResult` with per-step timings.

    Raises:
        EventValidationError: The event is invalid (nothing is written).
    """
    clock = StepClock() if clock is None else clock
    recorded = record_event(reasoner.store, event, linker=linker)
    clock.lap("record")
    prediction, actions = _refresh_and_rank(reasoner, recorded.customer, event.domain, k, lang,
                                            all_domains, clock)
    return EventResult(recorded, prediction, actions, clock.done())


def apply_outcome(reasoner: Reasoner, outcome: Outcome, *, k: int = 3,
                  lang: str = "en", all_domains: bool = False) -> OutcomeResult:
    """Record ``outcome``, refresh its customer (offers are edges too) and recommend again.

    Actions are ranked for the outcome's domain when given, otherwise for the domain the
    customer is most likely dissatisfied with (``all_domains``: every predicted domain).
    """
    clock = StepClock()
    recorded = record_outcome(reasoner.store, outcome)
    clock.lap("record")
    _, actions = _refresh_and_rank(reasoner, recorded.customer, outcome.domain, k, lang,
                                   all_domains, clock)
    return OutcomeResult(recorded, actions, clock.done())


def _refresh_and_rank(reasoner: Reasoner, customer: str, domain: str | None, k: int, lang: str,
                      all_domains: bool, clock: StepClock,
                      ) -> tuple[CustomerPrediction, dict[str, list[Action]]]:
    """Refresh the customer's star, predict, rank actions (laps of ``clock``).

    Shared by events and outcomes: laps ``refresh``, ``predict`` and ``recommend``.
    """
    with reasoner.lock:
        refresh_customer(reasoner, customer)
        clock.lap("refresh")
        prediction = reasoner.predict([customer])[0]
        clock.lap("predict")
        domains = _action_domains(reasoner, prediction, domain, all_domains)
        actions = _actions(reasoner, customer, k, lang, domains)
        clock.lap("recommend")
    return prediction, actions


def _action_domains(reasoner: Reasoner, prediction: CustomerPrediction, named: str | None,
                    all_domains: bool) -> list[str]:
    """The domains to rank actions for (see :func:`apply_event`)."""
    if all_domains:
        return list(reasoner.domains)
    if named is not None and named in reasoner.domains:
        return [named]
    if not prediction.domains:
        return []
    worst = max(prediction.domains, key=lambda d: (d.p_dissatisfied, d.domain))
    return [worst.domain]


def _actions(reasoner: Reasoner, customer: str, k: int, lang: str,
             domains: list[str]) -> dict[str, list[Action]]:
    return {d: reasoner.recommend(customer, d, k=k, lang=lang) for d in domains}


class StepClock:
    """Milliseconds per named step (``total``: since the clock started)."""

    def __init__(self, now: Callable[[], float] = time.perf_counter) -> None:
        self.now = now
        self.start = self.last = now()
        self.ms: dict[str, float] = {}

    def lap(self, name: str) -> None:
        """Record the milliseconds since the previous lap (or the start) as step ``name``."""
        t = self.now()
        self.ms[name] = round(1000 * (t - self.last), 3)
        self.last = t

    def done(self) -> dict[str, float]:
        """The steps' milliseconds, with ``total`` since the start."""
        self.ms["total"] = round(1000 * (self.now() - self.start), 3)
        return self.ms
