"""The concept side of explanations: ontology paths from evidence to causes, and cause ranking.

:class:`ConceptIndex` reads the relations an explanation follows from the exported graph
(``TagBin -INDICATES-> Cause`` with its weight, ``Utterance -MENTIONS-> Cause`` with its
confidence, ``Cause -AFFECTS-> Domain``, ``-BLOCKS-> Need``, ``-BROADER-> Cause``) and labels and
text spans from the store.

:func:`rank_causes` turns per-item attributions (how much each piece of evidence moves the
model's prediction) into ranked causes. Three things matter for getting the *specific* cause
right, not only a cause near it:

* **Hierarchy.** An item that indicates a broad cause (``bill shock flag`` -> *bill shock*) also
  speaks for each of its specific causes (*extra-data bill shock*, *roaming charges*, ...), at
  half the link weight. A broad cause is reported only when none of its specific causes has
  evidence of its own; otherwise its weight goes down to them.
* **Explaining away.** One item often indicates several causes; a customer rarely has them all.
  Each item's attribution is shared among its candidate causes in proportion to
  ``link weight x cause strength`` and the strengths are re-estimated from the shares (the EM
  updates of a mixture in which each item is explained by one cause). A cause backed by two
  independent items absorbs an ambiguous item that a cause backed by nothing else would split.
* **Fewer, right causes.** After the shares settle, each cause gets a posterior-style
  *confidence* (:mod:`needgraph.reasoning.confidence`: how much more often its items occur among
  dissatisfied than satisfied labelled customers, combined over independent items by noisy-OR).
  :func:`score_causes` reports the causes at or above ``min_confidence`` and near the most
  confident one (``relative`` of it), most confident first, so a customer with one clear cause
  gets one path, not three, and a customer with only coincidental evidence gets none.
  (:func:`rank_causes` alone, the earlier ranking by attribution weight, is kept for comparison.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from needgraph.graph.records import NodeRef
from needgraph.reasoning.confidence import EvidenceStats, noisy_or
from needgraph.reasoning.sentences import Labels
from needgraph.reasoning.star import EdgeType, EvidenceItem

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from needgraph.graph.base import GraphStore

#: A broad cause's link reaches each of its specific causes at this fraction of its weight.
BROAD_TO_SPECIFIC = 0.5
#: Causes below this fraction of the strongest cause are not reported.
RELATIVE = 0.5
#: An item enters a cause's path when at least this share of its attribution goes to the cause.
MIN_SHARE = 0.05
#: Explaining-away (EM) rounds.
EM_ROUNDS = 30
#: Default smallest confidence of a cause an explanation reports. Precision first: on generated
#: data with planted causes, causes reported at this bar were right 9 times in 10 (precision@3
#: 0.90-0.92, a cause for 60-66% of dissatisfied customers; at 0.5 it was 0.81-0.83 for ~80%:
#: ``bench/q2_results.md``). Callers may ask for a lower bar.
MIN_CONFIDENCE = 0.7
#: Smallest confidence of a cause that actions and segment drivers count: a wider net than what
#: an explanation asserts (acting on a likely cause costs less than naming it as the reason; the
#: planted-truth hit@3 of actions was measured at this bar). An action may address a cause that
#: an explanation at :data:`MIN_CONFIDENCE` does not report; its sentence names the cause, and
#: ``explain`` with ``min_confidence=0.5`` shows its path.
ACTION_MIN_CONFIDENCE = 0.5
#: Causes below this fraction of the most confident cause's confidence are not reported.
RELATIVE_CONFIDENCE = 0.8


class ConceptIndex:
    """Concept relations read from the exported graph plus labels and mention spans from the store.

    Args:
        data: Exported graph.
        store: The store (labels, utterance mention spans, raw tag values).
        domains: Domains in the order of ``data['customer'].y``'s columns (enables the
            label statistics of :attr:`stats`; ``None`` = none, confidences use link weights).
    """

    def __init__(
        self, data: HeteroData, store: GraphStore | None, domains: Sequence[str] | None = None
    ) -> None:
        self.store = store
        self.stats = EvidenceStats(data if domains else None, domains or [])
        self._candidates: dict[tuple[str, str], dict[str, float]] = {}
        self.indicates: dict[str, list[tuple[str, float]]] = defaultdict(list)
        self.mentions: dict[str, list[tuple[str, float]]] = defaultdict(list)
        self.affects: dict[str, set[str]] = defaultdict(set)
        self.blocks: dict[str, list[str]] = defaultdict(list)
        self.broader: dict[str, list[str]] = defaultdict(list)
        targets: dict[EdgeType, dict[str, list[tuple[str, float]]]] = {
            ("tag_bin", "indicates", "cause"): self.indicates,
            ("utterance", "mentions", "cause"): self.mentions,
        }
        for et, table in targets.items():
            if et in data.edge_types:
                ei, w = data[et].edge_index, data[et].edge_weight
                sk, dk = data[et[0]].node_key, data[et[2]].node_key
                for s, d, x in zip(ei[0].tolist(), ei[1].tolist(), w.tolist(), strict=True):
                    table[sk[s]].append((dk[d], float(x)))
        lists: tuple[tuple[EdgeType, dict[str, list[str]] | None], ...] = (
            (("cause", "affects", "domain"), None),
            (("cause", "blocks", "need"), self.blocks),
            (("cause", "broader", "cause"), self.broader),
        )
        for et, rel in lists:
            if et not in data.edge_types:
                continue
            ei = data[et].edge_index
            sk, dk = data[et[0]].node_key, data[et[2]].node_key
            for s, d in zip(ei[0].tolist(), ei[1].tolist(), strict=True):
                if rel is None:
                    self.affects[sk[s]].add(dk[d])
                elif dk[d] not in rel[sk[s]]:
                    rel[sk[s]].append(dk[d])
        self.affected_domains = {d for ds in self.affects.values() for d in ds}
        self.narrower: dict[str, list[str]] = defaultdict(list)
        for child, parents in self.broader.items():
            for parent in parents:
                self.narrower[parent].append(child)
        self._labels: dict[str, dict[str, str]] = {}
        self._leaves: dict[str, list[str]] = {}

    def ancestors(self, cause: str) -> list[str]:
        """The cause and its broader causes (breadth first)."""
        seen, todo = [cause], [cause]
        while todo:
            for b in self.broader.get(todo.pop(0), []):
                if b not in seen:
                    seen.append(b)
                    todo.append(b)
        return seen

    def domains_of(self, cause: str) -> set[str]:
        """Domains the cause affects: its own ``AFFECTS``, else the nearest broader cause's.

        A specific cause that names its domains overrides its broader cause's (a broad *network
        quality* affects broadband and wireless; *dropped calls* under it affects wireless only).
        """
        for a in self.ancestors(cause):
            if self.affects.get(a):
                return self.affects[a]
        return set()

    def affects_domain(self, cause: str, domain: str) -> bool:
        """Cause affects ``domain`` (:meth:`domains_of`); any cause when no cause affects it."""
        if domain not in self.affected_domains:
            return True
        return domain in self.domains_of(cause)

    def links(self, item: EvidenceItem, domain: str) -> list[tuple[str, float]]:
        """``(cause, link weight)`` of an evidence item towards causes that affect ``domain``."""
        table = self.indicates if item.kind == "tag" else self.mentions
        return [(cz, w) for cz, w in table.get(item.key, []) if self.affects_domain(cz, domain)]

    def leaves(self, cause: str) -> list[str]:
        """The most specific causes under ``cause`` (itself when it has no narrower cause)."""
        found = self._leaves.get(cause)
        if found is not None:
            return found
        out: list[str] = []
        seen, todo = {cause}, [cause]
        while todo:
            current = todo.pop(0)
            children = self.narrower.get(current, [])
            if not children and current != cause:
                out.append(current)
            for child in children:
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        self._leaves[cause] = sorted(out) or [cause]
        return self._leaves[cause]

    def candidates(self, item: EvidenceItem, domain: str) -> dict[str, float]:
        """Causes an evidence item speaks for, with link weights in [0, 1].

        The causes it links to directly (INDICATES weight or MENTIONS confidence) that affect
        ``domain``, plus, for a linked broad cause, each of its most specific causes that affects
        ``domain`` at half the link weight (the broad link says "one of these", not which).
        Cached per ``(item key, domain)`` (the ontology part of the graph does not change).
        """
        table = self.indicates if item.kind == "tag" else self.mentions
        key = (f"{item.kind}:{item.key}:{len(table.get(item.key, ()))}", domain)  # live appends
        found = self._candidates.get(key)
        if found is not None:
            return found
        out: dict[str, float] = {}
        for cause, w in self.links(item, domain):
            weight = max(min(w, 1.0), 0.0)
            out[cause] = max(out.get(cause, 0.0), weight)
            for leaf in self.leaves(cause):
                if leaf != cause and self.affects_domain(leaf, domain):
                    out[leaf] = max(out.get(leaf, 0.0), BROAD_TO_SPECIFIC * weight)
        if len(self._candidates) > 200_000:
            self._candidates.clear()
        self._candidates[key] = out
        return out

    def excess(self, item: EvidenceItem, cause: str, domain: str, link: float) -> float:
        """Probability in [0, 1] that ``item`` is a real sign of ``cause``, not a coincidence.

        A tag bin: its attributable fraction among customers dissatisfied with ``domain``
        (``1 - 1/LR`` from the labels, :class:`~needgraph.reasoning.confidence.EvidenceStats`);
        the link weight where the domain has too few labels. An utterance: the linker's
        confidence that the text asserts the cause (the link weight) - a customer's own words do
        not fall into a range by chance the way a tag value does.
        """
        if item.kind != "tag":
            return link
        found = self.stats.tag(item.key, domain)
        return link if found is None else found

    def needs_of(self, cause: str) -> list[str]:
        """Needs the cause blocks: its own ``BLOCKS``, else the nearest broader cause's."""
        for a in self.ancestors(cause):
            if self.blocks.get(a):
                return list(self.blocks[a])
        return []

    def labels(self, ids: Iterable[str]) -> Labels:
        """zh/en labels of concept ids (cached; read from the store's nodes)."""
        missing = [i for i in ids if i not in self._labels]
        if missing and self.store is not None:
            by_label: dict[str, list[str]] = defaultdict(list)
            for i in missing:
                by_label[_label_of(i)].append(i)
            for lab, keys in by_label.items():
                try:
                    found = self.store.get_nodes(lab, keys)
                except Exception:
                    found = {}
                for k, node in found.items():
                    self._labels[k] = {
                        "zh": str(node.props.get("label_zh") or ""),
                        "en": str(node.props.get("label_en") or ""),
                    }
        for i in missing:
            self._labels.setdefault(i, {"zh": "", "en": ""})
        return self._labels

    def utterance_spans(self, key: str) -> dict[str, dict[str, Any]]:
        """Cause id -> ``{"evidence", "confidence", "negated", "resolved"}`` from MENTIONS props."""
        if self.store is None:
            return {}
        try:  # one read (a neighbourhood reads the centre node first: two round trips)
            found = self.store.outgoing([NodeRef("Utterance", key)], ["MENTIONS"])
        except Exception:
            return {}
        return {r.end.key: dict(r.props) for r in found.relationships if r.end.label == "Cause"}

    def tag_values(self, customer: str, bins: Sequence[str]) -> dict[str, str]:
        """Raw ``HAS_TAG`` values of the customer for the tag bins ``bins``, by bin key.

        One point read of just those relationships (empty without a store); an explanation asks
        once for all its tag evidence.
        """
        if self.store is None or not bins:
            return {}
        found = self.store.get_relationships(
            NodeRef("Customer", customer), "HAS_TAG", "TagBin", bins
        )
        return {key: str(rel.props.get("value", "")) for key, rel in found.items()}


