"""Fixtures of the ingest tests: a tiny ontology loaded into each store, a stub text pipeline.

The tiny ontology is built in code, so these tests do not depend on the curated ontology files;
the IBM tests use the shipped ontology instead.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from needgraph.graph.base import GraphStore
from needgraph.ingest.jobs import JobOptions, run_ingest
from needgraph.ingest.report import JobReport
from needgraph.ingest.text_port import TextPipeline
from needgraph.ontology.core import Ontology
from needgraph.ontology.model import Concept, Manifest


def _concept(cid: str, kind: str, zh: str, en: str, **extra: Any) -> Concept:
    return Concept.model_validate({
        "id": cid, "kind": kind, "label": {"zh": zh, "en": en},
        "definition": {"zh": f"{zh}的定义", "en": f"definition of {en}"}, **extra})


def _bins(*items: tuple[str, str, str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": i, "label": {"zh": zh, "en": en}, **rest} for i, zh, en, rest in items]


def tiny_ontology(version: str = "1.0.0") -> Ontology:
    """Two domains, a need, a cause, two strategies and four tags."""
    concepts = [
        _concept("domain.overall", "Domain", "整体", "overall"),
        _concept("domain.home_broadband", "Domain", "家庭宽带", "home broadband"),
        _concept("need.stable_evening_broadband", "Need", "晚间稳定宽带",
                 "stable evening broadband", domains=["domain.home_broadband"]),
        _concept("cause.evening_congestion", "Cause", "晚高峰拥塞", "evening congestion",
                 synonyms={"zh": ["晚上卡"], "en": ["slow in the evening"]},
                 affects=["domain.home_broadband"], blocks=["need.stable_evening_broadband"]),
        _concept("strategy.speed_trial", "Strategy", "提速体验", "speed-upgrade trial",
                 cost=10, channel="sms", resolves=["cause.evening_congestion"]),
        _concept("strategy.care_call", "Strategy", "主动关怀外呼", "proactive care call",
                 cost=5, channel="outbound_call"),
        _concept("tag.tenure_months", "Tag", "在网时长", "tenure in months",
                 value_type="numeric", unit="months",
                 bins=_bins(("lt_12m", "不足一年", "under a year", {"max": 12}),
                            ("gte_12m", "一年以上", "a year or more", {"min": 12}))),
        _concept("tag.monthly_charge", "Tag", "月费", "monthly charge", value_type="numeric",
                 bins=_bins(("low", "低", "low", {"max": 50}),
                            ("mid", "中", "medium", {"min": 50, "max": 100}),
                            ("high", "高", "high", {"min": 100}))),
        _concept("tag.internet_type", "Tag", "宽带类型", "internet type",
                 value_type="categorical",
                 bins=_bins(("fiber", "光纤", "fiber", {"values": ["Fiber Optic", "光纤"]}),
                            ("dsl", "DSL", "DSL", {"values": ["DSL"]}),
                            ("none", "无", "none", {"values": ["None"]}))),
        _concept("tag.senior", "Tag", "老年人", "senior citizen", value_type="boolean",
                 bins=_bins(("yes", "是", "yes", {"values": ["Yes", "1", "true", "是"]}),
                            ("no", "否", "no", {"values": ["No", "0", "false", "否"]}))),
    ]
    return Ontology(Manifest(name="ingest-test", version=version), concepts)


def load_ontology(store: GraphStore, ontology: Ontology) -> None:
    """Load ``ontology`` into ``store`` the way `needgraph ontology load` does."""
    from needgraph.ontology.loader import load_into_store

    load_into_store(ontology, store, who="tests", why="ingest tests")


@pytest.fixture
def onto_store(store: GraphStore) -> GraphStore:
    """A store of each backend holding the tiny ontology."""
    load_ontology(store, tiny_ontology())
    return store


@dataclass(frozen=True)
class StubMention:
    concept_id: str
    kind: str
    confidence: float
    span_start: int
    span_end: int
    evidence: str
    negated: bool = False
    resolved: bool = False
    method: str = "lexicon"


@dataclass(frozen=True)
class StubAnalysis:
    text: str
    lang: str
    mentions: tuple[StubMention, ...] = ()
    embedding: tuple[float, ...] | None = None
    embedding_model: str | None = None


@dataclass
class StubAnalyser:
    """Finds fixed surface forms; records every text it was given (to check masking)."""

    surfaces: dict[str, tuple[str, str]] = field(default_factory=lambda: {
        "晚上卡": ("cause.evening_congestion", "Cause"),
        "slow in the evening": ("cause.evening_congestion", "Cause"),
        "宽带": ("domain.home_broadband", "Domain"),
    })
    seen: list[str] = field(default_factory=list)
    fail_on: str | None = None

    def analyse_batch(self, texts: list[str], langs: list[str | None]) -> list[StubAnalysis]:
        out = []
        for text, lang in zip(texts, langs, strict=True):
            self.seen.append(text)
            if self.fail_on is not None and self.fail_on in text:
                raise RuntimeError("stub failure")
            mentions = []
            for surface, (cid, kind) in self.surfaces.items():
                at = text.find(surface)
                if at >= 0:
                    negated = "不" + surface in text or f"not {surface}" in text
                    mentions.append(StubMention(cid, kind, 0.9, at, at + len(surface), surface,
                                                negated=negated))
            detected = lang or ("zh" if any("\u4e00" <= c <= "\u9fff" for c in text) else "en")
            out.append(StubAnalysis(text, detected, tuple(mentions)))
        return out


class StubEmbedder:
    """Deterministic 8-dimensional vectors from a hash of the text."""

    model_name = "stub-embedder"

    def encode(self, texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            digest = hashlib.sha256(text.encode("utf-8")).digest()
            rows.append([b / 255.0 for b in digest[:8]])
        return np.asarray(rows, dtype=np.float32)


@pytest.fixture
def stub_text() -> TextPipeline:
    """A stub analyser plus stub embedder."""
    return TextPipeline(StubAnalyser(), StubEmbedder(), "stub-embedder")


def write_csv(path: Path, header: list[str], rows: list[list[Any]], *,
              encoding: str = "utf-8", delimiter: str = ",") -> Path:
    """Write a CSV file."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_yaml(path: Path, text: str) -> Path:
    """Write a mapping file."""
    path.write_text(text, encoding="utf-8")
    return path


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    """Write a JSONL file."""
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def ingest(store: GraphStore, path: Path, tmp_path: Path, *, mapping: Path | None = None,
           text: TextPipeline | None = None, **options: Any) -> list[JobReport]:
    """Run ingest with progress off and reports under ``tmp_path/reports``."""
    kind = options.pop("kind", None)
    encoding = options.pop("encoding", None)
    opts = JobOptions(report_dir=tmp_path / "reports", progress=False, **options)
    return run_ingest(store, path, mapping=mapping, kind=kind, encoding=encoding, options=opts,
                      text=text)


