"""Derive a :class:`~.world.WorldModel` from an ontology: nothing about the domain is in code.

Causes, domains, tag evidence, fixing strategies and eligibility all come from the ontology; the
numbers (prevalences, effect sizes, fix and acceptance probabilities, base tag distributions) are
drawn from a random generator seeded by the dataset seed, then rounded so ``truth_model.json``
holds them exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from needgraph.ingest.generator.phrasebank import family_of
from needgraph.ingest.generator.tags import build_tag_model
from needgraph.ingest.generator.world import (
    CauseModel,
    Evidence,
    Params,
    StrategyModel,
    TagModel,
    WorldModel,
)
from needgraph.ontology.core import Ontology
from needgraph.ontology.model import Concept

#: Mean number of true causes per customer before segment effects and the cap (about a third
#: of customers have none).
MEAN_CAUSES = 0.8
#: A domain affected by at least this share of plantable causes is a catch-all (e.g. an
#: overall score): effects on it are drawn from the low end of the effect range.
CATCH_ALL_SHARE = 0.75
EFFECT_RANGE = (0.7, 2.0)
#: Share of numeric tags exported as monthly series (``tags_long.csv``) instead of a column.
LONG_SHARE = 0.06
CATCH_ALL_EFFECT_RANGE = (0.6, 1.0)
#: Base acceptance probability per delivery channel (unknown channels use the default).
CHANNEL_ACCEPTANCE = {
    "field_engineer": 0.35,
    "online_chat": 0.3,
    "outbound_call": 0.25,
    "store": 0.2,
    "sms": 0.15,
    "app_push": 0.12,
    "bill": 0.1,
}
DEFAULT_ACCEPTANCE = 0.2


def _r(x: float) -> float:
    return round(float(x), 6)


def _live(ontology: Ontology, kind: str) -> list[Concept]:
    return [c for c in ontology.by_kind(kind) if not c.deprecated]


def _ancestors(cause: Concept, ontology: Ontology) -> tuple[str, ...]:
    """Transitive broader causes, nearest first, without repeats."""
    found: list[str] = []
    frontier = list(cause.broader)
    while frontier:
        nxt: list[str] = []
        for cid in frontier:
            if cid in found or cid not in ontology:
                continue
            found.append(cid)
            nxt.extend(ontology[cid].broader)
        frontier = nxt
    return tuple(found)


def _can_hold(tag: TagModel, bin_id: str) -> bool:
    """Whether values can be drawn in a bin (categorical bins need a raw spelling)."""
    return tag.value_type == "numeric" or bool(tag.spellings[tag.bins.index(bin_id)])


def _leaf_causes(ontology: Ontology) -> tuple[list[Concept], dict[str, tuple[str, ...]]]:
    causes = _live(ontology, "Cause")
    groups = {b for c in causes for b in c.broader}
    leaves = [c for c in causes if c.id not in groups]
    return leaves, {c.id: _ancestors(c, ontology) for c in leaves}


def _affects(cause: Concept, ancestors: Iterable[str], ontology: Ontology) -> tuple[str, ...]:
    """The cause's own ``affects``, or the nearest ancestor's when it names none."""
    if cause.affects:
        return cause.affects
    for aid in ancestors:
        if ontology[aid].affects:
            return ontology[aid].affects
    return ()


def build_world(ontology: Ontology, seed: int, params: Params | None = None) -> WorldModel:
    """Derive the world model for ``seed`` from ``ontology``.

    Args:
        ontology: The ontology (Domain, Cause, Tag, Strategy and Need concepts are used).
        seed: Dataset seed; the world's numbers are drawn from a stream of it.
        params: Global knobs; defaults when ``None``.
    """
    params = params or Params()
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x57_0E_1D]))
    domain_ids = {d.id for d in _live(ontology, "Domain")}
    leaves, ancestors = _leaf_causes(ontology)
    leaf_ids = [c.id for c in leaves]
    affects = {
        c.id: tuple(d for d in _affects(c, ancestors[c.id], ontology) if d in domain_ids)
        for c in leaves
    }
    domains = tuple(sorted({d for ds in affects.values() for d in ds}))
    catch_all = {
        d
        for d in domains
        if sum(d in ds for ds in affects.values()) >= CATCH_ALL_SHARE * len(leaves)
    }

    evidence_raw = _indications(ontology, leaf_ids, ancestors)
    indicating: dict[str, dict[str, float]] = {}
    for tag_id, _cause, bin_weights in evidence_raw:
        strongest = indicating.setdefault(tag_id, {})
        for bin_id, weight in bin_weights.items():
            strongest[bin_id] = max(strongest.get(bin_id, 0.0), weight)
    tags: list[TagModel] = []
    for concept in _live(ontology, "Tag"):
        model = build_tag_model(concept, indicating.get(concept.id, {}), rng)
        if model is not None:
            tags.append(model)
    tags = _long_layout(_columns(_derived_loadings(tags, ontology)), rng)
    tag_by_id = {t.id: t for t in tags}

    evidence: list[Evidence] = []
    for tag_id, cause_id, bin_weights in evidence_raw:
        tag = tag_by_id.get(tag_id)
        if tag is None:
            continue
        usable = tuple(b for b in tag.bins if b in bin_weights and _can_hold(tag, b))
        if not usable:
            continue
        weights = tuple(_r(bin_weights[b]) for b in usable)
        base = sum(tag.probs[tag.bins.index(b)] for b in usable) * (1.0 - tag.missing)
        p_reveal = min(0.92, 0.25 + 0.65 * max(weights)) * float(rng.uniform(0.9, 1.0))
        evidence.append(
            Evidence(tag_id, cause_id, usable, weights, max(weights), _r(p_reveal), _r(base))
        )

    raw_prev = rng.lognormal(0.0, 0.8, size=len(leaves))
    prev = np.minimum(0.25, raw_prev / max(raw_prev.sum(), 1e-9) * MEAN_CAUSES)
    categorical = [t for t in tags if t.value_type != "numeric"]
    causes: list[CauseModel] = []
    for i, concept in enumerate(leaves):
        effects = {
            d: _r(rng.uniform(*(CATCH_ALL_EFFECT_RANGE if d in catch_all else EFFECT_RANGE)))
            for d in affects[concept.id]
        }
        own_tags = {e.tag for e in evidence if e.cause == concept.id}
        choices = [t for t in categorical if t.id not in own_tags]
        segment = None
        if choices and rng.random() < 0.6:
            tag = choices[int(rng.integers(len(choices)))]
            segment = (
                tag.id,
                tag.bins[int(rng.integers(len(tag.bins)))],
                _r(rng.uniform(1.5, 3.0)),
            )
        causes.append(
            CauseModel(
                id=concept.id,
                prevalence=_r(prev[i]),
                effects=effects,
                broader=ancestors[concept.id],
                segment=segment,
                latent_beta=_r(rng.normal(0.0, 0.3)),
                family=family_of(concept, ancestors[concept.id]),
            )
        )
    strategies = _strategies(ontology, leaves, ancestors, affects, domains, rng)
    return WorldModel(
        ontology={
            "name": ontology.manifest.name,
            "version": ontology.manifest.version,
            "content_hash": ontology.content_hash(),
        },
        seed=seed,
        domains=domains,
        tags=tuple(tags),
        causes=tuple(causes),
        evidence=tuple(evidence),
        strategies=tuple(strategies),
        params=params,
    )


def _indications(
    ontology: Ontology, leaf_ids: list[str], ancestors: dict[str, tuple[str, ...]]
) -> list[tuple[str, str, dict[str, float]]]:
    """``(tag, leaf cause, {bin: weight})``; group-cause indications reach leaves at half weight."""
    leaf_set = set(leaf_ids)
    found: dict[tuple[str, str], dict[str, float]] = {}
    for tag in _live(ontology, "Tag"):
        for ind in tag.indicates:
            if ind.cause in leaf_set:
                targets, weight = [ind.cause], ind.weight
            else:
                targets = [c for c in leaf_ids if ind.cause in ancestors[c]]
                weight = ind.weight * 0.5
            for cause in targets:
                weights = found.setdefault((tag.id, cause), {})
                for bin_id in ind.when:
                    weights[bin_id] = max(weights.get(bin_id, 0.0), weight)
    return [(t, c, w) for (t, c), w in sorted(found.items()) if w]


def _columns(tags: list[TagModel]) -> list[TagModel]:
    """Give tags operator-style column codes: the id's last two parts, longer where ambiguous."""
    short = ["_".join(t.id.split(".")[-2:]).upper() for t in tags]
    taken = {s: short.count(s) for s in short}
    return [
        TagModel(
            **{
                **t.__dict__,
                "column": s if taken[s] == 1 else t.id.split(".", 1)[-1].replace(".", "_").upper(),
            }
        )
        for t, s in zip(tags, short, strict=True)
    ]


