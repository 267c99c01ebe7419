"""Build the graph records of one batch of customer records (``docs/graph-model.md``).

Keys are deterministic, so writing the same input twice writes the same records:
``Customer`` by customer id, ``Utterance`` by ``<customer>:<sha1(channel, time, text)[:16]>``,
``Offer`` by ``<customer>:<strategy>:<time or offer id>``. Within a batch, the latest
observation per (customer, tag) and per (customer, domain) is kept (ties: the later row).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from needgraph.graph.base import GraphStore
from needgraph.graph.records import Node, NodeRef, Relationship
from needgraph.ingest.records import CustomerRecord, Problem, TextObs
from needgraph.ingest.text_port import AnalysisLike, TextPipeline
from needgraph.ingest.writers import GraphBatch, RatingEdge, TagEdge, newer_or_equal
from needgraph.ontology.core import Ontology
from needgraph.ontology.model import bin_key

log = logging.getLogger("needgraph.ingest")
MENTION_KINDS = frozenset({"Domain", "Need", "Cause", "Strategy"})


def utterance_key(customer: str, channel: str, observed_at: str | None, text: str) -> str:
    """Return the key of an utterance node."""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update("\x1f".join((channel, observed_at or "", text)).encode("utf-8"))
    return f"{customer}:{digest.hexdigest()[:16]}"


@dataclass
class BatchStats:
    """What a batch holds, per kind (added to the job report)."""

    customers: int = 0
    tags: int = 0
    tags_superseded: int = 0
    utterances: int = 0
    mentions: int = 0
    texts_failed: int = 0
    offers: int = 0
    ratings: int = 0
    dropped_rows: set[int] = field(default_factory=set)


class ConceptIndex:
    """Which concept nodes (tag bins, domains, strategies, mention targets) exist in the store.

    Known keys are cached for the job; unknown ones are looked up once per batch.
    """

    def __init__(self, store: GraphStore) -> None:
        self.store = store
        self._known: set[tuple[str, str]] = set()

    def missing(self, refs: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """Return the refs among ``refs`` with no node in the store."""
        unknown = refs - self._known
        by_label: dict[str, list[str]] = {}
        for label, key in unknown:
            by_label.setdefault(label, []).append(key)
        gone: set[tuple[str, str]] = set()
        for label, keys in by_label.items():
            found = self.store.get_nodes(label, keys)
            for key in keys:
                (self._known.add if key in found else gone.add)((label, key))
        return gone


class BatchBuilder:
    """Turns customer records into a :class:`GraphBatch`.

    Args:
        dataset: Written as ``Customer.source``.
        ontology: The ontology the store holds (kinds of mentioned concepts).
        store: The store (to check that concept nodes exist).
        text: Text analyser and embedder (required when records carry texts).
        whole_rows: Quarantine a whole row when its text cannot be analysed.
    """

    def __init__(self, dataset: str, ontology: Ontology, store: GraphStore,
                 text: TextPipeline | None = None, whole_rows: bool = True) -> None:
        self.dataset = dataset
        self.ontology = ontology
        self.text = text
        self.whole_rows = whole_rows
        self.concepts = ConceptIndex(store)

    def build(self, records: list[CustomerRecord]) -> tuple[GraphBatch, BatchStats, list[Problem]]:
        """Return the batch, its stats and problems found while building (rows left out)."""
        stats = BatchStats()
        problems = self._check_concepts(records, stats)
        analyses = self._analyse(records, stats, problems)
        batch = GraphBatch()
        customers: dict[str, Node] = {}
        tags: dict[tuple[str, str], TagEdge] = {}
        ratings: dict[tuple[str, str], RatingEdge] = {}
        mentions: dict[tuple[str, str], Relationship] = {}
        other: list[Relationship] = []
        for record in records:
            if record.row in stats.dropped_rows:
                continue
            cid = record.customer_id
            node = customers.get(cid)
            props: dict[str, Any] = {"source": self.dataset, **record.attributes}
            customers[cid] = Node("Customer", cid, {**node.props, **props} if node else props)
            customer = NodeRef("Customer", cid)
            for obs in record.tags:
                edge = TagEdge(cid, bin_key(obs.tag_id, obs.bin_id), obs.value, obs.observed_at)
                key = (cid, obs.tag_id)
                if key in tags:
                    stats.tags_superseded += 1
                    if not newer_or_equal(edge.observed_at, tags[key].observed_at):
                        continue
                tags[key] = edge
            for label in record.labels:
                rating = RatingEdge(cid, label.domain_id, label.score, label.observed_at)
                rkey = (cid, label.domain_id)
                if rkey not in ratings or newer_or_equal(rating.observed_at,
                                                         ratings[rkey].observed_at):
                    ratings[rkey] = rating
            for offer in record.offers:
                okey = f"{cid}:{offer.strategy_id}:{offer.ref}"
                batch.nodes.append(Node("Offer", okey, {
                    "outcome": offer.outcome, "satisfaction_after": offer.satisfaction_after,
                    "observed_at": offer.observed_at}))
                ref = NodeRef("Offer", okey)
                other.append(Relationship("RECEIVED", customer, ref,
                                          {"observed_at": offer.observed_at}))
                other.append(Relationship("OF_STRATEGY", ref,
                                          NodeRef("Strategy", offer.strategy_id)))
            for text_obs, analysis, vector in analyses.get(record.row, []):
                self._utterance(batch, other, mentions, customer, text_obs, analysis, vector)
        gone = self.concepts.missing({(r.end.label, r.end.key) for r in mentions.values()})
        if gone:
            log.warning("%d mentioned concept(s) are not in the store; their mentions are "
                        "skipped (run: needgraph ontology load)", len(gone))
        kept = [r for r in mentions.values() if (r.end.label, r.end.key) not in gone]
        nodes = {(n.label, n.key): n for n in batch.nodes}
        batch.nodes = [*customers.values(), *nodes.values()]
        batch.tag_edges = list(tags.values())
        batch.ratings = list(ratings.values())
        batch.rels = list({(r.type, r.start, r.end): r for r in [*other, *kept]}.values())
        stats.utterances = sum(1 for n in batch.nodes if n.label == "Utterance")
        stats.offers = sum(1 for n in batch.nodes if n.label == "Offer")
        stats.customers = len(customers)
        stats.tags = len(batch.tag_edges)
        stats.ratings = len(batch.ratings)
        stats.mentions = len(kept)
        return batch, stats, problems

    # -- concepts ----------------------------------------------------------------------------
    def _check_concepts(self, records: list[CustomerRecord], stats: BatchStats) -> list[Problem]:
        wanted: set[tuple[str, str]] = set()
        for record in records:
            wanted.update(("TagBin", bin_key(o.tag_id, o.bin_id)) for o in record.tags)
            wanted.update(("Domain", label.domain_id) for label in record.labels)
            wanted.update(("Strategy", offer.strategy_id) for offer in record.offers)
        gone = self.concepts.missing(wanted)
        if not gone:
            return []
        problems = []
        for record in records:
            refs = {("TagBin", bin_key(o.tag_id, o.bin_id)) for o in record.tags}
            refs |= {("Domain", label.domain_id) for label in record.labels}
            refs |= {("Strategy", offer.strategy_id) for offer in record.offers}
            for label, key in sorted(refs & gone):
                stats.dropped_rows.add(record.row)
                problems.append(Problem(
                    record.row, label, key, f"{label} {key!r} is not in the store",
                    "The store's ontology lacks it: run: needgraph ontology load"))
        return problems

    # -- text --------------------------------------------------------------------------------
    def _analyse(self, records: list[CustomerRecord], stats: BatchStats,
                 problems: list[Problem]
                 ) -> dict[int, list[tuple[TextObs, AnalysisLike, list[float] | None]]]:
        items = [(r, t) for r in records if r.row not in stats.dropped_rows for t in r.texts]
        if not items:
            return {}
        if self.text is None:
            raise ValueError("records carry texts but the job has no text pipeline")
        texts = [t.text for _, t in items]
        langs = [t.lang for _, t in items]
        results: list[AnalysisLike | None]
        try:
            results = list(self.text.analyser.analyse_batch(texts, langs))
        except Exception as exc:  # one bad text must not fail the batch: retry one by one
            log.warning("text analysis of a batch failed (%s); retrying text by text",
                        type(exc).__name__)
            results = [self._analyse_one(text, lang) for text, lang in zip(texts, langs,
                                                                           strict=True)]
        vectors = self._embed([a for a in results if a is not None])
        out: dict[int, list[tuple[TextObs, AnalysisLike, list[float] | None]]] = {}
        it = iter(vectors)
        for (record, obs), analysis in zip(items, results, strict=True):
            if analysis is None:
                stats.texts_failed += 1
                problems.append(Problem(record.row, obs.column, obs.text,
                                        "text analysis failed",
                                        "See the log for the error type; fix or remove the text",
                                        "text"))
                if self.whole_rows:
                    stats.dropped_rows.add(record.row)
                continue
            out.setdefault(record.row, []).append((obs, analysis, next(it)))
        for row in stats.dropped_rows:
            out.pop(row, None)
        return out

    def _analyse_one(self, text: str, lang: str | None) -> AnalysisLike | None:
        assert self.text is not None
        try:
            return self.text.analyser.analyse_batch([text], [lang])[0]
        except Exception as exc:
            log.warning("text analysis failed for one text (%s)", type(exc).__name__)
            return None

    def _embed(self, analyses: Sequence[AnalysisLike]) -> list[list[float] | None]:
        own = [getattr(a, "embedding", None) for a in analyses]
        if all(v is not None for v in own) or self.text is None or self.text.embedder is None:
            return [[round(float(x), 6) for x in v] if v is not None else None for v in own]
        encoded = self.text.embedder.encode([a.text for a in analyses])
        return [[round(float(x), 6) for x in row] for row in encoded]

    def _utterance(self, batch: GraphBatch, other: list[Relationship],
                   mentions: dict[tuple[str, str], Relationship], customer: NodeRef,
                   obs: TextObs, analysis: AnalysisLike, vector: list[float] | None) -> None:
        key = utterance_key(customer.key, obs.channel, obs.observed_at, analysis.text)
        model = getattr(analysis, "embedding_model", None) or (
            self.text.model_name if self.text else None)
        batch.nodes.append(Node("Utterance", key, {
            "text": analysis.text, "lang": analysis.lang, "channel": obs.channel,
            "observed_at": obs.observed_at, "embedding": vector,
            "embedding_model": model if vector is not None else None}))
        ref = NodeRef("Utterance", key)
        other.append(Relationship("SAID", customer, ref, {"observed_at": obs.observed_at}))
        for mention in analysis.mentions:
            concept = self.ontology.get(mention.concept_id)
            if concept is None or concept.kind not in MENTION_KINDS:
                continue
            mkey = (key, mention.concept_id)
            known = mentions.get(mkey)
            confidence = known.props["confidence"] if known is not None else None
            if isinstance(confidence, float) and confidence >= mention.confidence:
                continue
            mentions[mkey] = Relationship("MENTIONS", ref, NodeRef(concept.kind, concept.id), {
                "confidence": float(mention.confidence), "span_start": int(mention.span_start),
                "span_end": int(mention.span_end), "evidence": mention.evidence,
                "negated": bool(mention.negated), "resolved": bool(mention.resolved),
                "method": mention.method})