def tag_bins(store: GraphStore, customer: str) -> dict[str, str]:
    """The customer's tag bins: tag id -> bin id (raises if a tag has two edges)."""
    from needgraph.graph.records import NodeRef

    sub = store.neighbourhood(NodeRef("Customer", customer), rel_types=["HAS_TAG"],
                              direction="out")
    found: dict[str, str] = {}
    for rel in sub.relationships:
        tag, bin_id = rel.end.key.split("=", 1)
        assert tag not in found, f"{customer} has two bins of {tag}"
        found[tag] = bin_id
    return found


def all_counts(store: GraphStore) -> tuple[dict[str, int], dict[str, int]]:
    """Node and relationship counts."""
    counts = store.counts()
    return dict(counts.nodes), dict(counts.relationships)


@pytest.fixture
def ibm_csv() -> Path:
    """The shared 70% IBM Telco merged file."""
    return Path("/work/shared/data/ibm-telco-churn-11.1.3/"
                "telco_churn_11.1.3_merged_shared70.csv")


def first_lines(src: Path, dst: Path, n: int) -> Path:
    """Copy the header and the first ``n`` data rows of a CSV file."""
    with src.open(encoding="utf-8") as handle:
        lines = [next(handle) for _ in range(n + 1)]
    dst.write_text("".join(lines), encoding="utf-8")
    return dst




def edges(store: GraphStore, rel_type: str) -> list[tuple[str, str, str]]:
    """Every relationship of ``rel_type`` as sorted ``(start key, end key, props json)``."""
    return sorted(
        (rel.start.key, rel.end.key, json.dumps(rel.props, sort_keys=True))
        for batch in store.iter_relationships(rel_type)
        for rel in batch
    )
