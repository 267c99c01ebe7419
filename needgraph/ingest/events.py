"""Real-time events and offer outcomes, recorded exactly like ingested records.

An :class:`Event` (a complaint text, a tag change, a fault ticket, a survey answer) becomes one
:class:`~needgraph.ingest.records.CustomerRecord` and goes through the ingest batch builder
(:class:`~needgraph.ingest.batch.BatchBuilder`): the same binning, PII masking, text linking,
keys and latest-wins rules as a file row, written in one :meth:`GraphStore.write_batch
<needgraph.graph.base.GraphStore.write_batch>` together with the event's idempotency marker
(store metadata ``event.<event id>``) and an entry of this process's change log
(:mod:`needgraph.ingest.change_log`, read by other serving processes), so an event is stored
whole or not at all and a retry writes nothing. An :class:`Outcome` (offered / accepted /
declined, satisfaction afterwards) updates the customer's open offer of that strategy or
creates an ``Offer`` like an offers file row. See ``docs/events.md``. No torch, no FastAPI.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from needgraph.errors import EventValidationError
from needgraph.graph.base import GraphStore
from needgraph.graph.records import Node, NodeRef, Relationship
from needgraph.ingest.batch import BatchBuilder
from needgraph.ingest.change_log import change_log
from needgraph.ingest.event_checks import (
    DATASET,
    bad,
    concept_id,
    customer_id,
    default_pipeline,
    derive_id,
    lang_value,
    pipeline_for,
    score_value,
    store_ontology,
    text_value,
    when,
)
from needgraph.ingest.outcomes import (
    OUTCOME_META_PREFIX,
    Outcome,
    OutcomeStatus,
    RecordedOutcome,
    record_outcome,
)
from needgraph.ingest.records import CustomerRecord, LabelObs, TagBinner, TagObs, TextObs
from needgraph.ingest.text_port import TextAnalyser, TextPipeline
from needgraph.ontology.core import Ontology

__all__ = [
    "EVENT_META_PREFIX", "OUTCOME_META_PREFIX", "Event", "EventKind", "Outcome", "OutcomeStatus",
    "RecordedEvent", "RecordedOutcome", "default_pipeline", "record_event", "record_outcome",
    "store_ontology",
]

log = logging.getLogger("needgraph.events")
EVENT_META_PREFIX = "event."


class EventKind(StrEnum):
    """What happened."""

    COMPLAINT_TEXT = "complaint_text"
    TAG_CHANGE = "tag_change"
    FAULT_TICKET = "fault_ticket"
    SURVEY_ANSWER = "survey_answer"


#: Utterance ``channel`` per kind when the event names none.
DEFAULT_CHANNEL = {EventKind.COMPLAINT_TEXT: "complaint", EventKind.FAULT_TICKET: "fault_ticket",
                   EventKind.SURVEY_ANSWER: "survey"}
#: Fields each kind takes besides customer, kind, event_id, occurred_at, channel.
_FIELDS = {
    EventKind.COMPLAINT_TEXT: {"text", "lang"},
    EventKind.TAG_CHANGE: {"tag", "value"},
    EventKind.FAULT_TICKET: {"text", "lang", "domain", "value"},
    EventKind.SURVEY_ANSWER: {"domain", "score", "text", "lang"},
}


@dataclass(frozen=True)
class Event:
    """One real-time event about a customer (unknown customers are created, like ingest).

    Attributes:
        customer: Customer id.
        kind: What happened.
        event_id: Idempotency key; derived from the content when ``None``.
        occurred_at: When it happened (naive = UTC); ``None`` = now.
        text: complaint_text / fault_ticket description / optional survey verbatim.
        lang: ``zh`` or ``en`` (``None`` = detect).
        tag: tag_change: a tag id of the ontology.
        value: tag_change: the raw value (binned like ingest); fault_ticket: the category, a
            Cause or Need id.
        domain: survey_answer: the rated domain; fault_ticket: the domain it concerns.
        score: survey_answer: 1-5.
        channel: Utterance channel (default per kind: complaint, fault_ticket, survey).
    """

    customer: str
    kind: EventKind
    event_id: str | None = None
    occurred_at: datetime | None = None
    text: str | None = None
    lang: str | None = None
    tag: str | None = None
    value: str | float | None = None
    domain: str | None = None
    score: int | None = None
    channel: str | None = None


@dataclass(frozen=True)
class RecordedEvent:
    """What :func:`record_event` stored.

    Attributes:
        event_id: The idempotency key (given or derived).
        customer: Customer id.
        kind: Event kind.
        created: ``False`` for a duplicate: nothing was written, the counts are the first
            delivery's.
        nodes: Node records written.
        relationships: Relationship records written.
        linked_concepts: Concepts the text was linked to (not negated or resolved), sorted.
        negated_concepts: Concepts mentioned as absent or resolved, sorted.
        utterance: Key of the Utterance written (``None`` for a tag change or a bare survey).
        new_customer: The customer did not exist before this event.
        observed_at: The event time as stored (ISO-8601 UTC).
    """

    event_id: str
    customer: str
    kind: EventKind
    created: bool
    nodes: int
    relationships: int
    linked_concepts: list[str]
    negated_concepts: list[str] = field(default_factory=list)
    utterance: str | None = None
    new_customer: bool = False
    observed_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        out = asdict(self)
        out["kind"] = str(self.kind)
        return out


# --------------------------------------------------------------------------- events
def _record_of(event: Event, ontology: Ontology, customer: str, observed: str
               ) -> tuple[CustomerRecord, list[str]]:
    """Validate ``event`` into one customer record; also the concept ids of a ticket category."""
    kind = event.kind
    allowed = _FIELDS[kind]
    for name in ("text", "lang", "tag", "value", "domain", "score"):
        if getattr(event, name) is not None and name not in allowed:
            raise bad(name, getattr(event, name), f"not a field of {kind} events",
                       f"{kind} events take {', '.join(sorted(allowed))}; leave {name} out")
    record = CustomerRecord(1, customer)
    lang = lang_value(event.lang)
    needs_text = kind in (EventKind.COMPLAINT_TEXT, EventKind.FAULT_TICKET)
    text = text_value(event.text, required=needs_text)
    extra: list[str] = []
    if kind == EventKind.TAG_CHANGE:
        tag = concept_id(ontology, "tag", event.tag, ("Tag",))
        concept = ontology[tag]
        if not concept.bins:
            raise bad("tag", tag, "a tag group without bins", "use a tag that has bins")
        if event.value is None or (isinstance(event.value, str) and not event.value.strip()):
            raise bad("value", event.value, "missing", f"give the new value of {tag}")
        binner = TagBinner(concept)
        bin_id, value = binner.bin(event.value)
        if bin_id is None:
            raise bad("value", event.value, f"fits no bin of {tag} ({concept.value_type})",
                       f"use a value inside one of the bins: {binner.describe_bins()}")
        record.tags.append(TagObs(tag, bin_id, value, observed))
    elif kind == EventKind.SURVEY_ANSWER:
        domain = concept_id(ontology, "domain", event.domain, ("Domain",))
        score = score_value("score", event.score, required=True)
        assert score is not None
        record.labels.append(LabelObs(domain, float(score), observed))
    elif kind == EventKind.FAULT_TICKET:
        if event.domain is not None:
            extra.append(concept_id(ontology, "domain", event.domain, ("Domain",)))
        if event.value is not None:
            extra.append(concept_id(ontology, "value", event.value, ("Cause", "Need")))
    if text is not None:
        channel = (event.channel or DEFAULT_CHANNEL[kind]).strip() or DEFAULT_CHANNEL[kind]
        record.texts.append(TextObs(text, channel, lang, observed, "text"))
    return record, extra


def record_event(store: GraphStore, event: Event, *,
                 linker: TextAnalyser | TextPipeline | None = None) -> RecordedEvent:
    """Validate and store one event like an ingested row, in one transaction, at most once.

    Args:
        store: Any store holding the ontology.
        event: The event.
        linker: Text analyser (e.g. a :class:`~needgraph.ingest.text.TextLinker`) or a whole
            :class:`~needgraph.ingest.text_port.TextPipeline`; ``None`` loads the project's
            linker with embeddings once per ontology version.

    Returns:
        What was stored; ``created=False`` when ``event_id`` was recorded before.

    Raises:
        EventValidationError: A field is missing or wrong (the message names it and the fix).
        OntologyNotLoadedError: The store holds no ontology.
    """
    try:
        kind = EventKind(event.kind)
    except ValueError:
        raise bad("kind", event.kind, "unknown event kind",
                   f"use one of {', '.join(k.value for k in EventKind)}") from None
    event = replace(event, kind=kind)
    customer = customer_id(event.customer)
    ontology, version = store_ontology(store)
    observed = when(event.occurred_at)
    event_id = event.event_id or derive_id(
        "event", customer, kind, event.occurred_at and observed, event.text, event.lang, event.tag,
        event.value, event.domain, event.score, event.channel)
    meta_key = EVENT_META_PREFIX + event_id
    saved = store.get_meta(meta_key)
    if saved is not None:
        return _duplicate(saved, event_id, customer, kind)
    record, extra = _record_of(event, ontology, customer, observed)
    text = pipeline_for(linker, ontology, version) if record.texts else None
    batch, _stats, problems = BatchBuilder(DATASET, ontology, store, text).build([record])
    if problems:
        first = problems[0]
        raise EventValidationError(f"{first.field}={first.value!r}: {first.reason}",
                                   hint=first.hint, field=first.field)
    new_customer = store.get_node(NodeRef("Customer", customer)) is None
    batch.nodes = [Node(n.label, n.key, {} if not new_customer else dict(n.props))
                   if n.label == "Customer" else n for n in batch.nodes]
    utterance = next((n.key for n in batch.nodes if n.label == "Utterance"), None)
    if utterance is not None and extra:
        _ticket_mentions(batch.rels, utterance, extra, ontology)
    mentions = [r for r in batch.rels if r.type == "MENTIONS"]
    linked = sorted({r.end.key for r in mentions if not _negated(r)})
    negated = sorted({r.end.key for r in mentions if _negated(r)} - set(linked))
    write = batch.to_write_batch()
    result = RecordedEvent(event_id, customer, kind, True, len(write.nodes),
                           len(write.relationships) + len(write.latest), linked, negated,
                           utterance, new_customer, observed)
    write.meta[meta_key] = json.dumps(result.to_dict(), ensure_ascii=False, sort_keys=True)
    with change_log(store).logging(write.meta, customer, "event"):  # other servers refresh it
        store.write_batch(write)
    log.info("event %s (%s) for a customer: %d nodes, %d relationships", event_id[:12], kind,
             result.nodes, result.relationships)
    return result


def _negated(rel: Relationship) -> bool:
    return bool(rel.props.get("negated")) or bool(rel.props.get("resolved"))


def _ticket_mentions(rels: list[Relationship], utterance: str, concepts: list[str],
                     ontology: Ontology) -> None:
    """A ticket's domain and category as ``MENTIONS`` (method ``ticket``), unless linked already."""
    ref = NodeRef("Utterance", utterance)
    have = {r.end.key for r in rels if r.type == "MENTIONS"}
    for cid in concepts:
        if cid in have:
            continue
        concept = ontology[cid]
        rels.append(Relationship("MENTIONS", ref, NodeRef(concept.kind, cid), {
            "confidence": 1.0, "span_start": 0, "span_end": 0, "evidence": cid,
            "negated": False, "resolved": False, "method": "ticket"}))


def _duplicate(saved: str, event_id: str, customer: str, kind: EventKind) -> RecordedEvent:
    try:
        first = json.loads(saved)
    except ValueError:
        first = {}
    return RecordedEvent(
        event_id, str(first.get("customer", customer)), EventKind(first.get("kind", kind)),
        False, int(first.get("nodes", 0)), int(first.get("relationships", 0)),
        list(first.get("linked_concepts", [])), list(first.get("negated_concepts", [])),
        first.get("utterance"), False, str(first.get("observed_at", "")))