def _label_of(concept_id: str) -> str:
    if "=" in concept_id:
        return "TagBin"
    return {
        "cause": "Cause",
        "need": "Need",
        "domain": "Domain",
        "strategy": "Strategy",
        "tag": "Tag",
        "segment": "Segment",
    }.get(concept_id.split(".", 1)[0], "Cause")


def rank_causes(
    links: Sequence[dict[str, float]],
    attribution: Sequence[float],
    min_weight: float = 0.0,
    relative: float = RELATIVE,
    rounds: int = EM_ROUNDS,
) -> tuple[list[tuple[str, float]], dict[str, list[tuple[int, float, float]]]]:
    """Share item attributions among their candidate causes (explaining away) and rank the causes.

    Args:
        links: Per item, its candidate causes and link weights (:meth:`ConceptIndex.candidates`).
        attribution: Per item, its attribution (log-odds of P(dissatisfied)); items at or below 0
            speak for no cause.
        min_weight: Smallest cause weight reported.
        relative: Causes below this fraction of the strongest cause are not reported.
        rounds: EM rounds (each ``O(links)``; 30 settle every case we measured).

    Returns:
        ``(ranked, paths)``: reported causes ``(cause, weight)`` strongest first (ties by id), and
        per reported cause its items ``(item index, link weight, path weight)`` strongest first.
        A cause's weight is the sum of its path weights: the part of each item's attribution
        assigned to it.
    """
    active = [i for i, a in enumerate(attribution) if a > 0 and links[i]]
    strength: dict[str, float] = defaultdict(float)
    for i in active:
        for cause, w in links[i].items():
            strength[cause] += attribution[i] * w
    shares: dict[int, dict[str, float]] = {}
    for _ in range(max(rounds, 1)):
        shares = {}
        new: dict[str, float] = defaultdict(float)
        for i in active:
            raw = {cause: w * strength[cause] for cause, w in links[i].items()}
            total = sum(raw.values())
            if total <= 0:
                continue
            shares[i] = {cause: v / total for cause, v in raw.items() if v > 0}
            for cause, r in shares[i].items():
                new[cause] += attribution[i] * r
        if all(abs(new.get(c, 0.0) - v) <= 1e-9 for c, v in strength.items()):
            strength = new
            break
        strength = new
    top = max(strength.values(), default=0.0)
    cut = max(min_weight, relative * top)
    ranked = sorted(
        ((c, v) for c, v in strength.items() if v >= cut and v > 0), key=lambda x: (-x[1], x[0])
    )
    paths: dict[str, list[tuple[int, float, float]]] = {}
    for cause, _ in ranked:
        rows = sorted(
            (
                (i, links[i][cause], attribution[i] * shares[i][cause])
                for i in active
                if shares.get(i, {}).get(cause, 0.0) > 0
            ),
            key=lambda x: (-x[2], x[0]),
        )
        kept = [r for r in rows if shares[r[0]][cause] >= MIN_SHARE]
        paths[cause] = kept or rows[:1]
    return ranked, paths


