"""Customer-text jobs: utterances, mentions, embeddings, and no personal data anywhere."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from needgraph.graph.base import GraphStore
from needgraph.graph.records import NodeRef
from needgraph.ingest.quarantine import read_quarantine
from needgraph.ingest.text_port import TextPipeline
from tests.ingest.conftest import (
    StubAnalyser,
    StubEmbedder,
    all_counts,
    edges,
    ingest,
    write_jsonl,
)

PHONE = "13812345678"
PHONE_SPACED = "138 1234 5678"
TEXTS = [
    {"customer_id": "T1", "time": "2026-09-01T20:00:00Z", "channel": "call", "lang": "zh",
     "text": f"宽带晚上卡，请回电 {PHONE}"},
    {"customer_id": "T1", "time": "2026-09-02T20:00:00Z", "channel": "chat", "lang": "zh",
     "text": "现在不晚上卡了"},
    {"customer_id": "T2", "time": "2026-09-03T09:00:00Z", "channel": "social",
     "text": f"It is slow in the evening, call me at {PHONE_SPACED}"},
    {"customer_id": "T3", "time": "2026-09-03T09:00:00Z", "channel": "survey", "text": "   "},
]


def _texts(tmp_path: Path, extra: list[dict[str, object]] | None = None) -> Path:
    return write_jsonl(tmp_path / "texts.jsonl", TEXTS + (extra or []))


def test_texts_become_utterances_with_mentions(onto_store: GraphStore, tmp_path: Path,
                                               stub_text: TextPipeline) -> None:
    [report] = ingest(onto_store, _texts(tmp_path), tmp_path, text=stub_text)
    assert report.kinds == ["text"]
    assert report.counts["text"]["utterances"] == 3 and report.rows_written == 4
    nodes, rels = all_counts(onto_store)
    assert nodes["Utterance"] == 3 and rels["SAID"] == 3
    said = onto_store.neighbourhood(NodeRef("Customer", "T1"), rel_types=["SAID"],
                                    direction="out")
    assert len(said.relationships) == 2
    by_channel = {n.props["channel"]: n for n in said.nodes}
    call = by_channel["call"]
    assert call.key.startswith("T1:") and len(call.key) == 3 + 16
    assert call.props["lang"] == "zh" and call.props["observed_at"] == "2026-09-01T20:00:00Z"
    assert "<PHONE>" in str(call.props["text"])
    assert call.props["embedding_model"] == "stub-embedder"
    embedding = call.props["embedding"]
    assert isinstance(embedding, list) and len(embedding) == 8
    mentions = {(r.start.key, r.end.key): r.props for r in
                (rel for batch in onto_store.iter_relationships("MENTIONS") for rel in batch)}
    props = mentions[(call.key, "cause.evening_congestion")]
    text = str(call.props["text"])
    start, end = int(props["span_start"]), int(props["span_end"])  # type: ignore[arg-type]
    assert text[start:end] == props["evidence"] == "晚上卡"
    assert props["negated"] is False and props["method"] == "lexicon"
    negated = mentions[(by_channel["chat"].key, "cause.evening_congestion")]
    assert negated["negated"] is True
    t2 = onto_store.neighbourhood(NodeRef("Customer", "T2"), rel_types=["SAID"]).nodes[0]
    assert t2.props["lang"] == "en"
    # idempotent
    before = all_counts(onto_store)
    ingest(onto_store, _texts(tmp_path), tmp_path, text=stub_text)
    assert all_counts(onto_store) == before


def test_no_personal_data_anywhere(onto_store: GraphStore, tmp_path: Path,
                                   caplog: pytest.LogCaptureFixture) -> None:
    analyser = StubAnalyser(fail_on="boom")
    pipeline = TextPipeline(analyser, StubEmbedder(), "stub-embedder")
    path = _texts(tmp_path, [
        {"customer_id": "T4", "channel": "call", "text": f"boom {PHONE} boom"},
        {"customer_id": "T5", "channel": "call", "time": "yesterday-ish",
         "text": f"bad time, phone {PHONE}"},
    ])
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f'{{"customer_id": "T6", "text": "broken json {PHONE}\n')
    caplog.set_level(logging.DEBUG)
    [report] = ingest(onto_store, path, tmp_path, text=pipeline)
    assert report.rows_quarantined == 3
    # the analyser only ever saw masked text
    assert analyser.seen and not any(PHONE in t or PHONE_SPACED in t for t in analyser.seen)
    # store: every node and relationship property
    dumped: list[str] = []
    for label in onto_store.schema.labels:
        for batch in onto_store.iter_nodes(label):
            dumped.extend(json.dumps(n.props, ensure_ascii=False) + n.key for n in batch)
    for rel_type in ("SAID", "MENTIONS"):
        dumped.extend(str(e) for e in edges(onto_store, rel_type))
    stored = "\n".join(dumped)
    quarantine = Path(report.quarantine_path).read_text(encoding="utf-8")
    report_json = Path(report.report_path).read_text(encoding="utf-8")
    for where, text in (("store", stored), ("quarantine", quarantine), ("report", report_json),
                        ("logs", caplog.text)):
        assert PHONE not in text and PHONE_SPACED not in text, where
        assert "12345678" not in text, where
    entries = read_quarantine(Path(report.quarantine_path))
    assert {e["row"] for e in entries} == {5, 6, 7}
    assert any("<PHONE>" in e["value"] for e in entries)


def test_text_analysis_failure_quarantines_row(onto_store: GraphStore, tmp_path: Path) -> None:
    pipeline = TextPipeline(StubAnalyser(fail_on="boom"), StubEmbedder(), "stub-embedder")
    path = _texts(tmp_path, [{"customer_id": "T9", "channel": "call", "text": "boom"}])
    [report] = ingest(onto_store, path, tmp_path, text=pipeline)
    assert report.counts["text"]["failed"] == 1 and report.rows_quarantined == 1
    assert report.counts["text"]["utterances"] == 3