def _long_layout(tags: list[TagModel], rng: np.random.Generator) -> list[TagModel]:
    """Export a few numeric tags as monthly series (``tags_long.csv``) instead of columns."""
    numeric = [i for i, t in enumerate(tags) if t.value_type == "numeric"]
    count = max(1 if len(numeric) >= 3 else 0, round(LONG_SHARE * len(numeric)))
    chosen = set(rng.choice(numeric, size=count, replace=False).tolist()) if count else set()
    return [
        TagModel(**{**t.__dict__, "layout": "long"}) if i in chosen else t
        for i, t in enumerate(tags)
    ]


def _derived_loadings(tags: list[TagModel], ontology: Ontology) -> list[TagModel]:
    """Tags derived from others share their sources' latent loadings (strong correlation)."""
    by_id = {t.id: t for t in tags}
    result = []
    for tag in tags:
        sources = [by_id[s] for s in ontology[tag.id].derived_from if s in by_id]
        if sources:
            a = sum(s.loadings[0] for s in sources) / len(sources)
            b = sum(s.loadings[1] for s in sources) / len(sources)
            norm = math.hypot(a, b)
            if norm > 0:
                scale = min(0.9, max(0.6, norm)) / norm
                tag = TagModel(**{**tag.__dict__, "loadings": (_r(a * scale), _r(b * scale))})
        result.append(tag)
    return result