@dataclass
class ScoredCauses:
    """Causes of one customer and domain, ranked by confidence.

    Attributes:
        ranked: Reported causes ``(cause, weight)``, most confident first; ``weight`` is the
            attribution (log-odds) the cause carries.
        confidence: Confidence in [0, 1] of every cause with evidence (reported or not).
        paths: Per reported cause, ``(item index, link weight, path weight)`` strongest first.
    """

    ranked: list[tuple[str, float]]
    confidence: dict[str, float]
    paths: dict[str, list[tuple[int, float, float]]] = field(default_factory=dict)


def score_causes(
    links: Sequence[dict[str, float]],
    attribution: Sequence[float],
    excess: Callable[[int, str, float], float],
    min_confidence: float = MIN_CONFIDENCE,
    relative: float = RELATIVE_CONFIDENCE,
    min_weight: float = 0.0,
) -> ScoredCauses:
    """Explaining away (:func:`rank_causes`), then confidence, then the causes worth reporting.

    Args:
        links: Per item, its candidate causes and link weights (:meth:`ConceptIndex.candidates`).
        attribution: Per item, its attribution (log-odds of P(dissatisfied)).
        excess: ``(item index, cause, link weight) ->`` the item's attributable fraction for the
            cause (:meth:`ConceptIndex.excess`).
        min_confidence: Smallest reported confidence (0 = every cause with evidence).
        relative: Causes below this fraction of the highest confidence are not reported.
        min_weight: Smallest reported attribution weight (log-odds).

    Returns:
        The :class:`ScoredCauses`; ``ranked`` is empty when no cause passes (the honest
        "no strong driver found").
    """
    ranked, paths = rank_causes(links, attribution, min_weight=0.0, relative=0.0)
    table = {(i, cz): excess(i, cz, link) for cz, rows in paths.items() for i, link, _ in rows}
    conf = noisy_or(paths, attribution, table)
    top = max(conf.values(), default=0.0)
    cut = max(min_confidence, relative * top)
    kept = [(cz, w) for cz, w in ranked if w >= min_weight and conf.get(cz, 0.0) >= cut]
    kept.sort(key=lambda x: (-conf[x[0]], -x[1], x[0]))
    return ScoredCauses(kept, conf, {cz: paths[cz] for cz, _ in kept})