def _strategies(
    ontology: Ontology,
    leaves: list[Concept],
    ancestors: dict[str, tuple[str, ...]],
    affects: dict[str, tuple[str, ...]],
    domains: tuple[str, ...],
    rng: np.random.Generator,
) -> list[StrategyModel]:
    result = []
    for concept in _live(ontology, "Strategy"):
        fix: dict[str, float] = {}
        measured: set[str] = set()
        for leaf in leaves:
            if leaf.id in concept.resolves:
                fix[leaf.id] = _r(rng.uniform(0.55, 0.9))
            elif any(a in concept.resolves for a in ancestors[leaf.id]):
                fix[leaf.id] = _r(rng.uniform(0.3, 0.55))
            elif set(leaf.blocks) & set(concept.addresses):
                fix[leaf.id] = _r(rng.uniform(0.1, 0.3))
                continue
            else:
                continue
            measured.update(affects[leaf.id])
        for need_id in concept.addresses:
            need = ontology.get(need_id)
            if need is not None:
                measured.update(d for d in need.domains if d in domains)
        base = CHANNEL_ACCEPTANCE.get(concept.channel or "", DEFAULT_ACCEPTANCE)
        logit = math.log(base / (1 - base)) + 0.25 * math.log1p((concept.cost or 0.0) / 20.0)
        result.append(
            StrategyModel(
                id=concept.id,
                resolves=concept.resolves,
                fix=fix,
                domains=tuple(sorted(measured & set(domains))) or domains,
                base_logit=_r(logit + rng.normal(0.0, 0.3)),
                goodwill=_r(rng.uniform(0.0, 0.25)),
                cost=concept.cost,
                channel=concept.channel,
                eligibility=concept.eligibility,
            )
        )
    return result
